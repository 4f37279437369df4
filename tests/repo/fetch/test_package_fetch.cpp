// Package downloads with librepo from a real HTTP server serving a createrepo_c repo of rpmbuild packages.
#include "repo/fetch/package_fetch.hpp"

#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "repo/base/error.hpp"
#include "repo/repos/metadata.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/rpm_fixture.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;
using test::must;
using test::read_file;
using test::run_command;
using test::write_file;

constexpr std::size_t kPayload = 300000;  // random, so each rpm is about this big

// Built once per test process: a repo of three packages, with createrepo_c metadata.
struct Repo {
    test::TempDir tmp;
    fs::path dir;
    std::vector<PackageRequest> packages;

    Repo() {
        dir = tmp.path() / "repo";
        for (const char* name : {"pkga", "pkgb", "pkgc"}) {
            const std::string n = name;
            const fs::path rpm = test::build_tiny_rpm(
                tmp.path(), {n, "1.0", "",
                             "mkdir -p %{buildroot}/usr/share/" + n + "\nhead -c " + std::to_string(kPayload) +
                                 " /dev/urandom > %{buildroot}/usr/share/" + n + "/data\n",
                             "/usr/share/" + n + "/data\n"});
            fs::create_directories(dir / "Packages");
            fs::copy_file(rpm, dir / "Packages" / (n + "-1.0-1.noarch.rpm"));
            PackageRequest p;
            p.repo_id = "test";
            p.nevra = n + "-1.0-1.noarch";
            p.location = "Packages/" + n + "-1.0-1.noarch.rpm";
            p.checksum_type = "sha256";
            p.checksum = run_command({"sha256sum", (dir / p.location).string()}).out.substr(0, 64);
            p.size = fs::file_size(dir / p.location);
            packages.push_back(p);
        }
        must({"createrepo_c", "--quiet", dir.string()});
    }
};

Repo& repo() {
    static std::unique_ptr<Repo> r(new Repo);
    return *r;
}

// Metadata fetched the way the bundler does it, so base_url is what MetadataFetcher reports.
struct Fixture {
    test::TempDir cache;
    test::HttpServer server{repo().dir};
    RepoConfig config;
    std::vector<RepoMetadata> metadata;

    Fixture() {
        config.id = "test";
        config.baseurls = {server.url() + "/"};
        MetadataFetcher fetcher(cache.path() / "metadata");
        metadata.push_back(*fetcher.fetch(config));
        server.clear_requests();
    }

    std::vector<FetchedPackage> fetch(Reporter* cb = nullptr, int jobs = 3) {
        return fetch_packages(repo().packages, {{config, metadata[0]}}, cache.path(), jobs, cb);
    }

    std::string error(Reporter* cb = nullptr) {
        return test::error_of<ConfigError>([&] { fetch(cb); }, 1);
    }

    fs::path cached(const std::string& name) const {
        return cache.path() / "packages" / "test" / (name + "-1.0-1.noarch.rpm");
    }
    std::string url_of(const std::string& name) const {
        return server.url() + "/Packages/" + name + "-1.0-1.noarch.rpm";
    }
};

struct Recorder : Reporter {
    std::uint64_t done_bytes = 0, total_bytes = 0;
    std::size_t done_files = 0, total_files = 0, calls = 0;
    std::vector<std::string> lines;
    void progress(const Progress& p) override {
        EXPECT_LE(p.done, p.total);
        EXPECT_LE(p.done_items, p.total_items);
        done_bytes = p.done, total_bytes = p.total, done_files = p.done_items, total_files = p.total_items;
        ++calls;
    }
    void message(const std::string& line) override { lines.push_back(line); }
};

// What a killed run leaves: a partial file that librepo marked as its own download in progress
// (librepo resumes only such files). False where the file system has no user xattrs.
bool leave_partial(const fs::path& part, const std::string& bytes) {
    write_file(part, bytes);
    const char value[] = "1";
    return setxattr(part.c_str(), "user.Librepo.DownloadInProgress", value, 1, 0) == 0;
}

std::size_t count(const std::vector<std::string>& v, const std::string& s) {
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), s));
}

