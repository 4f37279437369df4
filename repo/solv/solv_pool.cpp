#include "repo/solv/solv_pool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/solv/rpm_log_filter_private.hpp"
#include "repo/solv/solv_queue_private.hpp"

extern "C" {
#include <solv/bitmap.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_repomdxml.h>
#include <solv/repo_rpmdb.h>
#include <solv/repo_rpmmd.h>
#include <solv/repo_solv.h>
#include <solv/repo_updateinfoxml.h>
#include <solv/repo_write.h>
#include <solv/repodata.h>
#include <solv/solv_xfopen.h>
#include <solv/testcase.h>
}

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

struct FileCloser {
    void operator()(FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Opens plain, .gz, .xz, .bz2 and .zst files alike (libsolv picks the decompressor by suffix).
File open_metadata(const std::string& repo_id, const fs::path& path) {
    File f(solv_xfopen(path.c_str(), "r"));
    if (!f) throw ConfigError("repo " + repo_id + ": cannot open " + path.string() + ": " + std::strerror(errno));
    return f;
}

std::string pool_error(Pool* pool) {
    const char* e = pool_errstr(pool);
    return e && *e ? e : "unknown libsolv error";
}

// Solvables that updateinfo adds ("patch:...") are advisories, not packages.
bool is_package(Pool* pool, Solvable* s) { return s->name && std::strchr(pool_id2str(pool, s->name), ':') == nullptr; }

PoolPackage to_package(Pool* pool, Solvable* s) {
    return PoolPackage{pool_id2str(pool, s->name), pool_id2str(pool, s->evr), s->arch ? pool_id2str(pool, s->arch) : "",
                       s->repo && s->repo->name ? s->repo->name : ""};
}

void sort_packages(std::vector<PoolPackage>& packages) {
    std::sort(packages.begin(), packages.end(), [](const PoolPackage& a, const PoolPackage& b) {
        return std::make_pair(a.nevra(), a.repo) < std::make_pair(b.nevra(), b.repo);
    });
}

// The cache is an optimisation only: a file libsolv cannot read is parsed again from XML.
bool read_solv_cache(Repo* repo, const fs::path& file) {
    File f(std::fopen(file.c_str(), "r"));
    if (!f) return false;
    if (repo_add_solv(repo, f.get(), 0) == 0) return true;
    repo_empty(repo, 1);
    return false;
}

void write_solv_cache(Repo* repo, const fs::path& file) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::string temp = (file.parent_path() / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
    int fd = mkstemp(temp.data());
    if (fd < 0) throw ConfigError("cannot write solv cache " + file.string() + ": " + std::strerror(errno));
    File f(fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : nullptr);
    if (!f) {
        close(fd);
        unlink(temp.c_str());
        throw ConfigError("cannot write solv cache " + file.string() + ": " + std::strerror(errno));
    }
    bool ok = repo_write(repo, f.get()) == 0 && std::fflush(f.get()) == 0 && fsync(fileno(f.get())) == 0;
    ok = std::fclose(f.release()) == 0 && ok;
    if (!ok || std::rename(temp.c_str(), file.c_str()) != 0) {
        int err = errno;
        unlink(temp.c_str());
        throw ConfigError("cannot write solv cache " + file.string() + ": " + std::strerror(err));
    }
    // Caches of older revisions of this repo are dead weight.
    for (const auto& entry : fs::directory_iterator(file.parent_path(), ec)) {
        if (entry.path() != file && entry.path().extension() == ".solv") fs::remove(entry.path(), ec);
    }
}

// Repo ids become directory names: keep them to one plain path component.
std::string safe_component(const std::string& id) {
    std::string out = id;
    for (char& c : out)
        if (c == '/' || c == '\0') c = '_';
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

}  // namespace

// libsolv's own tools do the same: a cache that records which file provides it already
// carries lets pool_addfileprovides skip that repo's file lists on the next run.
void SolvPool::update_solv_caches(Queue* want) {
    for (const auto& cache : caches_) {
        Repo* repo = find_repo(cache.repo_id);
        if (!repo) continue;
        // What a cached repo already carries stays valid: record the union, so that pools of
        // different machines do not keep rewriting each other's cache.
        std::set<Id> known;
        if (!cache.fresh) {
            IdQueue have;
            repo_lookup_idarray(repo, SOLVID_META, REPOSITORY_ADDEDFILEPROVIDES, have.get());
            known.insert(have.get()->elements, have.get()->elements + have.get()->count);
            bool complete =
                std::all_of(want->elements, want->elements + want->count, [&](Id id) { return known.count(id) > 0; });
            if (complete) continue;
        }
        known.insert(want->elements, want->elements + want->count);
        IdQueue all;
        for (Id id : known) queue_push(all.get(), id);
        // The first repodata (primary, or the whole cache) uses the pool's string ids; the
        // file lists' repodata has its own string pool, where these ids mean nothing.
        Repodata* data = repo->nrepodata > 1 ? repo_id2repodata(repo, 1) : nullptr;
        if (!data || data->localpool) data = repo_add_repodata(repo, 0);
        repodata_set_idarray(data, SOLVID_META, REPOSITORY_ADDEDFILEPROVIDES, all.get());
        repodata_internalize(data);
        write_solv_cache(repo, cache.file);
    }
}

Repo* SolvPool::find_repo(const std::string& id) const {
    Pool* pool = pool_;  // FOR_REPOS expects `pool`
    Repo* r = nullptr;
    int i;
    FOR_REPOS(i, r) {
        if (r->name && id == r->name) return r;
    }
    return nullptr;
}

const std::vector<std::string>& default_installonly() {
    // EL7 yum's installonlypkgs and dnf's installonlypkgs provides, together.
    static const std::vector<std::string> names = {
        "kernel",
        "kernel-bigmem",
        "kernel-enterprise",
        "kernel-smp",
        "kernel-modules",
        "kernel-debug",
        "kernel-unsupported",
        "kernel-source",
        "kernel-devel",
        "kernel-PAE",
        "kernel-PAE-debug",
        "kernel-core",
        "kernel-modules-extra",
        "installonlypkg(kernel)",
        "installonlypkg(kernel-module)",
        "installonlypkg(vm)",
        "multiversion(kernel)",
    };
    return names;
}

std::string PoolPackage::nevra() const { return name + "-" + evr + (arch.empty() ? "" : "." + arch); }

SolvPool::SolvPool(const std::string& arch) : arch_(arch), installonly_(default_installonly()) {
    // libsolv knows the rpm arch families (x86_64 takes i686 and noarch); any other name
    // is a family of its own plus noarch.
    bool plain = !arch.empty() && std::all_of(arch.begin(), arch.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!plain) throw ConfigError("invalid architecture '" + arch + "'");
    pool_ = pool_create();
    pool_setdisttype(pool_, DISTTYPE_RPM);
    pool_setarch(pool_, arch.c_str());
    // As dnf: foo.x86_64 and foo.i686 are installed side by side (multilib), not as updates of
    // each other.
    pool_set_flag(pool_, POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS, 1);
}

SolvPool::~SolvPool() { free_pool(); }

void SolvPool::free_pool() noexcept {
    if (!pool_) return;
    // libsolv does not own the considered map: whoever sets it frees it.
    if (pool_->considered) {
        map_free(pool_->considered);
        pool_->considered = static_cast<Map*>(solv_free(pool_->considered));
    }
    pool_free(pool_);
    pool_ = nullptr;
}

SolvPool::SolvPool(SolvPool&& other) noexcept
    : pool_(other.pool_),
      arch_(std::move(other.arch_)),
      installonly_(std::move(other.installonly_)),
      filters_(std::move(other.filters_)),
      caches_(std::move(other.caches_)),
      prepared_(other.prepared_) {
    other.pool_ = nullptr;
}

SolvPool& SolvPool::operator=(SolvPool&& other) noexcept {
    if (this != &other) {
        free_pool();
        pool_ = other.pool_;
        other.pool_ = nullptr;
        arch_ = std::move(other.arch_);
        installonly_ = std::move(other.installonly_);
        filters_ = std::move(other.filters_);
        caches_ = std::move(other.caches_);
        prepared_ = other.prepared_;
    }
    return *this;
}

void SolvPool::check_open(const std::string& what) const {
    if (!pool_) throw std::logic_error("SolvPool used after move");
    if (prepared_) throw std::logic_error("SolvPool: " + what + " after the pool was prepared for resolution");
}

Repo* SolvPool::new_repo(const std::string& id) {
    if (find_repo(id)) throw ConfigError("repo " + id + " is loaded twice");
    return repo_create(pool_, id.c_str());
}

namespace {

void load_rpmmd(Pool* pool, Repo* repo, const std::string& id, const RepoMetadata& md) {
    if (!md.repomd.empty()) {
        File f = open_metadata(id, md.repomd);
        if (repo_add_repomdxml(repo, f.get(), 0) != 0)
            throw ConfigError("repo " + id + ": " + md.repomd.string() + ": " + pool_error(pool));
    }
    if (md.primary.empty()) throw ConfigError("repo " + id + ": metadata has no primary file");
    {
        File f = open_metadata(id, md.primary);
        if (repo_add_rpmmd(repo, f.get(), nullptr, 0) != 0)
            throw ConfigError("repo " + id + ": " + md.primary.string() + ": " + pool_error(pool));
    }
    if (!md.filelists.empty()) {
        // File names go into the repodata's own string pool, as libsolv's tools load them.
        File f = open_metadata(id, md.filelists);
        if (repo_add_rpmmd(repo, f.get(), nullptr, REPO_EXTEND_SOLVABLES | REPO_LOCALPOOL) != 0)
            throw ConfigError("repo " + id + ": " + md.filelists.string() + ": " + pool_error(pool));
    }
    if (!md.updateinfo.empty()) {
        File f = open_metadata(id, md.updateinfo);
        if (repo_add_updateinfoxml(repo, f.get(), 0) != 0)
            throw ConfigError("repo " + id + ": " + md.updateinfo.string() + ": " + pool_error(pool));
    }
    repo_internalize(repo);
}

}  // namespace

void SolvPool::add_repo(const RepoMetadata& md, const RepoConfig& config, const fs::path& solv_cache_dir) {
    check_open("add_repo");
    const std::string id = md.repo_id.empty() ? config.id : md.repo_id;
    Repo* repo = new_repo(id);
    filters_[id] = config;
    try {
        fs::path cache;
        if (!solv_cache_dir.empty() && !md.revision.empty())
            cache = solv_cache_dir / safe_component(id) / (safe_component(md.revision) + ".solv");
        if (!cache.empty() && read_solv_cache(repo, cache)) {
            caches_.push_back({id, cache, false});
            return;
        }
        load_rpmmd(pool_, repo, id, md);
        if (!cache.empty()) caches_.push_back({id, cache, true});
    } catch (...) {
        // A half-loaded repo must not take part in a resolution.
        repo_free(repo, 1);
        filters_.erase(id);
        caches_.erase(
            std::remove_if(caches_.begin(), caches_.end(), [&](const SolvCache& s) { return s.repo_id == id; }),
            caches_.end());
        throw;
    }
}

void SolvPool::add_testtags_repo(const RepoConfig& config, const fs::path& file) {
    check_open("add_testtags_repo");
    Repo* repo = new_repo(config.id);
    filters_[config.id] = config;
    File f(std::fopen(file.c_str(), "r"));
    if (!f) throw ConfigError("cannot read " + file.string() + ": " + std::strerror(errno));
    if (testcase_add_testtags(repo, f.get(), 0) != 0) throw ConfigError(file.string() + ": " + pool_error(pool_));
    repo_internalize(repo);
}

Repo* SolvPool::installed() const noexcept { return pool_ ? pool_->installed : nullptr; }

void SolvPool::set_installed_testtags(const fs::path& file) {
    check_open("set_installed_testtags");
    File f(std::fopen(file.c_str(), "r"));
    if (!f) throw ConfigError("cannot read " + file.string() + ": " + std::strerror(errno));
    if (pool_->installed) repo_free(pool_->installed, 1);
    Repo* repo = repo_create(pool_, "@System");
    if (testcase_add_testtags(repo, f.get(), 0) != 0) throw ConfigError(file.string() + ": " + pool_error(pool_));
    repo_internalize(repo);
    pool_set_installed(pool_, repo);
}

void SolvPool::set_installed_rpmdb(const fs::path& root, bool all_files) {
    check_open("set_installed_rpmdb");
    // rpm opens its database relative to an absolute root only ("--root e" would read nothing).
    const Target target(root);
    fs::path r = target.is_this_system() ? target.root() : fs::absolute(root).lexically_normal();
    fs::path dbdir = r / "var/lib/rpm";
    std::error_code ec;
    if (!fs::is_directory(dbdir, ec)) throw ConfigError("no rpm database in " + dbdir.string());
    if (pool_->installed) repo_free(pool_->installed, 1);
    Repo* repo = repo_create(pool_, "@System");
    // Without REPO_USE_ROOTDIR libsolv reads this machine's rpmdb whatever the rootdir says.
    pool_set_rootdir(pool_, r == "/" ? nullptr : r.c_str());
    // rpmlib() requires are rpm's own features: no repo provides them, a reader needs them not.
    int flags = REPO_USE_ROOTDIR | RPM_ADD_NO_RPMLIBREQS | (all_files ? 0 : RPM_ADD_FILTERED_FILELIST);
    int rc;
    {
        RpmLogFilter quiet_el7_rpmdb(dbdir);
        rc = repo_add_rpmdb(repo, nullptr, flags);
    }
    pool_set_rootdir(pool_, nullptr);
    if (rc != 0) {
        std::string why = pool_error(pool_);
        repo_free(repo, 1);
        throw ConfigError("cannot read the rpm database in " + dbdir.string() + ": " + why);
    }
    repo_internalize(repo);
    pool_set_installed(pool_, repo);
}

void SolvPool::prepare() {
    if (!pool_) throw std::logic_error("SolvPool used after move");
    if (prepared_) return;
    IdQueue added, added_installed;
    pool_addfileprovides_queue(pool_, added.get(), added_installed.get());
    update_solv_caches(added.get());
    bool filtered = std::any_of(filters_.begin(), filters_.end(), [](const auto& f) {
        return !f.second.includepkgs.empty() || !f.second.excludepkgs.empty();
    });
    if (filtered) {
        // Hidden from the solver as dnf hides them (pool->considered), installed ones never.
        Map* considered = static_cast<Map*>(solv_calloc(1, sizeof(Map)));
        map_init(considered, pool_->nsolvables);
        map_setall(considered);
        Pool* pool = pool_;  // FOR_REPOS expects `pool`
        Repo* repo;
        int i;
        FOR_REPOS(i, repo) {
            auto it = filters_.find(repo->name ? repo->name : "");
            if (repo == pool_->installed || it == filters_.end()) continue;
            Id p;
            Solvable* s;
            FOR_REPO_SOLVABLES(repo, p, s) {
                if (!package_allowed(it->second, pool_id2str(pool_, s->name))) map_clr(considered, p);
            }
        }
        pool_->considered = considered;
    }
    pool_createwhatprovides(pool_);
    prepared_ = true;
}

std::vector<PoolPackage> SolvPool::installed_packages() const {
    std::vector<PoolPackage> out;
    Repo* repo = installed();
    if (!repo) return out;
    Id p;
    Solvable* s;
    FOR_REPO_SOLVABLES(repo, p, s) {
        if (is_package(pool_, s)) out.push_back(to_package(pool_, s));
    }
    sort_packages(out);
    return out;
}

std::vector<PoolPackage> SolvPool::available_packages() const {
    std::vector<PoolPackage> out;
    Pool* pool = pool_;  // FOR_REPOS expects `pool`
    Repo* repo;
    int i;
    FOR_REPOS(i, repo) {
        if (repo == pool_->installed) continue;
        auto it = filters_.find(repo->name ? repo->name : "");
        Id p;
        Solvable* s;
        FOR_REPO_SOLVABLES(repo, p, s) {
            if (!is_package(pool_, s)) continue;
            if (it != filters_.end() && !package_allowed(it->second, pool_id2str(pool_, s->name))) continue;
            out.push_back(to_package(pool_, s));
        }
    }
    sort_packages(out);
    return out;
}

}  // namespace airgap::repo
