// Hashing spread over threads (repo/archive/parallel_hash.hpp) and the verify passes built on it: every
// file's mismatch is found whichever thread hashed it, failures and interruptions stop all threads.
#include "repo/archive/parallel_hash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "repo/archive/archive.hpp"
#include "repo/base/error.hpp"
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

struct Recorder : Reporter {
    std::uint64_t last = 0, total = 0;
    bool answer = true;
    void progress(const Progress& p) override {
        last = p.done;
        total = p.total;
    }
    bool cancelled() override { return !answer; }
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

TEST(ParallelHash, ThreadsAreOnePerCoreAtMostFour) {
    test::TempDir dir;
    unsigned n = hashing_threads(dir.path());
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, 4u);
    unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    EXPECT_EQ(hashing_threads(dir.path() / "does-not-exist"), cores) << "no device, nothing to seek";
}

// sysfs as the kernel lays it out, in a temporary directory: devices under devices/, the
// /sys/dev/block/MAJ:MIN entries as symbolic links to them.
struct FakeSysfs {
    test::TempDir dir;
    fs::path device(const std::string& path, int rotational) {
        fs::path d = dir.path() / "devices" / path;
        fs::create_directories(d / "queue");
        if (rotational >= 0) test::write_file(d / "queue/rotational", std::to_string(rotational) + "\n");
        return d;
    }
    fs::path partition(const fs::path& disk, const std::string& name) {
        fs::create_directories(disk / name);
        return disk / name;
    }
    fs::path stacked(const std::string& name, const std::vector<fs::path>& slaves, int rotational) {
        fs::path d = device("virtual/block/" + name, rotational);
        fs::create_directories(d / "slaves");
        for (const auto& s : slaves) fs::create_directory_symlink(s, d / "slaves" / s.filename());
        return d;
    }
};

TEST(ParallelHash, SlowToSeekFollowsWhatTheKernelSaysOfTheDevice) {
    FakeSysfs sys;
    fs::path sda = sys.device("pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda", 1);
    fs::path sr0 = sys.device("pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sr0", 1);
    fs::path usb = sys.device("pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb", 1);
    fs::path nvme = sys.device("pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1", 0);
    fs::path vda = sys.device("pci0000:00/0000:00:04.0/virtio1/block/vda", 1);
    EXPECT_TRUE(slow_to_seek(sda)) << "a spinning disk";
    EXPECT_TRUE(slow_to_seek(sys.partition(sda, "sda1"))) << "a partition is its disk";
    EXPECT_TRUE(slow_to_seek(sr0)) << "an optical drive";
    EXPECT_TRUE(slow_to_seek(usb)) << "USB storage that says it is rotational";
    EXPECT_FALSE(slow_to_seek(nvme));
    EXPECT_FALSE(slow_to_seek(vda)) << "virtio says rotational whatever backs it";
    EXPECT_FALSE(slow_to_seek(sys.partition(vda, "vda2")));
    // LVM (EL7's default install): as the disks it stacks on.
    EXPECT_FALSE(slow_to_seek(sys.stacked("dm-0", {sys.partition(vda, "vda2")}, 1)));
    EXPECT_TRUE(slow_to_seek(sys.stacked("dm-1", {sys.partition(sda, "sda2")}, 1)));
    EXPECT_TRUE(slow_to_seek(sys.stacked("md0", {nvme, sda}, 1))) << "a mirror with a spinning half";
    EXPECT_FALSE(slow_to_seek(sys.dir.path() / "dev/block/0:42")) << "no such device: no opinion";
    fs::path link = sys.dir.path() / "dev/block/8:0";
    fs::create_directories(link.parent_path());
    fs::create_directory_symlink(sda, link);
    EXPECT_TRUE(slow_to_seek(link)) << "found through /sys/dev/block/MAJ:MIN";
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