TEST(PackageFetch, DownloadsEveryPackageCheckedIntoTheCache) {
    Fixture f;
    Recorder rec;
    auto fetched = f.fetch(&rec);
    ASSERT_EQ(fetched.size(), 3u);
    for (std::size_t i = 0; i < fetched.size(); ++i) {
        const auto& p = repo().packages[i];
        EXPECT_EQ(fetched[i].request.nevra, p.nevra);
        EXPECT_EQ(fetched[i].path, f.cache.path() / "packages" / "test" / fs::path(p.location).filename());
        EXPECT_EQ(read_file(fetched[i].path), read_file(repo().dir / p.location));
        EXPECT_EQ(count(f.server.requests(), "/" + p.location), 1u);
        EXPECT_FALSE(fs::exists(fetched[i].path.string() + ".part"));
    }
    // rpm agrees the files are intact.
    test::TempDir db;
    for (const auto& p : fetched)
        EXPECT_EQ(run_command({"rpmkeys", "--dbpath", db.path().string(), "--checksig", p.path.string()}).exit_code, 0);
    EXPECT_EQ(rec.done_files, 3u);
    EXPECT_EQ(rec.total_files, 3u);
    EXPECT_EQ(rec.done_bytes, rec.total_bytes);
    EXPECT_GE(rec.total_bytes, 3 * kPayload);
    EXPECT_GT(rec.calls, 3u);
}

TEST(PackageFetch, SecondRunDownloadsNothing) {
    Fixture f;
    f.fetch();
    f.server.clear_requests();
    Recorder rec;
    auto fetched = f.fetch(&rec);
    EXPECT_EQ(fetched.size(), 3u);
    EXPECT_EQ(f.server.requests(), std::vector<std::string>{});
    EXPECT_EQ(rec.done_files, 3u);
    EXPECT_EQ(rec.done_bytes, rec.total_bytes);
}

TEST(PackageFetch, OnlyMissingOrDamagedCacheFilesAreDownloaded) {
    Fixture f;
    f.fetch();
    fs::remove(f.cached("pkga"));
    std::string bytes = read_file(f.cached("pkgb"));
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    write_file(f.cached("pkgb"), bytes);
    f.server.clear_requests();
    auto fetched = f.fetch();
    auto requests = f.server.requests();
    std::sort(requests.begin(), requests.end());
    EXPECT_EQ(requests,
              (std::vector<std::string>{"/Packages/pkga-1.0-1.noarch.rpm", "/Packages/pkgb-1.0-1.noarch.rpm"}));
    EXPECT_EQ(read_file(f.cached("pkgb")), read_file(repo().dir / repo().packages[1].location));
}

TEST(PackageFetch, CorruptPackageIsNamed) {
    Fixture f;
    const auto& p = repo().packages[1];
    std::string bytes = read_file(repo().dir / p.location);
    bytes[1000] = static_cast<char>(bytes[1000] ^ 0x01);
    f.server.serve_bytes("/" + p.location, bytes);
    EXPECT_EQ(f.error(), "corrupt package pkgb-1.0-1.noarch from " + f.url_of("pkgb") + ": checksum mismatch");
    // Nothing bad is left in the cache, and good packages are kept for the next run.
    EXPECT_FALSE(fs::exists(f.cached("pkgb")));
    EXPECT_FALSE(fs::exists(f.cached("pkgb").string() + ".part"));
    EXPECT_TRUE(fs::exists(f.cached("pkga")));
    f.server.clear_faults();
    f.server.clear_requests();
    EXPECT_EQ(f.fetch().size(), 3u);
    EXPECT_EQ(f.server.requests(), std::vector<std::string>{"/" + p.location});
}

TEST(PackageFetch, WrongSizeIsCorrupt) {
    Fixture f;
    const auto& p = repo().packages[2];
    f.server.serve_bytes("/" + p.location, read_file(repo().dir / p.location) + "trailing junk");
    std::string what = f.error();
    EXPECT_EQ(what.rfind("corrupt package pkgc-1.0-1.noarch from " + f.url_of("pkgc") + ": ", 0), 0u) << what;
    EXPECT_FALSE(fs::exists(f.cached("pkgc")));
}

