#include "repo/package_fetch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <system_error>

#include "repo/error.hpp"
#include "repo/librepo_handle.hpp"
#include "repo/librepo_packages.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;

struct Batch;

// One file to download: shared by the requests that name the same cache file.
struct Job {
    const PackageRequest* request = nullptr;
    fs::path dest;  // the cache file
    fs::path part;  // where librepo writes (and resumes); renamed to dest when complete
    std::string base_url;
    Batch* batch = nullptr;
    double now = 0;  // bytes librepo reported for this transfer
    bool done = false;
    // librepo retries a failed transfer itself (LRO_ALLOWEDMIRRORFAILURES per mirror, a failed
    // resume from the start): these describe the last failure it reported.
    std::string failure;
    std::string failure_url;
    bool corrupt = false;  // checksum or size mismatch
};

// The whole download, for the progress callback.
struct Batch {
    DownloadCallbacks* callbacks = nullptr;
    std::uint64_t total_bytes = 0;
    std::uint64_t done_bytes = 0;  // files complete (cached or downloaded)
    double in_flight = 0;          // bytes of transfers still running
    std::size_t total_files = 0;
    std::size_t done_files = 0;
    bool aborted = false;

    int report() {
        auto bytes = done_bytes + static_cast<std::uint64_t>(std::max(0.0, in_flight));
        if (!callbacks->progress(std::min(bytes, total_bytes), total_bytes, done_files, total_files)) {
            aborted = true;
            return LR_CB_ABORT;
        }
        return LR_CB_OK;
    }
};

int on_progress(void* data, double /*total*/, double now) {
    auto* job = static_cast<Job*>(data);
    job->batch->in_flight += now - job->now;
    job->now = now;
    return job->batch->report();
}

int on_end(void* data, LrTransferStatus status, const char* msg) {
    auto* job = static_cast<Job*>(data);
    Batch& batch = *job->batch;
    batch.in_flight -= job->now;
    job->now = 0;
    if (status == LR_TRANSFER_ERROR) {
        if (job->failure.empty()) job->failure = lr::one_line(msg ? msg : "download failed");
        return LR_CB_OK;
    }
    job->done = true;
    batch.done_bytes += job->request->size;
    ++batch.done_files;
    return batch.report();
}

int on_mirror_failure(void* data, const char* msg, const char* url) {
    auto* job = static_cast<Job*>(data);
    job->failure = lr::one_line(msg ? msg : "download failed");
    if (url) job->failure_url = url;
    // librepo reports a bad checksum or size only here; its final error just says "cannot download".
    const std::string& m = job->failure;
    job->corrupt = m.find("hecksum") != std::string::npos || m.find("size") != std::string::npos ||
                   m.find("Content-Length") != std::string::npos;
    return LR_CB_OK;
}

std::string join_url(const std::string& base, const std::string& location) {
    if (base.empty()) return location;
    if (base.size() >= location.size() && base.compare(base.size() - location.size(), location.size(), location) == 0)
        return base;  // librepo sometimes reports the full URL already
    return base.back() == '/' ? base + location : base + "/" + location;
}

// Does the file at `path` exist with the checksum the metadata gives?
bool has_checksum(const fs::path& path, LrChecksumType type, const std::string& checksum) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    gboolean matches = FALSE;
    lr::GErrorSlot err;
    // No xattr caching: a file changed in place keeps failing here rather than being trusted.
    bool ok = lr_checksum_fd_cmp(type, fd, checksum.c_str(), FALSE, &matches, err.out());
    ::close(fd);
    return ok && matches;
}

lr::Handle make_handle(const RepoConfig* repo, const std::string& base_url, int jobs) {
    lr::Handle h;
    h.set(LRO_REPOTYPE, LR_YUMREPO);
    // The URL that served the metadata first, then the repo's own mirrors as fallback.
    std::vector<std::string> urls;
    if (!base_url.empty()) urls.push_back(base_url);
    if (repo) {
        for (const auto& u : repo->baseurls)
            if (std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
    }
    lr::CStrings curls(urls);
    if (!urls.empty()) h.set(LRO_URLS, curls.get());
    if (repo && !repo->metalink.empty()) {
        h.set(LRO_METALINKURL, repo->metalink.c_str());
    } else if (repo && !repo->mirrorlist.empty()) {
        h.set(LRO_MIRRORLISTURL, repo->mirrorlist.c_str());
    }
    // librepo refuses more than LRO_MAXPARALLELDOWNLOADS_MAX (20) parallel downloads.
    const long parallel =
        std::clamp(static_cast<long>(jobs), LRO_MAXPARALLELDOWNLOADS_MIN, LRO_MAXPARALLELDOWNLOADS_MAX);
    h.set(LRO_MAXPARALLELDOWNLOADS, parallel);
    h.set(LRO_MAXDOWNLOADSPERMIRROR, parallel);
    h.set(LRO_INTERRUPTIBLE, 0L);  // the executables own signal handling
    return h;
}

std::string size_text(std::uint64_t bytes) {
    char buf[32];
    if (bytes >= std::uint64_t{1024} * 1024)
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    else
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
    return buf;
}

}  // namespace

