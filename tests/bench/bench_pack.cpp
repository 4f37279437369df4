// Packs a tree into an .iso or .tar with the bundler's writer and reports the time taken, for
// comparison with `xorriso -as mkisofs -R -J` (scripts/bench.sh). Not a test.
// --hash first hashes every file of the tree with hash_file(), as `ovirt-bundler build` hashes
// what it carries (there while copying into the bundle tree, here in a pass of its own).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    bool hash = argc > 1 && std::strcmp(argv[1], "--hash") == 0;
    int first = hash ? 2 : 1;
    int args = argc - first;
    if (args < 2 || args > 3) {
        std::fprintf(stderr, "usage: %s [--hash] TREE OUT.iso|OUT.tar [VOLUME_LABEL]\n", argv[0]);
        return 1;
    }
    const char* tree = argv[first];
    const char* out = argv[first + 1];
    try {
        if (hash) {
            auto start = std::chrono::steady_clock::now();
            std::uint64_t bytes = 0;
            std::size_t files = 0;
            for (const auto& entry : airgap::repo::scan_tree(tree)) {
                if (entry.type != airgap::repo::ArchiveEntry::Type::file) continue;
                bytes += airgap::repo::hash_file(std::filesystem::path(tree) / entry.path).size;
                ++files;
            }
            double took = seconds_since(start);
            double mb = static_cast<double>(bytes) / 1e6;
            std::printf("hashed %zu files: %.1f MB in %.3f s (%.0f MB/s)\n", files, mb, took, mb / took);
        }
        auto start = std::chrono::steady_clock::now();
        airgap::repo::pack(tree, out, args == 3 ? argv[first + 2] : "BENCH");
        double took = seconds_since(start);
        struct stat st {};
        ::stat(out, &st);
        double mb = static_cast<double>(st.st_size) / 1e6;
        std::printf("packed %s: %.1f MB in %.3f s (%.0f MB/s)\n", out, mb, took, mb / took);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_pack: %s\n", airgap::describe(e).c_str());
        return airgap::exit_code_of(e);
    }
}
