#include "repo/solv/resolve.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

#include "repo/base/error.hpp"
#include "repo/solv/solv_queue_private.hpp"

extern "C" {
#include <solv/bitmap.h>
#include <solv/chksum.h>
#include <solv/evr.h>
#include <solv/knownid.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/queue.h>
#include <solv/repo.h>
#include <solv/rules.h>
#include <solv/selection.h>
#include <solv/solvable.h>
#include <solv/solver.h>
#include <solv/testcase.h>
#include <solv/transaction.h>
}

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

struct SolverFree {
    void operator()(Solver* s) const noexcept { solver_free(s); }
};
struct TransactionFree {
    void operator()(Transaction* t) const noexcept { transaction_free(t); }
};
using SolverPtr = std::unique_ptr<Solver, SolverFree>;
using TransactionPtr = std::unique_ptr<Transaction, TransactionFree>;

// resolve_install solves as if nothing were installed; the pool gets its system back after.
class InstalledSwap {
public:
    InstalledSwap(Pool* pool, Repo* replacement) : pool_(pool), saved_(pool->installed) { set(replacement); }
    ~InstalledSwap() { set(saved_); }
    InstalledSwap(const InstalledSwap&) = delete;
    InstalledSwap& operator=(const InstalledSwap&) = delete;

private:
    void set(Repo* repo) {
        if (pool_->installed == repo) return;
        pool_set_installed(pool_, repo);
        if (!pool_->whatprovides) pool_createwhatprovides(pool_);
    }
    Pool* pool_;
    Repo* saved_;
};

ResolvedPackage describe_package(Pool* pool, Solvable* s, PackageReason reason) {
    ResolvedPackage r;
    r.name = pool_id2str(pool, s->name);
    std::string evr = pool_id2str(pool, s->evr);
    std::string ver = evr;
    auto colon = evr.find(':');
    if (colon != std::string::npos) {
        r.epoch = std::stoull(evr.substr(0, colon));
        ver = evr.substr(colon + 1);
    }
    auto dash = ver.rfind('-');
    r.version = ver.substr(0, dash);
    r.release = dash == std::string::npos ? "" : ver.substr(dash + 1);
    r.arch = s->arch ? pool_id2str(pool, s->arch) : "";
    r.nevra = r.name + "-" + evr + "." + r.arch;
    r.repo = s->repo && s->repo->name ? s->repo->name : "";
    r.download_size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
    if (const char* loc = solvable_lookup_location(s, nullptr)) r.location = loc;
    Id type = 0;
    if (const char* sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type)) {
        r.checksum = sum;
        if (const char* t = solv_chksum_type2str(type)) r.checksum_type = t;
    }
    r.reason = reason;
    return r;
}

// dnf's layout: the first rule of the problem heads it, the others follow as "  - " lines.
std::string describe_problem(Solver* solv, Id problem) {
    IdQueue rules;
    solver_findallproblemrules(solv, problem, rules.get());
    std::vector<std::string> lines;
    for (int i = 0; i < rules.size(); ++i) {
        Id source = 0, target = 0, dep = 0;
        SolverRuleinfo type = solver_ruleinfo(solv, rules[i], &source, &target, &dep);
        std::string line = solver_problemruleinfo2str(solv, type, source, target, dep);
        if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
    }
    if (lines.empty()) lines.emplace_back(solver_problem2str(solv, problem));
    std::string text = "Problem " + std::to_string(problem) + ": " + lines[0];
    for (std::size_t i = 1; i < lines.size(); ++i) text += "\n  - " + lines[i];
    return text;
}

void write_testcase(Solver* solv, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!testcase_write(solv, dir.c_str(), TESTCASE_RESULT_TRANSACTION | TESTCASE_RESULT_PROBLEMS, nullptr, nullptr))
        throw ConfigError("cannot write the solver testcase to " + dir.string());
}

