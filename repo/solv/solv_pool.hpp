#pragma once
// The libsolv pool of one target machine: rpm semantics, the target's arch policy, the
// repos it may update from (with their includepkgs/excludepkgs) and what is installed on it.
// libsolv's headers stay out of here.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "repo/repos/metadata.hpp"
#include "repo/repos/repo_config.hpp"

#ifdef AIRGAP_SOLV_UNDERSCORE_TAGS
// libsolv 0.6 (EL7) tags its structs _Pool, _Repo, _Queue (cmake/el7_compat.cmake).
#define s_Pool _Pool
#define s_Repo _Repo
#define s_Queue _Queue
#endif
struct s_Pool;   // libsolv's Pool
struct s_Repo;   // libsolv's Repo
struct s_Queue;  // libsolv's Queue

namespace airgap::repo {

/// Names (and provides) dnf and EL7 yum install beside the old versions instead of updating
/// them in place: kernels and the like (yum's installonlypkgs plus dnf's provides).
const std::vector<std::string>& default_installonly();

/// One installed or available package, for listing and tests.
struct PoolPackage {
    std::string name;
    std::string evr;  // "[epoch:]version-release"
    std::string arch;
    std::string repo;           // repo id; "@System" for the installed repo
    std::string nevra() const;  // name-[epoch:]version-release.arch
};

/// Owns a libsolv Pool. Move-only; the raw Pool lives as long as this object. Load every repo
/// and the installed system first, then resolve (resolve.hpp): the first resolution freezes
/// the pool (include/exclude filters, file provides, whatprovides), later loads throw.
class SolvPool {
public:
    /// `arch` is the target's base arch ("x86_64": i686 packages are allowed as multilib).
    explicit SolvPool(const std::string& arch = "x86_64");
    ~SolvPool();
    SolvPool(SolvPool&& other) noexcept;
    SolvPool& operator=(SolvPool&& other) noexcept;
    SolvPool(const SolvPool&) = delete;
    SolvPool& operator=(const SolvPool&) = delete;

    /// The raw pool, owned by this object.
    s_Pool* get() const noexcept { return pool_; }
    const std::string& arch() const noexcept { return arch_; }

    /// Loads a repo's rpm-md metadata (repomd, primary, filelists, updateinfo; compressed or
    /// not). With `solv_cache_dir` set, a .solv cache keyed by `metadata.revision` is read from
    /// `solv_cache_dir/<repo id>/<revision>.solv`, or written there (atomically) by prepare(),
    /// with the file provides the pool needed, so that a later run skips the file lists. `config`'s
    /// includepkgs/excludepkgs hide packages from the solver (yum's semantics). Throws
    /// ConfigError naming the repo and file when the metadata cannot be read.
    void add_repo(const RepoMetadata& metadata, const RepoConfig& config,
                  const std::filesystem::path& solv_cache_dir = {});

    /// Loads an available repo from libsolv testtags text (test data, small fixtures).
    void add_testtags_repo(const RepoConfig& config, const std::filesystem::path& file);

    /// The installed system from testtags text (an inventory: its `#` header lines are
    /// skipped here; inventory.hpp validates them). Replaces any installed repo loaded before.
    void set_installed_testtags(const std::filesystem::path& file);

    /// The installed system from the rpmdb under `root` ("/" or empty: this machine), read
    /// with librpm from ROOT/var/lib/rpm. `all_files` false keeps only the files primary.xml
    /// lists (/etc/*, *bin/*), as the inventory does. Throws ConfigError when there is no rpmdb.
    void set_installed_rpmdb(const std::filesystem::path& root, bool all_files = true);

    /// Names or provides installed beside older versions (default: default_installonly()).
    void set_installonly(std::vector<std::string> names) { installonly_ = std::move(names); }
    const std::vector<std::string>& installonly() const noexcept { return installonly_; }

    /// Applies the repo filters, adds file provides, builds the provides index and writes the
    /// .solv caches that are new or lack file provides. Idempotent; resolve calls it. Throws
    /// ConfigError when a cache cannot be written.
    void prepare();

    /// The installed repo (null when none was loaded); owned by the pool.
    s_Repo* installed() const noexcept;
    /// The installed packages, sorted by nevra.
    std::vector<PoolPackage> installed_packages() const;
    /// Every package of the available repos that the filters let through, sorted by nevra.
    std::vector<PoolPackage> available_packages() const;

private:
    s_Repo* new_repo(const std::string& id);
    s_Repo* find_repo(const std::string& id) const;
    void update_solv_caches(s_Queue* added);
    void check_open(const std::string& what) const;
    void free_pool() noexcept;

    s_Pool* pool_ = nullptr;
    std::string arch_;
    std::vector<std::string> installonly_;
    std::map<std::string, RepoConfig> filters_;  // repo id -> its config, for include/exclude
    struct SolvCache {
        std::string repo_id;
        std::filesystem::path file;
        bool fresh;  // parsed from XML this time: the cache is (re)written in prepare()
    };
    std::vector<SolvCache> caches_;
    bool prepared_ = false;
};

}  // namespace airgap::repo
