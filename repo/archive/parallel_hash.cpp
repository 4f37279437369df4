#include "repo/archive/parallel_hash.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/base/error.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

constexpr unsigned kMaxThreads = 4;
constexpr auto kProgressEvery = std::chrono::milliseconds(100);

}  // namespace

bool slow_to_seek(const fs::path& device_dir, int depth) {
    if (depth > 8) return false;  // stacked deeper than any real setup: no opinion
    std::error_code ec;
    fs::path dir = fs::canonical(device_dir, ec);
    if (ec) return false;
    // virtio-blk claims to be rotational whatever backs it; a VM's disk is what it is given.
    if (dir.string().find("/virtio") != std::string::npos) return false;
    // device-mapper and md (LVM, as EL7 installs by default): as slow as what they stack on.
    if (fs::is_directory(dir / "slaves", ec) && !fs::is_empty(dir / "slaves", ec)) {
        for (const auto& slave : fs::directory_iterator(dir / "slaves", ec))
            if (slow_to_seek(slave.path(), depth + 1)) return true;
        return false;
    }
    // A partition has no queue/ of its own: its disk, one level up, has.
    for (const fs::path& d : {dir, dir.parent_path()}) {
        std::ifstream in(d / "queue" / "rotational");
        int rotational = 0;
        if (in >> rotational) return rotational != 0;
    }
    return false;
}

unsigned hashing_threads(const fs::path& source) {
    unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
    if (cores == 1 || source.empty()) return cores;
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) return cores;
    dev_t dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    // No block device behind it (tmpfs, overlay, NFS): nothing to seek.
    fs::path device = "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
    return slow_to_seek(device) ? 1 : cores;
}

void run_parallel(unsigned threads, std::uint64_t total, Reporter& callbacks,
                  const std::function<void(unsigned, WorkerProgress&)>& task) {
    threads = std::max(threads, 1u);
    WorkerProgress progress;
    std::mutex mutex;
    std::condition_variable finished;
    unsigned running = threads;
    std::exception_ptr failure;

    auto work = [&](unsigned k) {
        try {
            task(k, progress);
        } catch (...) {
            {
                // Recorded before the others are stopped, so that theirs ("interrupted") is not
                // taken for the cause.
                std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::current_exception();
            }
            progress.stop();
        }
        std::lock_guard<std::mutex> lock(mutex);
        --running;
        finished.notify_all();
    };

    bool interrupted = false;
    {
        std::vector<std::thread> workers;
        // Should starting a thread fail, the ones running are stopped and joined first.
        struct Joiner {
            std::vector<std::thread>& w;
            WorkerProgress& p;
            ~Joiner() {
                for (auto& t : w)
                    if (t.joinable()) {
                        p.stop();
                        t.join();
                    }
            }
        } joiner{workers, progress};
        for (unsigned k = 0; k < threads; ++k) workers.emplace_back(work, k);

        std::unique_lock<std::mutex> lock(mutex);
        while (!finished.wait_for(lock, kProgressEvery, [&] { return running == 0; })) {
            lock.unlock();
            if (!progress.stopping() && !report(callbacks, {"verifying", progress.done(), total})) {
                interrupted = true;
                progress.stop();
            }
            lock.lock();
        }
        lock.unlock();
        for (auto& t : workers) t.join();
    }
    if (failure) std::rethrow_exception(failure);
    if (interrupted || progress.stopping()) throw Interrupted("verification interrupted");
    if (!report(callbacks, {"verifying", progress.done(), total})) throw Interrupted("verification interrupted");
}

}  // namespace airgap::repo
