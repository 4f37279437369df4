#include "repo/repos/metadata.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"
#include "repo/repos/librepo_handle.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

// The repomd records we keep: what resolution needs (primary, filelists) and what a site
// may want to review (updateinfo, comps). "other" (changelogs) is big and unused.
const std::vector<std::string> kRecords = {"primary", "filelists", "updateinfo", "group", "group_gz"};

std::string sha256_hex(const std::string& data) {
    gchar* hex =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(data.data()), data.size());
    std::string out(hex);
    g_free(hex);
    return out;
}

// Where the repo's metadata comes from, as a user wrote it; also what the cache key hashes.
std::string source_of(const RepoConfig& repo) {
    std::string out;
    for (const auto& u : repo.baseurls) out += (out.empty() ? "" : ", ") + u;
    const std::string& list = repo.metalink.empty() ? repo.mirrorlist : repo.metalink;
    if (!list.empty()) out += (out.empty() ? "" : ", ") + list;
    return out;
}

std::string cache_key(const RepoConfig& repo) {
    std::string config = "baseurl=";
    for (const auto& u : repo.baseurls) config += u + "\n";
    config += "mirrorlist=" + repo.mirrorlist + "\nmetalink=" + repo.metalink + "\n";
    return repo.id + "-" + sha256_hex(config).substr(0, 12);
}

// A directory beside the cache entry that disappears unless it was renamed into place.
class StagingDir {
public:
    StagingDir(const fs::path& parent, const std::string& prefix) {
        std::string templ = (parent / (prefix + "XXXXXX")).string();
        if (!mkdtemp(templ.data()))
            throw ConfigError("cannot create a directory in " + parent.string() + ": " + std::strerror(errno));
        path_ = templ;
    }
    ~StagingDir() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
    StagingDir(const StagingDir&) = delete;
    StagingDir& operator=(const StagingDir&) = delete;
    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

private:
    fs::path path_;
};

// An exclusive lock on one cache entry: two bundlers sharing a cache take turns.
class EntryLock {
public:
    explicit EntryLock(const fs::path& file) : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw ConfigError("cannot open " + file.string() + ": " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) < 0 && errno == EINTR) {
        }
    }
    ~EntryLock() { ::close(fd_); }
    EntryLock(const EntryLock&) = delete;
    EntryLock& operator=(const EntryLock&) = delete;

private:
    int fd_;
};