// The job is complete but for installonly and the solver flags, which are the same for both.
Resolution solve(SolvPool& spool, IdQueue& job, const std::set<Id>& roots, const ResolveOptions& options) {
    Pool* pool = spool.get();
    // dnf applies --best to every job.
    for (int i = 0; i < job.get()->count; i += 2) job.get()->elements[i] |= SOLVER_FORCEBEST;
    for (const auto& name : spool.installonly())
        job.push2(SOLVER_MULTIVERSION | SOLVER_SOLVABLE_PROVIDES, pool_str2id(pool, name.c_str(), 1));

    SolverPtr solv(solver_create(pool));
    // dnf's defaults; EL7 yum knows no weak dependencies, so recommends are not followed.
    solver_set_flag(solv.get(), SOLVER_FLAG_ALLOW_VENDORCHANGE, 1);
    solver_set_flag(solv.get(), SOLVER_FLAG_BEST_OBEY_POLICY, 1);
    solver_set_flag(solv.get(), SOLVER_FLAG_YUM_OBSOLETES, 1);
    solver_set_flag(solv.get(), SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
    solver_set_flag(solv.get(), SOLVER_FLAG_ALLOW_UNINSTALL, 0);

    Resolution result;
    int nproblems = solver_solve(solv.get(), job.get());
    for (Id p = 1; p <= nproblems; ++p) result.problems.push_back(describe_problem(solv.get(), p));
    if (!options.debug_dir.empty() && (nproblems > 0 || !options.debug_only_on_problems))
        write_testcase(solv.get(), options.debug_dir);
    if (nproblems > 0) return result;

    TransactionPtr trans(solver_create_transaction(solv.get()));
    const int mode =
        SOLVER_TRANSACTION_SHOW_ACTIVE | SOLVER_TRANSACTION_SHOW_OBSOLETES | SOLVER_TRANSACTION_SHOW_MULTIINSTALL;
    // In solvable order: a repo loaded from a .solv cache pages its data in that order, and
    // random lookups would decompress the same pages again and again.
    std::vector<Id> steps(trans->steps.elements, trans->steps.elements + trans->steps.count);
    std::sort(steps.begin(), steps.end());
    std::set<Id> installed_names;
    if (pool->installed) {
        Id q;
        Solvable* is;
        FOR_REPO_SOLVABLES(pool->installed, q, is) { installed_names.insert(is->name); }
    }
    for (Id p : steps) {
        Solvable* s = pool_id2solvable(pool, p);
        if (pool->installed && s->repo == pool->installed) {
            result.replaced.emplace_back(pool_solvable2str(pool, s));
            continue;
        }
        PackageReason reason = PackageReason::dependency;
        bool installonly = false;
        switch (transaction_type(trans.get(), p, mode)) {
            case SOLVER_TRANSACTION_UPGRADE:
            case SOLVER_TRANSACTION_DOWNGRADE:
            case SOLVER_TRANSACTION_CHANGE:
            case SOLVER_TRANSACTION_REINSTALL:
            case SOLVER_TRANSACTION_OBSOLETES:
                reason = PackageReason::update;
                break;
            case SOLVER_TRANSACTION_MULTIINSTALL:
                // A new kernel beside the old one is an update; a first one is not.
                installonly = true;
                if (installed_names.count(s->name)) reason = PackageReason::update;
                break;
            default:
                break;
        }
        if (roots.count(p)) reason = PackageReason::root;
        ResolvedPackage package = describe_package(pool, s, reason);
        package.installonly = installonly;
        // The installed packages it takes the place of: its older self, and what it obsoletes.
        IdQueue old;
        transaction_all_obs_pkgs(trans.get(), p, old.get());
        for (int i = 0; i < old.size(); ++i) {
            Solvable* o = pool_id2solvable(pool, old[i]);
            if (o->name == s->name)
                package.installed_evr = pool_id2str(pool, o->evr);
            else
                package.replacing.emplace_back(pool_solvable2str(pool, o));
        }
        result.packages.push_back(std::move(package));
    }
    std::sort(result.replaced.begin(), result.replaced.end());
    std::sort(result.packages.begin(), result.packages.end(),
              [](const ResolvedPackage& a, const ResolvedPackage& b) { return a.nevra < b.nevra; });
    return result;
}

}  // namespace

