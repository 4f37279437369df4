#include "repo/apply/preflight_private.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <fstream>
#include <system_error>

#include "repo/apply/engine_setup_answers.hpp"
#include "repo/apply/hosted_engine_private.hpp"
#include "repo/apply/node_image_private.hpp"
#include "repo/apply/role_fit_private.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/base/error.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/target.hpp"
#include "repo/repos/metadata.hpp"
#include "repo/solv/local_repos.hpp"
#include "repo/solv/solv_pool.hpp"
#include "repo/state/atomic_file.hpp"

extern "C" {
#include <solv/evr.h>
#include <solv/pool.h>
}

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

// The pids of the virtual machines running on this machine: EL7's qemu-kvm (/usr/libexec/qemu-kvm,
// which vdsm starts through libvirt) or an upstream qemu-system-* binary.
// Only processes of our own pid namespace count: libvirt starts a host's VMs beside vdsm, in
// the namespace the applier runs in, and a qemu inside a container is not a VM of this host. A
// process whose namespace cannot be read counts (the safe answer).
std::vector<std::string> running_vm_pids() {
    std::vector<std::string> pids;
    std::error_code ec;
    const fs::path own_ns = fs::read_symlink("/proc/self/ns/pid", ec);
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string pid = it->path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(it->path() / "comm");
        std::string comm;
        if (!std::getline(in, comm)) continue;  // gone meanwhile
        if (comm != "qemu-kvm" && comm.rfind("qemu-system-", 0) != 0) continue;
        std::error_code ns_ec;
        const fs::path ns = fs::read_symlink(it->path() / "ns/pid", ns_ec);
        if (!ns_ec && !own_ns.empty() && ns != own_ns) continue;
        pids.push_back(pid);
    }
    std::sort(pids.begin(), pids.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    return pids;
}

// `yum update` on a hypervisor whose VMs still run replaces vdsm and qemu under them. Without the
// Engine to move the host into Maintenance, the update goes on only when no VM runs here or the
// administrator says the host is in Maintenance.
void require_host_in_maintenance(const ApplyOptions& o) {
    if (!o.host_update || o.maintenance || o.host_in_maintenance) return;
    auto pids = running_vm_pids();
    if (pids.empty()) return;
    throw ConfigError(std::to_string(pids.size()) + " virtual machine(s) run on this host (qemu pid " +
                      joined(pids, ", ") +
                      "): move the host to Maintenance in the Engine first (or give --engine-url), then run "
                      "again with --host-in-maintenance");
}

// psql as engine-setup finds it on a 4.3 engine: the rh-postgresql10 collection's, else the system's.
fs::path engine_psql(const Target& target) {
    for (const char* candidate : {"/opt/rh/rh-postgresql10/root/usr/bin/psql", "/usr/bin/psql"})
        if (fs::exists(target.path(candidate))) return target.path(candidate);
    throw ConfigError("cannot ask the engine database whether this is a hosted engine: no psql in " +
                      target.path("/opt/rh/rh-postgresql10/root/usr/bin").string() + " or " +
                      target.path("/usr/bin").string());
}

// engine-setup refuses a hosted engine outside global maintenance, but only after it has been
// updated: asked of the engine's database before anything changes, with the same queries.
void require_no_hosted_engine_at_risk(const fs::path& root) {
    auto db = engine_database(root);
    if (!db) return;
    ScratchDir scratch("ovirt-airgap-he");
    // The password goes in a pgpass file, never on a command line (as engine-setup does it).
    fs::path pgpass = scratch.path() / "pgpass";
    write_file_atomic(
        pgpass, db->host + ":" + db->port + ":" + db->database + ":" + db->user + ":" + db->password + "\n", 0600);
    fs::path psql = engine_psql(Target(root));
    auto query = [&](const std::string& sql) {
        std::string out;
        Command psql_query(psql.string());
        psql_query.env("PGPASSFILE", pgpass.string())
            .args({"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", db->host, "-p", db->port, "-U", db->user, "-d",
                   db->database, "-c", sql});
        int code = psql_query.run_logged(scratch.path() / "psql.log",
                                         [&out](const char* data, std::size_t size) { out.append(data, size); });
        if (code != 0) {
            std::string first = out.substr(0, out.find('\n'));
            throw ConfigError("cannot ask the engine database whether this is a hosted engine: psql exited with " +
                              std::to_string(code) + (first.empty() ? "" : ": " + first));
        }
        return out;
    };
    if (auto why = hosted_engine_refusal(query))
        throw ConfigError("this is a hosted engine (" + *why +
                          "): put the cluster into global maintenance (hosted-engine --set-maintenance "
                          "--mode=global on a host) and run again");
}

}  // namespace

