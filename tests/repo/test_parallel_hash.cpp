// Hashing spread over threads (repo/parallel_hash.hpp) and the verify passes built on it: every
// file's mismatch is found whichever thread hashed it, failures and interruptions stop all threads.
#include "repo/parallel_hash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "repo/archive.hpp"
#include "repo/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
namespace fs = std::filesystem;

namespace {

// Spins until the pipeline asks it to stop (or, should that never happen, for 10 seconds).
void wait_for_stop(WorkerProgress& progress) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!progress.stopping() && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

struct Recorder : ArchiveCallbacks {
    std::uint64_t last = 0, total = 0;
    bool answer = true;
    bool bytes(std::uint64_t done, std::uint64_t all) override {
        last = done;
        total = all;
        return answer;
    }
};

}  // namespace

TEST(ParallelHash, EveryTaskRunsOnItsOwnThreadAndProgressAddsUp) {
    Recorder cb;
    std::mutex m;
    std::set<unsigned> tasks;
    std::set<std::thread::id> threads;
    run_parallel(3, 3000, cb, [&](unsigned k, WorkerProgress& progress) {
        for (int i = 0; i < 10; ++i) progress.add(100);
        std::lock_guard<std::mutex> lock(m);
        tasks.insert(k);
        threads.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(tasks, (std::set<unsigned>{0, 1, 2}));
    EXPECT_EQ(threads.size(), 3u);
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
    EXPECT_EQ(cb.last, 3000u) << "the last report is the whole";
    EXPECT_EQ(cb.total, 3000u);
}

TEST(ParallelHash, TheFirstFailureIsRethrownAndStopsTheOthers) {
    Recorder cb;
    bool others_stopped = true;
    try {
        run_parallel(2, 0, cb, [&](unsigned k, WorkerProgress& progress) {
            if (k == 0) throw BundleRefused("checksum mismatch for 'a'");
            wait_for_stop(progress);
            if (!progress.stopping()) others_stopped = false;
            throw Interrupted("stopped");  // as hash_file() does when told to stop
        });
        ADD_FAILURE() << "no exception";
    } catch (const BundleRefused& e) {
        EXPECT_STREQ(e.what(), "checksum mismatch for 'a'");
    }
    EXPECT_TRUE(others_stopped);
}

TEST(ParallelHash, ProgressAnsweringFalseInterruptsEveryThread) {
    Recorder cb;
    cb.answer = false;
    std::atomic<int> stopped{0};
    EXPECT_THROW(run_parallel(2, 100, cb,
                              [&](unsigned, WorkerProgress& progress) {
                                  wait_for_stop(progress);
                                  if (progress.stopping()) ++stopped;
                              }),
                 Interrupted);
    EXPECT_EQ(stopped.load(), 2);
}

TEST(ParallelHash, OneThreadPerCoreOnAnOrdinaryDisk) {
    test::TempDir dir;
    unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    EXPECT_EQ(hashing_threads(dir.path()), cores);
    EXPECT_EQ(hashing_threads(dir.path() / "does-not-exist"), cores);
}

// Whichever thread a file falls to, its mismatch is found and named, in a tar and in an ISO.
TEST(ParallelHash, AMismatchInAnyFileOfAnArchiveIsFound) {
    test::TempDir dir;
    fs::path tree = dir.path() / "tree";
    std::vector<std::string> names;
    for (int i = 0; i < 24; ++i) {
        std::string name = "repos/r/Packages/p" + std::to_string(100 + i) + ".rpm";
        test::write_random_file(tree / name, 1000 + 7919 * i, i);
        names.push_back(name);
    }
    ExpectedFiles good;
    for (const auto& n : names) good[n] = hash_file(tree / n);
    for (const char* archive_name : {"b.tar", "b.iso"}) {
        SCOPED_TRACE(archive_name);
        fs::path archive = dir.path() / archive_name;
        pack(tree, archive, "X");
        EXPECT_NO_THROW(verify_archive(archive, good));
        for (std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{12}, names.size() - 1}) {
            ExpectedFiles bad = good;
            bad[names[i]].sha256 = sha256_hex("tampered");
            try {
                verify_archive(archive, bad);
                ADD_FAILURE() << "not refused: " << names[i];
            } catch (const BundleRefused& e) {
                EXPECT_EQ(std::string(e.what()), "checksum mismatch for '" + names[i] + "'");
            }
        }
    }
}