namespace {
// The one list of the words: to_string and parse_package_reason both read it.
constexpr std::pair<PackageReason, std::string_view> kReasonWords[] = {
    {PackageReason::root, "root"},
    {PackageReason::update, "update"},
    {PackageReason::dependency, "dependency"},
    {PackageReason::rollback, "rollback"},
    {PackageReason::installed, "installed"},
};
}  // namespace

std::string_view to_string(PackageReason reason) {
    for (const auto& [r, word] : kReasonWords)
        if (r == reason) return word;
    return "?";
}

std::optional<PackageReason> parse_package_reason(std::string_view word) {
    for (const auto& [r, w] : kReasonWords)
        if (w == word) return r;
    return std::nullopt;
}

Resolution resolve_update(SolvPool& spool, const ResolveOptions& options) {
    if (!spool.installed()) throw std::logic_error("resolve_update: no installed system loaded");
    spool.prepare();
    IdQueue job;
    job.push2(SOLVER_UPDATE | SOLVER_SOLVABLE_ALL, 0);
    return solve(spool, job, {}, options);
}

Resolution resolve_node_update(SolvPool& spool, const std::vector<std::string>& unlocked,
                               const ResolveOptions& options) {
    if (!spool.installed()) throw std::logic_error("resolve_node_update: no installed system loaded");
    spool.prepare();
    Pool* pool = spool.get();
    Repo* installed = pool->installed;

    // imgbased (src/imgbased/plugins/osupdater.py, configure_versionlock) writes one
    // versionlock.list line per package of the new layer's rpmdb, skipping names that contain
    // "image-update", and turns on follow_obsoletes. yum's versionlock plugin
    // (yum-utils plugins/versionlock/versionlock.py) then hides every version of a listed name
    // whose name-epoch:version-release is not listed, whatever its arch.
    std::map<Id, std::set<Id>> held;  // name -> the evrs the lock lets through
    std::map<Id, Solvable*> installed_by_name;
    Id p;
    Solvable* s;
    FOR_REPO_SOLVABLES(installed, p, s) {
        std::string name = pool_id2str(pool, s->name);
        if (name.find("image-update") != std::string::npos) continue;
        if (std::find(unlocked.begin(), unlocked.end(), name) != unlocked.end()) continue;
        held[s->name].insert(s->evr);
        auto& newest = installed_by_name[s->name];
        if (!newest || pool_evrcmp(pool, s->evr, newest->evr, EVRCMP_COMPARE) > 0) newest = s;
    }
    // follow_obsoletes: a package obsoleting a held one has its whole name hidden.
    std::vector<Id> obsoleters;
    for (Id q = 2; q < pool->nsolvables; ++q) {
        Solvable* c = pool_id2solvable(pool, q);
        if (!c->repo || c->repo == installed || !c->obsoletes || held.count(c->name)) continue;
        for (Id* obs = c->repo->idarraydata + c->obsoletes; *obs; ++obs) {
            Id ip, ipp;
            bool hit = false;
            FOR_PROVIDES(ip, ipp, *obs) {
                Solvable* is = pool_id2solvable(pool, ip);
                if (is->repo == installed && held.count(is->name) && pool_match_nevr(pool, is, *obs)) hit = true;
            }
            if (hit) {
                obsoleters.push_back(c->name);
                break;
            }
        }
    }
    for (Id name : obsoleters) held[name];

    if (!pool->considered) {
        pool->considered = static_cast<Map*>(solv_calloc(1, sizeof(Map)));
        map_init(pool->considered, pool->nsolvables);
        map_setall(pool->considered);
    }
    std::map<Id, Solvable*> newer;  // held installed name -> its newest hidden version
    for (Id q = 2; q < pool->nsolvables; ++q) {
        Solvable* c = pool_id2solvable(pool, q);
        if (!c->repo || c->repo == installed || !MAPTST(pool->considered, q)) continue;
        auto it = held.find(c->name);
        if (it == held.end() || it->second.count(c->evr)) continue;
        map_clr(pool->considered, q);
        auto inst = installed_by_name.find(c->name);
        if (inst == installed_by_name.end() || pool_evrcmp(pool, c->evr, inst->second->evr, EVRCMP_COMPARE) <= 0)
            continue;
        auto& n = newer[c->name];
        if (!n || pool_evrcmp(pool, c->evr, n->evr, EVRCMP_COMPARE) > 0) n = c;
    }
    pool_createwhatprovides(pool);

    IdQueue job;
    job.push2(SOLVER_UPDATE | SOLVER_SOLVABLE_ALL, 0);
    Resolution result = solve(spool, job, {}, options);
    for (const auto& [name, c] : newer)
        result.locked.push_back(std::string(pool_solvable2str(pool, installed_by_name.at(name))) +
                                " (newer: " + pool_id2str(pool, c->evr) + ")");
    std::sort(result.locked.begin(), result.locked.end());
    return result;
}