std::string joined(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

std::uint64_t free_bytes(const fs::path& path) {
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) != 0) return UINT64_MAX;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

std::optional<std::string> newest_kernel(const fs::path& root) {
    SolvPool pool;
    pool.set_installed_rpmdb(Target(root).root(), false);
    std::optional<PoolPackage> best;
    for (const auto& p : pool.installed_packages()) {
        if (p.name != "kernel") continue;
        if (!best || pool_evrcmp_str(pool.get(), p.evr.c_str(), best->evr.c_str(), EVRCMP_COMPARE) > 0) best = p;
    }
    if (!best) return std::nullopt;
    std::string evr = best->evr;
    if (auto colon = evr.find(':'); colon != std::string::npos) evr = evr.substr(colon + 1);
    return evr + "." + best->arch;
}

std::vector<std::string> below_target(const fs::path& root, const std::map<std::string, std::string>& targets) {
    SolvPool pool;
    pool.set_installed_rpmdb(Target(root).root(), false);
    std::vector<std::string> below;
    for (const auto& p : pool.installed_packages()) {
        auto it = targets.find(p.name);
        if (it == targets.end()) continue;
        std::string have = p.evr;
        if (auto colon = have.find(':'); colon != std::string::npos) have = have.substr(colon + 1);
        if (pool_evrcmp_str(pool.get(), have.c_str(), it->second.c_str(), EVRCMP_COMPARE) < 0)
            below.push_back(p.name + " " + have + " (target " + it->second + ")");
    }
    return below;
}

Preflight preflight_check(const std::string& role, const BundleManifest& m, const fs::path& staged,
                          const ApplyOptions& o, const fs::path& state_dir, Reporter& reporter) {
    // A Node's bundle that updates only persisted packages has no image version to reach.
    if (std::find(m.roles.begin(), m.roles.end(), role) == m.roles.end() ||
        (!m.target_versions.count(role) && role != "node"))
        throw BundleRefused("bundle " + m.id + " is not for role " + role + " (roles: " + joined(m.roles, ", ") + ")");

    if (role == "engine" && !o.he_global_maintenance_confirmed) require_no_hosted_engine_at_risk(o.root);
    if (role == "engine" && !o.answer_file.empty()) otopi_answer_file_keys(o.answer_file);  // readable?
    if (role == "host" || role == "node") require_host_in_maintenance(o);

    SolvPool pool;
    pool.set_installed_rpmdb(Target(o.root).root());
    ScratchDir cache("ovirt-airgap-apply");
    LocalRepoSet bundle(cache.path() / "metadata");
    for (const auto& r : m.repos)
        if (!bundle.add(bundle_repo_id(m.id, r.id), r.name, staged / r.path))
            throw ConfigError("bundle repo " + r.id + " has no metadata");
    bundle.add_to(pool);

    // Versions: the machine has the role's packages, none newer than the bundle's (the check a
    // run makes before it extracts anything; a dry run gets it only here).
    require_role_fits(role, m, o.root);

    Preflight p;
    // A Node's yum runs under imgbased's version lock: only the image update moves there.
    p.resolution = role == "node" ? resolve_node_update(pool, {}) : resolve_update(pool);
    if (!p.resolution.ok())
        throw ResolveProblem("the update does not resolve from the bundle's repos; nothing was changed",
                             p.resolution.problems);
    if (role == "node") {
        std::uint64_t image = 0;
        for (const auto& pkg : p.resolution.packages)
            if (pkg.name == kNodeImageUpdate) image += pkg.download_size;
        node_preflight(o.root, image);
    }

    // Free space: the packages' size twice over (download-free, but unpacked and kept by rpm)
    // on the root, and some room for logs and the answer file in the state dir.
    std::uint64_t need = 0;
    for (const auto& pkg : p.resolution.packages) need += pkg.download_size * 2;
    need += 64u << 20;
    const fs::path root_dir = Target(o.root).root();
    if (free_bytes(root_dir) < need)
        throw ConfigError("not enough free space on " + root_dir.string() + ": " + mib(free_bytes(root_dir)) +
                          " free, " + mib(need) + " needed");
    if (free_bytes(state_dir) < (64u << 20))
        throw ConfigError("not enough free space in " + state_dir.string() + ": 64 MiB needed");
    p.kernel = newest_kernel(o.root);
    reporter.message("preflight: " + std::to_string(p.resolution.packages.size()) +
                     " packages to install or update, the update resolves");
    return p;
}

}  // namespace airgap::repo