// Flushes every file and directory under `dir` to disk, so that the rename publishes complete data.
void sync_tree(const fs::path& dir) {
    auto sync_one = [](const fs::path& p, int flags) {
        int fd = ::open(p.c_str(), flags | O_CLOEXEC);
        if (fd < 0) return;
        ::fsync(fd);
        ::close(fd);
    };
    for (const auto& e : fs::recursive_directory_iterator(dir))
        sync_one(e.path(), e.is_directory() ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    sync_one(dir, O_RDONLY | O_DIRECTORY);
}

// Swaps `fresh` into `entry`; readers see the old or the new directory, never a mix.
void replace_dir(const fs::path& fresh, const fs::path& entry) {
    std::error_code ec;
    fs::path old;
    if (fs::exists(entry, ec)) {
        old = entry.string() + ".old";
        fs::remove_all(old, ec);
        fs::rename(entry, old);
    }
    fs::rename(fresh, entry);
    if (!old.empty()) fs::remove_all(old, ec);
    int fd = ::open(entry.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// Downloads into `dest` (which must exist): only repomd.xml when `repomd_only`.
lr::Result download(const RepoConfig& repo, const fs::path& dest, bool repomd_only) {
    lr::Handle h;
    h.set(LRO_REPOTYPE, LR_YUMREPO);
    // As dnf does: baseurls first, then the mirrors of the metalink, or else of the mirrorlist.
    lr::CStrings urls(repo.baseurls);
    if (!repo.baseurls.empty()) h.set(LRO_URLS, urls.get());
    if (!repo.metalink.empty())
        h.set(LRO_METALINKURL, repo.metalink.c_str());
    else if (!repo.mirrorlist.empty())
        h.set(LRO_MIRRORLISTURL, repo.mirrorlist.c_str());
    h.set(LRO_DESTDIR, dest.c_str());
    h.set(LRO_CHECKSUM, 1L);
    h.set(LRO_INTERRUPTIBLE, 0L);  // the executables own signal handling
    // An empty list: repomd.xml and nothing else.
    lr::CStrings records(repomd_only ? std::vector<std::string>{} : kRecords);
    h.set(LRO_YUMDLIST, records.get());
    lr::Result result;
    h.perform(result);
    return result;
}

// Opens a cached copy without network and checks every kept file against repomd.xml.
lr::Result open_local(const fs::path& entry) {
    lr::Handle h;
    h.set(LRO_REPOTYPE, LR_YUMREPO);
    lr::CStrings urls({entry.string()});
    h.set(LRO_URLS, urls.get());
    h.set(LRO_LOCAL, 1L);
    h.set(LRO_CHECKSUM, 1L);
    h.set(LRO_INTERRUPTIBLE, 0L);
    lr::CStrings records(kRecords);
    h.set(LRO_YUMDLIST, records.get());
    lr::Result result;
    h.perform(result);
    return result;
}

fs::path record_path(LrYumRepo* repo, const char* type) {
    const char* p = lr_yum_repo_path(repo, type);
    return p ? fs::path(p) : fs::path();
}

// Bad content, as opposed to no content: librepo reports a checksum mismatch of a record only
// as a mirror failure, its summary says "cannot download".
bool is_corruption(const lr::LibrepoError& e) {
    int code = e.code();
    if (code == LRE_BADCHECKSUM || code == LRE_XMLPARSER || code == LRE_REPOMD || code == LRE_MLXML ||
        code == LRE_MLBAD || code == LRE_INCOMPLETEREPO)
        return true;
    const std::string& m = e.mirror_failure();
    return m.find("hecksum") != std::string::npos || m.find("doesn't match") != std::string::npos;
}

}  // namespace

MetadataFetcher::MetadataFetcher(std::filesystem::path cache_dir, Reporter* callbacks)
    : cache_dir_(std::move(cache_dir)), callbacks_(callbacks) {}

std::optional<RepoMetadata> MetadataFetcher::fetch(const RepoConfig& repo) {
    Reporter quiet;
    Reporter& cb = callbacks_ ? *callbacks_ : quiet;
    const std::string source = source_of(repo);
    if (!repo.enabled) {
        skip_reason_ = "repo " + repo.id + ": disabled";
        cb.message("repo " + repo.id + ": disabled, skipped");
        return std::nullopt;
    }
    if (source.empty()) throw ConfigError("repo " + repo.id + ": no baseurl, mirrorlist or metalink");

    lr::LogRoute route([&](const std::string& line) { cb.message("repo " + repo.id + ": " + line); });
    const std::string key = cache_key(repo);
    const fs::path entry = cache_dir_ / key;
    std::error_code ec;
    fs::create_directories(cache_dir_, ec);
    if (ec) throw ConfigError("cannot create cache directory " + cache_dir_.string() + ": " + ec.message());
    EntryLock lock(cache_dir_ / ("." + key + ".lock"));

    // Paths of a verified cache entry; throws LibrepoError when a file does not match repomd.xml.
    auto describe_entry = [&](const std::string& base_url) {
        lr::Result local = open_local(entry);
        LrYumRepo* yum = local.yum_repo();
        RepoMetadata md;
        md.repo_id = repo.id;
        md.dir = entry;
        md.repomd = entry / "repodata" / "repomd.xml";
        md.primary = record_path(yum, "primary");
        md.filelists = record_path(yum, "filelists");
        md.updateinfo = record_path(yum, "updateinfo");
        md.revision = sha256_hex(read_file(md.repomd).value_or(""));
        md.base_url = base_url;
        if (md.primary.empty()) throw lr::LibrepoError(LRE_INCOMPLETEREPO, "repomd.xml lists no primary metadata");
        return md;
    };
    auto base_url_of = [](const lr::Result& r) {
        LrYumRepo* yum = r.yum_repo();
        return std::string(yum && yum->url ? yum->url : "");
    };

    try {
        const fs::path cached_repomd = entry / "repodata" / "repomd.xml";
        if (fs::exists(cached_repomd, ec)) {
            StagingDir probe(cache_dir_, "." + key + ".repomd-");
            lr::Result r = download(repo, probe.path(), true);
            if (read_file(probe.path() / "repodata" / "repomd.xml").value_or("") ==
                read_file(cached_repomd).value_or("")) {
                try {
                    RepoMetadata md = describe_entry(base_url_of(r));
                    cb.message("repo " + repo.id + ": metadata unchanged, using " + entry.string());
                    return md;
                } catch (const lr::LibrepoError& e) {
                    cb.message("repo " + repo.id + ": cached metadata is damaged (" + e.what() +
                               "), downloading again");
                }
            }
        }
        cb.message("repo " + repo.id + ": downloading metadata from " + source);
        StagingDir fresh(cache_dir_, "." + key + ".new-");
        lr::Result r = download(repo, fresh.path(), false);
        sync_tree(fresh.path());
        replace_dir(fresh.path(), entry);
        fresh.release();
        return describe_entry(base_url_of(r));
    } catch (const lr::LibrepoError& e) {
        const std::string what = "repo " + repo.id + ": " +
                                 (is_corruption(e) ? "corrupt metadata from " : "cannot download metadata from ") +
                                 source + ": " + e.what();
        if (repo.skip_if_unavailable) {
            skip_reason_ = what;
            cb.message(what + " (skip_if_unavailable: repo skipped)");
            return std::nullopt;
        }
        throw ConfigError(what);
    } catch (const fs::filesystem_error& e) {
        throw ConfigError("repo " + repo.id + ": cannot update cache " + entry.string() + ": " + e.what());
    }
}

}  // namespace airgap::repo
