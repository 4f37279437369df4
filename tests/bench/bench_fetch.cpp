// Downloads every package of one rpm-md repo the way `ovirt-bundler build` does (MetadataFetcher,
// then fetch_packages with parallel librepo downloads) and reports the time taken, for comparison
// with `dnf download` (scripts/bench.sh). Not a test.
//   bench_fetch BASEURL CACHE_DIR [JOBS]
extern "C" {
#include <solv/chksum.h>
#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/repo_rpmmd.h>
#include <solv/solv_xfopen.h>
}

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "repo/base/error.hpp"
#include "repo/fetch/package_fetch.hpp"
#include "repo/repos/metadata.hpp"

namespace {

using airgap::repo::PackageRequest;

struct PoolDeleter {
    void operator()(Pool* p) const { pool_free(p); }
};

// Every package of primary.xml with what fetch_packages needs (the bundler gets the same
// fields from its resolution).
std::vector<PackageRequest> all_packages(const airgap::repo::RepoMetadata& md) {
    std::unique_ptr<Pool, PoolDeleter> pool(pool_create());
    Repo* repo = repo_create(pool.get(), md.repo_id.c_str());
    FILE* fp = solv_xfopen(md.primary.c_str(), "r");
    if (!fp) throw airgap::ConfigError("cannot open " + md.primary.string());
    int rc = repo_add_rpmmd(repo, fp, nullptr, 0);
    std::fclose(fp);
    if (rc != 0) throw airgap::ConfigError("cannot read " + md.primary.string() + ": " + pool_errstr(pool.get()));
    std::vector<PackageRequest> out;
    Id p;
    Solvable* s;
    FOR_REPO_SOLVABLES(repo, p, s) {
        PackageRequest r;
        r.repo_id = md.repo_id;
        r.nevra = pool_solvable2str(pool.get(), s);
        unsigned int medianr = 0;
        r.location = solvable_get_location(s, &medianr);
        Id type = 0;
        const char* sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type);
        if (sum) {
            r.checksum = sum;
            r.checksum_type = solv_chksum_type2str(type);
        }
        r.size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
        out.push_back(std::move(r));
    }
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s BASEURL CACHE_DIR [JOBS]\n", argv[0]);
        return 1;
    }
    try {
        int jobs = argc == 4 ? std::stoi(argv[3]) : 4;
        std::filesystem::path cache = argv[2];
        airgap::repo::RepoConfig cfg;
        cfg.id = "bench";
        cfg.name = "bench";
        cfg.baseurls = {argv[1]};
        auto start = std::chrono::steady_clock::now();
        airgap::repo::MetadataFetcher fetcher(cache / "metadata");
        auto md = fetcher.fetch(cfg);
        if (!md) throw airgap::ConfigError("no metadata for " + std::string(argv[1]));
        std::vector<PackageRequest> packages = all_packages(*md);
        double md_took = seconds_since(start);
        start = std::chrono::steady_clock::now();
        auto fetched = airgap::repo::fetch_packages(packages, {{cfg, *md}}, cache, jobs);
        double took = seconds_since(start);
        std::uint64_t bytes = 0;
        for (const auto& f : fetched) bytes += std::filesystem::file_size(f.path);
        double mb = static_cast<double>(bytes) / 1e6;
        std::printf("metadata in %.3f s\n", md_took);
        std::printf("downloaded %zu packages: %.1f MB in %.3f s (%.0f MB/s, %d jobs)\n", fetched.size(), mb, took,
                    mb / took, jobs);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_fetch: %s\n", airgap::describe(e).c_str());
        return airgap::exit_code_of(e);
    }
}