Resolution resolve_install(SolvPool& spool, const std::vector<std::string>& roots, const ResolveOptions& options) {
    spool.prepare();
    Pool* pool = spool.get();
    InstalledSwap empty_system(pool, nullptr);
    IdQueue job;
    std::set<Id> root_ids;
    for (const auto& root : roots) {
        IdQueue sel;
        selection_make(pool, sel.get(), root.c_str(),
                       SELECTION_NAME | SELECTION_PROVIDES | SELECTION_FILELIST | SELECTION_DOTARCH | SELECTION_REL);
        if (sel.size() == 0) {
            // libsolv then reports "nothing provides requested ROOT".
            job.push2(SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES, pool_str2id(pool, root.c_str(), 1));
            continue;
        }
        IdQueue matches;
        selection_solvables(pool, sel.get(), matches.get());
        for (int i = 0; i < matches.size(); ++i) root_ids.insert(matches[i]);
        for (int i = 0; i < sel.size(); i += 2) job.push2(sel[i] | SOLVER_INSTALL, sel[i + 1]);
    }
    return solve(spool, job, root_ids, options);
}

Resolution resolve_install_update(SolvPool& spool, const std::vector<std::string>& names,
                                  const ResolveOptions& options) {
    if (!spool.installed()) throw std::logic_error("resolve_install_update: no installed system loaded");
    spool.prepare();
    Pool* pool = spool.get();
    IdQueue job;
    for (const auto& name : names) {
        Id id = pool_str2id(pool, name.c_str(), 0);
        if (!id) continue;
        bool installed = false, available = false;
        Id p, pp;
        FOR_PROVIDES(p, pp, id) {
            Solvable* s = pool_id2solvable(pool, p);
            if (s->name != id) continue;
            (s->repo == pool->installed ? installed : available) = true;
        }
        if (installed)
            job.push2(SOLVER_UPDATE | SOLVER_SOLVABLE_NAME, id);
        else if (available)
            job.push2(SOLVER_INSTALL | SOLVER_SOLVABLE_NAME, id);
    }
    return solve(spool, job, {}, options);
}

InstalledCopies find_installed_copies(SolvPool& spool, const std::vector<std::string>& patterns) {
    spool.prepare();
    Pool* pool = spool.get();
    InstalledCopies result;
    Repo* installed = pool->installed;
    if (!installed) return result;
    Id p;
    Solvable* s;
    FOR_REPO_SOLVABLES(installed, p, s) {
        const char* name = pool_id2str(pool, s->name);
        bool wanted = std::any_of(patterns.begin(), patterns.end(),
                                  [&](const std::string& pat) { return fnmatch(pat.c_str(), name, 0) == 0; });
        if (!wanted) continue;
        Id found = 0;
        Id q, qq;
        FOR_PROVIDES(q, qq, s->name) {
            Solvable* c = pool_id2solvable(pool, q);
            // whatprovides leaves out what includepkgs/excludepkgs hide (pool->considered).
            if (c->repo != installed && c->name == s->name && c->evr == s->evr && c->arch == s->arch) {
                found = q;
                break;
            }
        }
        if (found)
            result.packages.push_back(describe_package(pool, pool_id2solvable(pool, found), PackageReason::installed));
        else
            result.missing.emplace_back(pool_solvable2str(pool, s));
    }
    std::sort(result.packages.begin(), result.packages.end(),
              [](const ResolvedPackage& a, const ResolvedPackage& b) { return a.nevra < b.nevra; });
    std::sort(result.missing.begin(), result.missing.end());
    return result;
}

}  // namespace airgap::repo
