#pragma once
// What a bundle must carry for one machine: the update `yum update` (dnf's `upgrade --best`)
// would make on it, or the closure that installs a role's roots on an empty system.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/solv/solv_pool.hpp"

namespace airgap::repo {

/// One package the resolution installs (and so the bundle carries).
/// Why a package is carried. The order is the rank: when one package serves several machines,
/// the first reason in this list wins, the one a person reviewing the bundle wants to see.
enum class PackageReason {
    root,        ///< a package the role asks for by name
    update,      ///< updates (or obsoletes) an installed package
    dependency,  ///< pulled in by another
    rollback,    ///< already installed, carried so that engine-setup can roll back to it
    installed,   ///< an installed copy found in a repo (find_installed_copies), before it is given a use
};

/// The word JSON, tables and bundle.json use: "root", "update", "dependency", "rollback", "installed".
std::string_view to_string(PackageReason reason);

/// The reason a word names; nullopt for any other word.
std::optional<PackageReason> parse_package_reason(std::string_view word);

/// Whether `a` wins over `b` when one package is carried for both.
constexpr bool outranks(PackageReason a, PackageReason b) { return a < b; }

struct ResolvedPackage {
    std::string name;
    std::uint64_t epoch = 0;
    std::string version;
    std::string release;
    std::string arch;
    std::string nevra;  // name-[epoch:]version-release.arch (epoch only when not 0)
    std::string repo;   // repo id it comes from
    std::uint64_t download_size = 0;
    std::string location;       // location href, relative to the repo's base URL
    std::string checksum_type;  // "sha256", ... (empty when the metadata has none)
    std::string checksum;       // lower-case hex
    PackageReason reason = PackageReason::dependency;
    /// What it does to the machine resolved for, as dnf's table says it: the installed
    /// [epoch:]version-release it upgrades ("" when the name is new there), whether it is
    /// installed beside the versions there (an installonly package: a kernel), and the installed
    /// packages of other names it obsoletes ("replacing"), as name-[epoch:]version-release.arch.
    std::string installed_evr;
    bool installonly = false;
    std::vector<std::string> replacing;
};

/// The outcome of one resolution. With problems, `packages` is empty: never a partial result.
struct Resolution {
    std::vector<ResolvedPackage> packages;  // sorted by nevra
    /// Installed packages (nevras, sorted) the transaction updates, obsoletes or removes; an
    /// installonly package kept beside its new version is not among them.
    std::vector<std::string> replaced;
    /// One entry per solver problem, as dnf prints it: "Problem N: <problem>" then one
    /// "  - <rule>" line per rule involved, lines separated by '\n'.
    std::vector<std::string> problems;
    /// On an oVirt Node: installed packages with a newer version in the repos that the Node's
    /// version lock holds back, sorted, each "NEVRA (newer: EVR)". Reported, never carried.
    std::vector<std::string> locked;
    bool ok() const noexcept { return problems.empty(); }
};

struct ResolveOptions {
    /// When set, a libsolv testcase of this resolution is written there (dnf's
    /// --debugsolver; replay with libsolv's `testsolv`). See write_testcase_on_problems.
    std::filesystem::path debug_dir;
    /// Write `debug_dir` only when the resolution has problems.
    bool debug_only_on_problems = true;
};

/// `yum update` / `dnf upgrade --best` of everything installed in `pool` (pool.installed() must
/// be loaded): the newest version of each installed package or a problem saying why not;
/// obsoletes honoured; installonly packages (pool.installonly()) installed beside the old
/// ones; packages that nothing installed needs are not pulled. Prepares the pool.
Resolution resolve_update(SolvPool& pool, const ResolveOptions& options = {});

/// `yum update` on an oVirt Node, under the version lock imgbased writes into each new layer:
/// every installed package whose name does not contain "image-update" is held at its installed
/// epoch:version-release (any arch), and with follow_obsoletes whatever obsoletes a held package
/// is hidden too. So only the newest image-update package and the new packages it needs can
/// come. `unlocked` names installed packages the admin wants updated anyway (the RPMs imgbased
/// keeps in /var/imgbased/persisted-rpms and re-installs into every new layer): an inventory
/// cannot tell them from the image's own packages, so they are held unless named here.
/// Prepares the pool and hides the locked versions from it for good.
Resolution resolve_node_update(SolvPool& pool, const std::vector<std::string>& unlocked,
                               const ResolveOptions& options = {});

/// Installs `roots` (package names, `name.arch`, or provides such as "config(x)") on an empty
/// system, newest versions (--best). An unknown root is a problem ("nothing provides requested
/// X"), not an exception. Ignores any installed repo in `pool`. Prepares the pool.
Resolution resolve_install(SolvPool& pool, const std::vector<std::string>& roots, const ResolveOptions& options = {});

/// What `names` (package names) would change if a package manager ran "install if missing,
/// update if installed" on just them, with everything their new versions require: engine-setup's
/// own package transaction. Names no repo has are left out. Prepares the pool.
Resolution resolve_install_update(SolvPool& pool, const std::vector<std::string>& names,
                                  const ResolveOptions& options = {});

/// Repo copies of the installed packages whose names match `patterns` (fnmatch globs), e.g.
/// the versions engine-setup needs for rollback ("ovirt-engine*"). Same name, epoch, version,
/// release and arch, from a repo whose filters let it through; reason "installed".
struct InstalledCopies {
    std::vector<ResolvedPackage> packages;  // sorted by nevra
    std::vector<std::string> missing;       // installed nevras no repo carries, sorted
};
InstalledCopies find_installed_copies(SolvPool& pool, const std::vector<std::string>& patterns);

}  // namespace airgap::repo
