#pragma once
// Verifying a bundle at more than one core's SHA-256 speed (scripts/bench.sh). One core
// hashes SHA-256 at about 2 GB/s while reading from the page cache copies at about 10 GB/s:
// hashing is the bottleneck, and a single file's SHA-256 cannot be split. So whole files are
// spread over threads, each reading and hashing its own files: every byte is still read once,
// by one thread, and nothing is handed between threads (a reader thread feeding hashers was
// measured slower: it serialises on the file being read and pays for the hand-offs).
//
// The calling thread only reports progress and stops the workers when asked to.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "repo/archive/archive.hpp"

namespace airgap::repo {

/// What worker threads of run_parallel() share with the thread that reports progress.
class WorkerProgress {
public:
    /// `bytes` more were hashed.
    void add(std::uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
    /// True once the work is being abandoned (interrupted, or another worker failed): return
    /// soon, results do not matter any more.
    bool stopping() const { return stop_.load(std::memory_order_relaxed); }

    std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }
    void stop() { stop_.store(true, std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> done_{0};
    std::atomic<bool> stop_{false};
};

/// How many threads should hash files read from `source` (a file or directory): one per core,
/// at most 4; one when `source` lies on a device that is slow to seek (slow_to_seek()): there
/// threads reading different files would make it seek back and forth, and one core hashes
/// faster than such a device reads anyway.
unsigned hashing_threads(const std::filesystem::path& source);

/// Whether the block device whose sysfs directory is `device_dir` (/sys/dev/block/MAJ:MIN) is
/// slow to seek: a rotational disk or optical drive, or USB storage that says it is rotational
/// (most do); a partition as its disk; device-mapper and md as any device they stack on. Not a
/// virtio disk (a VM's: it always says rotational), and not anything sysfs does not describe.
bool slow_to_seek(const std::filesystem::path& device_dir, int depth = 0);

/// Runs `task(k, progress)` for k = 0 .. threads-1, each on its own thread,
/// while the calling thread reports progress ("verifying", done of total) to `callbacks` about every
/// 100 ms and once at the end. When its cancelled() says so the workers are stopped and
/// airgap::Interrupted is thrown; when a task throws, the others are stopped and the first
/// exception is rethrown once all have returned.
void run_parallel(unsigned threads, std::uint64_t total, Reporter& callbacks,
                  const std::function<void(unsigned k, WorkerProgress& progress)>& task);

}  // namespace airgap::repo