std::vector<FetchedPackage> fetch_packages(const std::vector<PackageRequest>& packages,
                                           const std::vector<RepoConfig>& repos,
                                           const std::vector<RepoMetadata>& metadata,
                                           const std::filesystem::path& cache_dir, int jobs,
                                           DownloadCallbacks* callbacks) {
    DownloadCallbacks quiet;
    DownloadCallbacks& cb = callbacks ? *callbacks : quiet;
    lr::LogRoute route([&](const std::string& line) { cb.message(line); });

    Batch batch;
    batch.callbacks = &cb;

    // One job per cache file; `index` maps each request to it.
    std::map<fs::path, std::size_t> by_dest;
    std::vector<std::unique_ptr<Job>> all_jobs;
    std::vector<std::size_t> index;
    index.reserve(packages.size());
    for (const auto& p : packages) {
        const std::string base = fs::path(p.location).filename().string();
        if (p.repo_id.empty() || base.empty() || base == "." || base == ".." ||
            p.repo_id.find('/') != std::string::npos)
            throw ConfigError("package " + p.nevra + ": bad repo id or location '" + p.location + "'");
        if (p.checksum.empty() || lr_checksum_type(p.checksum_type.c_str()) == LR_CHECKSUM_UNKNOWN)
            throw ConfigError("package " + p.nevra + ": repo " + p.repo_id + " gives no usable checksum (type '" +
                              p.checksum_type + "')");
        fs::path dest = cache_dir / "packages" / p.repo_id / base;
        auto it = by_dest.find(dest);
        if (it != by_dest.end()) {
            const Job& other = *all_jobs[it->second];
            if (other.request->checksum != p.checksum)
                throw ConfigError("packages " + other.request->nevra + " and " + p.nevra + " are both " +
                                  dest.string() + " with different checksums");
            index.push_back(it->second);
            continue;
        }
        auto job = std::make_unique<Job>();
        job->request = &p;
        job->dest = dest;
        job->part = dest.string() + ".part";
        job->batch = &batch;
        by_dest.emplace(dest, all_jobs.size());
        index.push_back(all_jobs.size());
        batch.total_bytes += p.size;
        all_jobs.push_back(std::move(job));
    }
    batch.total_files = all_jobs.size();

    // What the cache already holds is not downloaded again.
    std::vector<Job*> pending;
    for (auto& job : all_jobs) {
        const PackageRequest& p = *job->request;
        std::error_code ec;
        fs::create_directories(job->dest.parent_path(), ec);
        if (ec)
            throw ConfigError("cannot create cache directory " + job->dest.parent_path().string() + ": " +
                              ec.message());
        if (has_checksum(job->dest, lr_checksum_type(p.checksum_type.c_str()), p.checksum)) {
            job->done = true;
            batch.done_bytes += p.size;
            ++batch.done_files;
            continue;
        }
        // A complete but wrong file (or a stale partial of another size) cannot be resumed.
        fs::remove(job->dest, ec);
        auto part_size = fs::file_size(job->part, ec);
        if (!ec && p.size && part_size >= p.size) fs::remove(job->part, ec);
        pending.push_back(job.get());
    }
    if (!pending.empty())
        cb.message("downloading " + std::to_string(pending.size()) + " of " + std::to_string(all_jobs.size()) +
                   " packages (" + size_text(batch.total_bytes - batch.done_bytes) + "), " +
                   std::to_string(std::clamp(static_cast<long>(jobs), LRO_MAXPARALLELDOWNLOADS_MIN,
                                             LRO_MAXPARALLELDOWNLOADS_MAX)) +
                   " at a time");
    if (batch.report() != LR_CB_OK) throw Interrupted("download interrupted");

    // One librepo handle per repo: its mirrors and the parallelism.
    std::map<std::string, lr::Handle> handles;
    auto handle_for = [&](const std::string& repo_id) -> lr::Handle& {
        auto it = handles.find(repo_id);
        if (it != handles.end()) return it->second;
        const RepoConfig* config = nullptr;
        for (const auto& r : repos)
            if (r.id == repo_id) config = &r;
        std::string base_url;
        for (const auto& m : metadata)
            if (m.repo_id == repo_id) base_url = m.base_url;
        if (base_url.empty() &&
            (!config || (config->baseurls.empty() && config->mirrorlist.empty() && config->metalink.empty())))
            throw ConfigError("repo " + repo_id + ": no URL to download packages from");
        try {
            return handles.emplace(repo_id, make_handle(config, base_url, jobs)).first->second;
        } catch (const lr::LibrepoError& e) {
            throw ConfigError("repo " + repo_id + ": " + e.what());
        }
    };
    for (Job* job : pending) {
        job->base_url = "";
        for (const auto& m : metadata)
            if (m.repo_id == job->request->repo_id) job->base_url = m.base_url;
        if (job->base_url.empty())
            for (const auto& r : repos)
                if (r.id == job->request->repo_id && !r.baseurls.empty()) job->base_url = r.baseurls.front();
    }

    lr::PackageTargets targets;
    for (Job* job : pending) {
        const PackageRequest& p = *job->request;
        std::error_code ec;
        const bool resume = fs::file_size(job->part, ec) > 0 && !ec;
        // librepo 1.14 compares a resumed (ranged) Content-Length with the full size and fails:
        // no size for a resumed file, its checksum still decides.
        const gint64 expected_size = resume ? 0 : static_cast<gint64>(p.size);
        lr::GErrorSlot err;
        LrPackageTarget* t =
            lr_packagetarget_new_v2(handle_for(p.repo_id).get(), p.location.c_str(), job->part.c_str(),
                                    lr_checksum_type(p.checksum_type.c_str()), p.checksum.c_str(), expected_size,
                                    nullptr, TRUE, &on_progress, job, &on_end, &on_mirror_failure, err.out());
        if (!t) {
            try {
                err.raise("lr_packagetarget_new_v2 failed");
            } catch (const lr::LibrepoError& e) {
                throw ConfigError("package " + p.nevra + ": " + e.what());
            }
        }
        targets.add(t);
    }
    if (!targets.empty()) {
        lr::GErrorSlot err;
        bool ok = lr_download_packages(targets.get(), LrPackageDownloadFlag(0), err.out());
        if (batch.aborted) throw Interrupted("download interrupted");
        if (!ok) {
            try {
                err.raise("lr_download_packages failed");
            } catch (const lr::LibrepoError& e) {
                if (e.code() == LRE_INTERRUPTED || e.code() == LRE_CBINTERRUPTED)
                    throw Interrupted("download interrupted");
                throw ConfigError(std::string("cannot download packages: ") + e.what());
            }
        }
    }

    std::vector<Job*> failed;
    for (Job* job : pending) {
        std::error_code ec;
        if (job->done) {
            fs::rename(job->part, job->dest, ec);
            if (ec) throw ConfigError("cannot move " + job->part.string() + " into the cache: " + ec.message());
            continue;
        }
        // Resuming bad bytes would keep them: the next run starts from nothing. A broken transfer
        // keeps its partial file (librepo marks it as its own) for the next run to resume.
        if (job->corrupt) fs::remove(job->part, ec);
        cb.message("package " + job->request->nevra + ": " + job->failure);
        failed.push_back(job);
    }

    if (!failed.empty()) {
        // Requests order: the first failing package named, the rest counted.
        std::sort(failed.begin(), failed.end(),
                  [](const Job* a, const Job* b) { return std::less<>()(a->request, b->request); });
        const Job& job = *failed.front();
        const std::string url =
            join_url(job.failure_url.empty() ? job.base_url : job.failure_url, job.request->location);
        std::string what = job.corrupt ? "corrupt package " + job.request->nevra + " from " + url +
                                             (job.failure.find("hecksum") != std::string::npos
                                                  ? ": checksum mismatch"
                                                  : ": size mismatch (" + job.failure + ")")
                                       : "cannot download package " + job.request->nevra + " from " + url + ": " +
                                             (job.failure.empty() ? "download failed" : job.failure);
        if (failed.size() > 1) what += " (and " + std::to_string(failed.size() - 1) + " more packages failed)";
        throw ConfigError(what);
    }

    std::vector<FetchedPackage> out;
    out.reserve(packages.size());
    for (std::size_t i = 0; i < packages.size(); ++i) out.push_back({packages[i], all_jobs[index[i]]->dest});
    return out;
}

}  // namespace airgap::repo