TEST(PackageFetch, MissingPackageIsNamed) {
    Fixture f;
    f.server.fail_with("/" + repo().packages[0].location, 404);
    std::string what = f.error();
    EXPECT_EQ(what.rfind("cannot download package pkga-1.0-1.noarch from " + f.url_of("pkga") + ": ", 0), 0u) << what;
    EXPECT_NE(what.find("404"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(PackageFetch, UnreachableRepoIsAConfigError) {
    Fixture f;
    std::string dead;
    {
        test::HttpServer gone(repo().dir);  // a port that was free a moment ago and is closed now
        dead = gone.url() + "/";
    }
    f.metadata[0].base_url = dead;
    f.config.baseurls = {dead};
    std::string what = f.error();
    EXPECT_EQ(
        what.rfind("cannot download package pkga-1.0-1.noarch from " + dead + "Packages/pkga-1.0-1.noarch.rpm: ", 0),
        0u)
        << what;
}

TEST(PackageFetch, BrokenTransferIsRetried) {
    Fixture f;
    const auto& p = repo().packages[0];
    const std::string path = "/" + p.location;
    f.server.cut_after(path, 100000);
    // The first attempt breaks mid-body; the fault is gone before the retry.
    std::atomic<bool> stop{false};
    std::thread healer([&] {
        while (!stop && count(f.server.requests(), path) == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        f.server.clear_faults();
    });
    Recorder rec;
    std::vector<FetchedPackage> fetched;
    try {
        fetched = f.fetch(&rec);
    } catch (...) {
        stop = true;
        healer.join();
        throw;
    }
    stop = true;
    healer.join();
    EXPECT_EQ(read_file(fetched[0].path), read_file(repo().dir / p.location));
    EXPECT_EQ(count(f.server.requests(), path), 2u);
    EXPECT_EQ(rec.done_bytes, rec.total_bytes);
}

TEST(PackageFetch, TransferThatKeepsBreakingIsAClearError) {
    Fixture f;
    const auto& p = repo().packages[0];
    f.server.cut_after("/" + p.location, 100000);
    std::string what = f.error();
    EXPECT_EQ(what.rfind("cannot download package pkga-1.0-1.noarch from " + f.url_of("pkga") +
                             ": Curl error (18): Transferred a partial file",
                         0),
              0u)
        << what;
    EXPECT_FALSE(fs::exists(f.cached("pkga")));
    f.server.clear_faults();
    auto fetched = f.fetch();
    EXPECT_EQ(read_file(fetched[0].path), read_file(repo().dir / p.location));
}

// --retries: each failed try is one line; a transfer that keeps breaking is tried retries + 1
// times on its only mirror, then the build fails.
TEST(PackageFetch, RetriesAreHonouredAndEachFailedTryIsOneLine) {
    for (int retries : {0, 2}) {
        Fixture f;
        const auto& p = repo().packages[0];
        const std::string path = "/" + p.location;
        f.server.cut_after(path, 100000);
        Recorder rec;
        TransferLimits limits;
        limits.retries = retries;
        EXPECT_THROW(fetch_packages(repo().packages, {{f.config, f.metadata[0]}}, f.cache.path(), 3, &rec, limits),
                     ConfigError);
        EXPECT_EQ(count(f.server.requests(), path), static_cast<std::size_t>(retries + 1)) << retries;
        std::vector<std::string> tries;
        for (const auto& l : rec.lines)
            if (l.rfind("package pkga-1.0-1.noarch: attempt ", 0) == 0) tries.push_back(l);
        ASSERT_EQ(tries.size(), static_cast<std::size_t>(retries + 1)) << retries;
        const std::string first = "package pkga-1.0-1.noarch: attempt 1 failed at " + f.url_of("pkga") +
                                  ": Curl error (18): Transferred a partial file [transfer closed with ";
        EXPECT_EQ(tries.front().rfind(first, 0), 0u) << tries.front();
        EXPECT_EQ(
            tries.back().rfind("package pkga-1.0-1.noarch: attempt " + std::to_string(retries + 1) + " failed", 0), 0u)
            << tries.back();
    }
}

TEST(PackageFetch, BadLimitsAreRefused) {
    Fixture f;
    TransferLimits limits;
    limits.timeout_s = 0;
    EXPECT_THROW(fetch_packages(repo().packages, {{f.config, f.metadata[0]}}, f.cache.path(), 3, nullptr, limits),
                 ConfigError);
}

TEST(PackageFetch, InterruptedDownloadResumes) {
    Fixture f;
    const auto& p = repo().packages[0];
    const std::string bytes = read_file(repo().dir / p.location);
    if (!leave_partial(f.cached("pkga").string() + ".part", bytes.substr(0, 100000)))
        GTEST_SKIP() << "no user xattrs here";
    // A full transfer would break after 250000 bytes; only a resumed (ranged) one fits.
    ASSERT_GT(bytes.size(), 250000u);
    ASSERT_LT(bytes.size() - 100000, 250000u);
    f.server.cut_after("/" + p.location, 250000);
    auto fetched = f.fetch();
    EXPECT_EQ(read_file(fetched[0].path), bytes);
    EXPECT_EQ(count(f.server.requests(), "/" + p.location), 1u);
    EXPECT_FALSE(fs::exists(f.cached("pkga").string() + ".part"));
}

TEST(PackageFetch, DamagedPartialDownloadStartsAgain) {
    Fixture f;
    const auto& p = repo().packages[0];
    if (!leave_partial(f.cached("pkga").string() + ".part", std::string(100000, 'x')))
        GTEST_SKIP() << "no user xattrs here";
    auto fetched = f.fetch();
    EXPECT_EQ(read_file(fetched[0].path), read_file(repo().dir / p.location));
    EXPECT_EQ(count(f.server.requests(), "/" + p.location), 2u);  // resumed, bad, then from the start
    EXPECT_FALSE(fs::exists(f.cached("pkga").string() + ".part"));
}

TEST(PackageFetch, SeveralReposInOneBatch) {
    Fixture f;
    test::HttpServer second(repo().dir);
    RepoConfig other;
    other.id = "other";
    other.baseurls = {second.url() + "/"};
    RepoMetadata other_md = f.metadata[0];
    other_md.repo_id = "other";
    other_md.base_url = second.url() + "/";
    auto packages = repo().packages;
    packages[2].repo_id = "other";
    auto fetched = fetch_packages(packages, {{f.config, f.metadata[0]}, {other, other_md}}, f.cache.path(), 2);
    EXPECT_EQ(fetched[2].path, f.cache.path() / "packages" / "other" / "pkgc-1.0-1.noarch.rpm");
    EXPECT_EQ(read_file(fetched[2].path), read_file(repo().dir / packages[2].location));
    EXPECT_EQ(second.requests(), std::vector<std::string>{"/" + packages[2].location});
    EXPECT_EQ(count(f.server.requests(), "/" + packages[2].location), 0u);
}

TEST(PackageFetch, NextMirrorWhenTheFirstFails) {
    Fixture f;
    test::HttpServer mirror(repo().dir);
    const auto& p = repo().packages[1];
    f.server.fail_with("/" + p.location, 503);
    f.config.baseurls.push_back(mirror.url() + "/");
    auto fetched = f.fetch();
    EXPECT_EQ(read_file(fetched[1].path), read_file(repo().dir / p.location));
    EXPECT_EQ(mirror.requests(), std::vector<std::string>{"/" + p.location});
}

TEST(PackageFetch, CallbackCanInterrupt) {
    struct Stop : Reporter {
        bool cancelled() override { return true; }
    } stop;
    Fixture f;
    try {
        f.fetch(&stop);
        FAIL() << "not interrupted";
    } catch (const Interrupted& e) {
        EXPECT_EQ(e.exit_code(), 130);
    }
}

// Ctrl-C after the first package came: it is in the cache, and the next run asks only for the rest.
TEST(PackageFetch, AnInterruptedBatchKeepsWhatCameInFull) {
    struct StopAfterOne : Reporter {
        bool one = false;
        void progress(const Progress& p) override { one = p.done_items >= 1; }
        bool cancelled() override { return one; }
    } stop;
    Fixture f;
    EXPECT_THROW(f.fetch(&stop, 1), Interrupted);
    std::vector<std::string> kept;
    for (const auto& p : repo().packages)
        if (fs::exists(f.cache.path() / "packages/test" / fs::path(p.location).filename())) kept.push_back(p.location);
    ASSERT_EQ(kept.size(), 1u);
    f.server.clear_requests();
    auto fetched = f.fetch();
    for (const auto& p : fetched) EXPECT_EQ(read_file(p.path), read_file(repo().dir / p.request.location));
    EXPECT_EQ(count(f.server.requests(), "/" + kept[0]), 0u) << "downloaded again";
    EXPECT_EQ(f.server.requests().size(), repo().packages.size() - 1);
}

TEST(PackageFetch, BadRequestsAreRefused) {
    Fixture f;
    auto bad = repo().packages;
    bad[0].checksum_type = "crc32";
    try {
        fetch_packages(bad, {{f.config, f.metadata[0]}}, f.cache.path(), 2);
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "package pkga-1.0-1.noarch: repo test gives no usable checksum (type 'crc32')");
    }
    // More jobs than librepo allows (20) is not an error.
    EXPECT_EQ(fetch_packages(repo().packages, {{f.config, f.metadata[0]}}, f.cache.path(), 64).size(), 3u);
    auto twice = repo().packages;
    twice.push_back(twice[0]);
    auto fetched = fetch_packages(twice, {{f.config, f.metadata[0]}}, f.cache.path(), 2);
    ASSERT_EQ(fetched.size(), 4u);
    EXPECT_EQ(fetched[3].path, fetched[0].path);
    EXPECT_EQ(count(f.server.requests(), "/" + twice[0].location), 1u);
}

}  // namespace
}  // namespace airgap::repo
