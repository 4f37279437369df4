// End to end: `ovirt-bundler build` behind a mirror that stalls (tests/e2e/stalling_mirror.py,
// a python3 HTTP server on 127.0.0.1). In a log (stderr is not a terminal here) the stalled
// transfer shows as "stalled", each failed try is one line, --timeout decides when a stalled
// transfer is given up and --retries how often it is tried again.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "tests/shared/server_process.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

class StallingMirror {
public:
    StallingMirror(const fs::path& dir, int stalls)
        : log_(dir / "requests.log"),
          server_({"python3", source_path("tests/e2e/stalling_mirror.py").string(), (world_dir() / "repos").string(),
                   "--suffix", ".rpm", "--stalls", std::to_string(stalls), "--log", log_.string()}) {}
    std::string url() const { return server_.url("http"); }
    /// How often each package was asked for.
    std::map<std::string, int> package_requests() const {
        std::map<std::string, int> n;
        for (const auto& path : lines_of(read_file(log_)))
            if (path.size() > 4 && path.compare(path.size() - 4, 4, ".rpm") == 0) ++n[path];
        return n;
    }

private:
    fs::path log_;
    ServerProcess server_;
};

class ProgressE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        in_ = engine_build_inputs(tmp_.path());
    }

    CommandResult build(const StallingMirror& mirror, const std::vector<std::string>& extra) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), "build", "-m",
                                         (world_dir() / "manifest.yaml").string()};
        for (const auto& arg : world_repo_url_args(mirror.url())) argv.push_back(arg);
        argv.insert(argv.end(),
                    {"--cache", (tmp_.path() / "cache").string(), "--inventory", in_.inventory.string(), "--sign-key",
                     in_.key.string(), "--sign-cert", in_.cert.string(), "-o", (tmp_.path() / "out/").string()});
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    }

    // The lines of `text` that match `pattern`.
    static std::vector<std::string> matching(const std::string& text, const std::string& pattern) {
        std::vector<std::string> out;
        for (const auto& line : lines_of(text))
            if (std::regex_search(line, std::regex(pattern))) out.push_back(line);
        return out;
    }

    TempDir tmp_;
    EngineBuildInputs in_;
};

TEST_F(ProgressE2E, AStalledTransferIsShownAndTriedAgain) {
    StallingMirror mirror(tmp_.path(), 1);
    CommandResult r = build(mirror, {"--timeout", "12"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The log shows the stall while it lasts, then the one failed try, then the package comes.
    auto stalled = matching(r.err, R"(^downloading \d+/\d+ packages, .* of .*, stalled$)");
    EXPECT_FALSE(stalled.empty()) << r.err;
    auto tries = matching(r.err, R"(^package \S+: attempt \d+ failed at )");
    ASSERT_EQ(tries.size(), 1u) << r.err;
    EXPECT_NE(tries[0].find("attempt 1 failed at " + mirror.url()), std::string::npos) << tries[0];
    EXPECT_EQ(r.err.find('\033'), std::string::npos) << "escape codes in a log";
    int twice = 0;
    for (const auto& [path, n] : mirror.package_requests()) twice += n == 2;
    EXPECT_EQ(twice, 1) << read_file(tmp_.path() / "requests.log");
    EXPECT_TRUE(fs::exists(tmp_.path() / "out/bundle.json"));
}

TEST_F(ProgressE2E, TimeoutAndRetriesAreHonoured) {
    StallingMirror mirror(tmp_.path(), 1000);  // every package stalls, every time
    CommandResult r = build(mirror, {"--timeout", "2", "--retries", "0", "--jobs", "2"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(lines_of(r.err).back().find("cannot download package "), std::string::npos) << r.err;
    // --retries 0: no package is asked for twice; each stalled try was given up after --timeout
    // (librepo's words for a transfer below the low-speed limit for that long).
    auto requests = mirror.package_requests();
    ASSERT_FALSE(requests.empty());
    for (const auto& [path, n] : requests) EXPECT_EQ(n, 1) << path;
    auto tries = matching(r.err, R"(: attempt \d+ failed at )");
    ASSERT_FALSE(tries.empty()) << r.err;
    for (const auto& line : tries) {
        EXPECT_NE(line.find(": attempt 1 failed at "), std::string::npos) << line;
        EXPECT_NE(line.find("Operation too slow. Less than 1000 bytes/sec transferred the last 2 seconds"),
                  std::string::npos)
            << line;
    }
    EXPECT_FALSE(fs::exists(tmp_.path() / "out"));
}

TEST_F(ProgressE2E, BadLimitsAreRefusedBeforeAnyDownload) {
    StallingMirror mirror(tmp_.path(), 0);
    CommandResult r = build(mirror, {"--timeout", "0"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(lines_of(r.err).back().find("--timeout: must be at least 1 second"), std::string::npos) << r.err;
    EXPECT_TRUE(mirror.package_requests().empty());
}

}  // namespace
