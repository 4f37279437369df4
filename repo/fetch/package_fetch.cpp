#include "repo/fetch/package_fetch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"
#include "repo/fetch/librepo_packages_private.hpp"
#include "repo/repos/librepo_handle.hpp"

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
    int failures = 0;
};

// The whole download, for the progress callback.
struct Batch {
    Reporter* callbacks = nullptr;
    std::uint64_t total_bytes = 0;
    std::uint64_t done_bytes = 0;  // files complete (cached or downloaded)
    double in_flight = 0;          // bytes of transfers still running
    std::size_t total_files = 0;
    std::size_t done_files = 0;
    bool aborted = false;

    int report() {
        auto bytes = done_bytes + static_cast<std::uint64_t>(std::max(0.0, in_flight));
        if (!repo::report(*callbacks, {"downloading", std::min(bytes, total_bytes), total_bytes, done_files,
                                       total_files, "packages"})) {
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
    // One line per failed try, so that a slow or broken mirror shows while it happens and not
    // only in the final error. Whether librepo tries again is its own decision (it also gives
    // up a mirror that failed too often across all packages): the line does not promise it.
    ++job->failures;
    Batch& batch = *job->batch;
    const std::string where = url ? url : job->base_url;
    std::string why = m;  // librepo names the URL again: once is enough
    if (auto at = why.find(" for " + where); !where.empty() && at != std::string::npos) why.erase(at, 5 + where.size());
    batch.callbacks->message("package " + job->request->nevra + ": attempt " + std::to_string(job->failures) +
                             " failed at " + where + ": " + why);
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

lr::Handle make_handle(const RepoConfig* repo, const std::string& base_url, int jobs, const TransferLimits& limits) {
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
    h.set(LRO_LOWSPEEDTIME, static_cast<long>(limits.timeout_s));
    h.set(LRO_CONNECTTIMEOUT, static_cast<long>(limits.timeout_s));
    h.set(LRO_ALLOWEDMIRRORFAILURES, static_cast<long>(limits.retries) + 1);
    return h;
}

std::string size_text(std::uint64_t bytes) {
    return format_bytes(bytes, bytes >= (1u << 20) ? ByteUnit::mib : ByteUnit::kib);
}

// Step 1: one job per cache file; `index` maps each request to its job.
struct Jobs {
    std::vector<std::unique_ptr<Job>> all;
    std::vector<std::size_t> index;
};

Jobs make_jobs(const std::vector<PackageRequest>& packages, const fs::path& cache_dir, Batch& batch) {
    Jobs jobs;
    std::map<fs::path, std::size_t> by_dest;
    jobs.index.reserve(packages.size());
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
            const Job& other = *jobs.all[it->second];
            if (other.request->checksum != p.checksum)
                throw ConfigError("packages " + other.request->nevra + " and " + p.nevra + " are both " +
                                  dest.string() + " with different checksums");
            jobs.index.push_back(it->second);
            continue;
        }
        auto job = std::make_unique<Job>();
        job->request = &p;
        job->dest = dest;
        job->part = dest.string() + ".part";
        job->batch = &batch;
        by_dest.emplace(dest, jobs.all.size());
        jobs.index.push_back(jobs.all.size());
        batch.total_bytes += p.size;
        jobs.all.push_back(std::move(job));
    }
    batch.total_files = jobs.all.size();
    return jobs;
}

// Step 2: what the cache already holds is not downloaded again. Returns the jobs left.
std::vector<Job*> skip_cached(const Jobs& jobs, Batch& batch) {
    std::vector<Job*> pending;
    for (const auto& job : jobs.all) {
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
    return pending;
}

const PlannedRepo* find_planned(const std::vector<PlannedRepo>& repos, const std::string& id) {
    for (const auto& r : repos)
        if (r.config.id == id) return &r;
    return nullptr;
}

// Step 3: one librepo handle per repo (its mirrors and the parallelism), one target per job,
// then one lr_download_packages for them all.
void download(const std::vector<Job*>& pending, const std::vector<PlannedRepo>& repos, int jobs,
              const TransferLimits& limits, Batch& batch) {
    std::map<std::string, lr::Handle> handles;
    auto handle_for = [&](const std::string& repo_id) -> lr::Handle& {
        auto it = handles.find(repo_id);
        if (it != handles.end()) return it->second;
        const PlannedRepo* repo = find_planned(repos, repo_id);
        const RepoConfig* config = repo ? &repo->config : nullptr;
        const std::string base_url = repo ? repo->metadata.base_url : std::string();
        if (base_url.empty() &&
            (!config || (config->baseurls.empty() && config->mirrorlist.empty() && config->metalink.empty())))
            throw ConfigError("repo " + repo_id + ": no URL to download packages from");
        try {
            return handles.emplace(repo_id, make_handle(config, base_url, jobs, limits)).first->second;
        } catch (const lr::LibrepoError& e) {
            throw ConfigError("repo " + repo_id + ": " + e.what());
        }
    };
    for (Job* job : pending) {
        const PlannedRepo* repo = find_planned(repos, job->request->repo_id);
        job->base_url = repo ? repo->metadata.base_url : std::string();
        if (job->base_url.empty() && repo && !repo->config.baseurls.empty())
            job->base_url = repo->config.baseurls.front();
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
    if (targets.empty()) return;
    lr::GErrorSlot err;
    bool ok = lr_download_packages(targets.get(), LrPackageDownloadFlag(0), err.out());
    // What came in full goes into the cache whatever happens next: an interrupted build keeps
    // it, and the partial files stay for the next run to resume.
    for (Job* job : pending) {
        if (!job->done) continue;
        std::error_code ec;
        fs::rename(job->part, job->dest, ec);
        if (ec) throw ConfigError("cannot move " + job->part.string() + " into the cache: " + ec.message());
    }
    if (batch.aborted) throw Interrupted("download interrupted");
    if (!ok) {
        try {
            err.raise("lr_download_packages failed");
        } catch (const lr::LibrepoError& e) {
            if (e.code() == LRE_INTERRUPTED || e.code() == LRE_CBINTERRUPTED) throw Interrupted("download interrupted");
            throw ConfigError(std::string("cannot download packages: ") + e.what());
        }
    }
}

// Step 4: the first failure (in request order) is the error, the others counted (complete files
// went into the cache as soon as the transfers ended).
void settle(const std::vector<Job*>& pending, Reporter& cb) {
    std::vector<Job*> failed;
    for (Job* job : pending) {
        std::error_code ec;
        if (job->done) continue;
        // Resuming bad bytes would keep them: the next run starts from nothing. A broken transfer
        // keeps its partial file (librepo marks it as its own) for the next run to resume.
        if (job->corrupt) fs::remove(job->part, ec);
        cb.message("package " + job->request->nevra + ": " + job->failure);
        failed.push_back(job);
    }
    if (failed.empty()) return;
    std::sort(failed.begin(), failed.end(),
              [](const Job* a, const Job* b) { return std::less<>()(a->request, b->request); });
    const Job& job = *failed.front();
    const std::string url = join_url(job.failure_url.empty() ? job.base_url : job.failure_url, job.request->location);
    std::string what =
        job.corrupt ? "corrupt package " + job.request->nevra + " from " + url +
                          (job.failure.find("hecksum") != std::string::npos ? ": checksum mismatch"
                                                                            : ": size mismatch (" + job.failure + ")")
                    : "cannot download package " + job.request->nevra + " from " + url + ": " +
                          (job.failure.empty() ? "download failed" : job.failure);
    if (failed.size() > 1) what += " (and " + std::to_string(failed.size() - 1) + " more packages failed)";
    throw ConfigError(what);
}

}  // namespace

std::vector<FetchedPackage> fetch_packages(const std::vector<PackageRequest>& packages,
                                           const std::vector<PlannedRepo>& repos, const fs::path& cache_dir, int jobs,
                                           Reporter* reporter, const TransferLimits& limits) {
    if (limits.timeout_s < 1) throw ConfigError("--timeout: must be at least 1 second");
    if (limits.retries < 0) throw ConfigError("--retries: must be 0 or more");
    Reporter quiet;
    Reporter& cb = reporter ? *reporter : quiet;
    lr::LogRoute route([&](const std::string& line) { cb.message(line); });

    Batch batch;
    batch.callbacks = &cb;
    Jobs all = make_jobs(packages, cache_dir, batch);
    std::vector<Job*> pending = skip_cached(all, batch);
    if (!pending.empty())
        cb.message("downloading " + std::to_string(pending.size()) + " of " + std::to_string(all.all.size()) +
                   " packages (" + size_text(batch.total_bytes - batch.done_bytes) + "), " +
                   std::to_string(std::clamp(static_cast<long>(jobs), LRO_MAXPARALLELDOWNLOADS_MIN,
                                             LRO_MAXPARALLELDOWNLOADS_MAX)) +
                   " at a time");
    if (batch.report() != LR_CB_OK) throw Interrupted("download interrupted");
    download(pending, repos, jobs, limits, batch);
    settle(pending, cb);

    std::vector<FetchedPackage> out;
    out.reserve(packages.size());
    for (std::size_t i = 0; i < packages.size(); ++i) out.push_back({packages[i], all.all[all.index[i]]->dest});
    return out;
}

}  // namespace airgap::repo
