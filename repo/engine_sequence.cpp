#include "repo/engine_sequence.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <system_error>

#include "repo/atomic_file.hpp"
#include "repo/bundle_verify.hpp"
#include "repo/error.hpp"
#include "repo/file_io.hpp"
#include "repo/held_repos.hpp"
#include "repo/hosted_engine.hpp"
#include "repo/interrupt.hpp"
#include "repo/journal.hpp"
#include "repo/metadata.hpp"
#include "repo/repo_originals.hpp"
#include "repo/resolve.hpp"
#include "repo/rpmdb_duplicates.hpp"
#include "repo/scratch_dir.hpp"
#include "repo/solv_pool.hpp"
#include "repo/spawn.hpp"
#include "repo/yum_repos.hpp"

extern "C" {
#include <solv/evr.h>
#include <solv/pool.h>
}

namespace airgap::repo {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// --- running commands ----------------------------------------------------------------------

std::string join(const std::vector<std::string>& parts, const std::string& sep = " ") {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

// Runs argv with stdin from /dev/null; stdout and stderr go to the reporter and are appended to
// `log`. Returns the exit code (128+signal when killed). ConfigError when it cannot start.
// `own_group`: the child runs in a process group of its own, so that the terminal's Ctrl-C (or a
// lost session's SIGHUP) reaches only us: we note it and stop once the child has finished.
int run_logged(const std::vector<std::string>& argv, const fs::path& log, ApplyReporter& reporter, bool own_group) {
    std::error_code ec;
    fs::create_directories(log.parent_path(), ec);
    Fd log_fd(open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (log_fd.get() < 0) throw ConfigError("cannot open log " + log.string());
    std::string header = "# " + join(argv) + "\n";
    if (write(log_fd.get(), header.data(), header.size()) < 0) throw ConfigError("cannot write log " + log.string());

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw ConfigError("pipe failed");
    Fd read_end(fds[0]), write_end(fds[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, write_end.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, write_end.get(), 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (own_group) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    pid_t pid = 0;
    int rc = spawn_child(argv, fa, pid, &attr);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw ConfigError("cannot run " + argv[0] + ": " + std::error_code(rc, std::generic_category()).message());
    write_end = Fd();  // the child has its copy: our read sees EOF once it exits
    char buf[65536];
    for (;;) {
        ssize_t n = read(read_end.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reporter.output(buf, static_cast<std::size_t>(n));
        if (write(log_fd.get(), buf, static_cast<std::size_t>(n)) < 0) {
            // A full disk must not stop engine-setup's output: the terminal still gets it.
        }
    }
    int status = wait_child(pid);
    if (status < 0) return 128;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> split_spaces(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream s(text);
    for (std::string w; s >> w;) out.push_back(w);
    return out;
}

// --- the target ----------------------------------------------------------------------------

fs::path inside_root(const fs::path& root, const fs::path& path) {
    if (root.empty() || root == "/") return path;
    return root / path.relative_path();
}

std::uint64_t free_bytes(const fs::path& path) {
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) != 0) return UINT64_MAX;  // cannot tell: do not block on it
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

// Newest installed kernel as `uname -r` prints it ("3.10.0-1160.el7.x86_64"), if any.
std::optional<std::string> newest_kernel(const fs::path& root) {
    SolvPool pool;
    pool.set_installed_rpmdb(root.empty() ? fs::path("/") : root, false);
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

// The role's packages installed below the bundle's target version, as "NAME VR (target VR)";
// packages not installed are not counted (a host without, say, ovirt-hosted-engine-setup).
std::vector<std::string> below_target(const fs::path& root, const std::map<std::string, std::string>& targets) {
    SolvPool pool;
    pool.set_installed_rpmdb(root.empty() ? fs::path("/") : root, false);
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

std::string running_kernel() {
    struct utsname u {};
    if (uname(&u) != 0) return {};
    return u.release;
}

// Changes with every boot: tells a re-run whether the reboot a new kernel needs has happened.
std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

// Archive and hashing progress, passed on to the reporter.
class ProgressAdapter : public ArchiveCallbacks {
public:
    ProgressAdapter(ApplyReporter& r, std::string what) : r_(r), what_(std::move(what)) {}
    bool bytes(std::uint64_t done, std::uint64_t total) override {
        r_.progress(what_, done, total);
        return !interrupted();
    }

private:
    ApplyReporter& r_;
    std::string what_;
};

// The pids of the virtual machines running on this machine: EL7's qemu-kvm (/usr/libexec/qemu-kvm,
// which vdsm starts through libvirt) or an upstream qemu-system-* binary.
std::vector<std::string> running_vm_pids() {
    std::vector<std::string> pids;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string pid = it->path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(it->path() / "comm");
        std::string comm;
        if (!std::getline(in, comm)) continue;  // gone meanwhile
        if (comm == "qemu-kvm" || comm.rfind("qemu-system-", 0) == 0) pids.push_back(pid);
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
                      join(pids, ", ") +
                      "): move the host to Maintenance in the Engine first (or give --engine-url), then run "
                      "again with --host-in-maintenance");
}

// psql as engine-setup finds it on a 4.3 engine: the rh-postgresql10 collection's, else the system's.
fs::path engine_psql(const fs::path& root) {
    for (const char* candidate : {"/opt/rh/rh-postgresql10/root/usr/bin/psql", "/usr/bin/psql"})
        if (fs::exists(inside_root(root, candidate))) return inside_root(root, candidate);
    throw ConfigError("cannot ask the engine database whether this is a hosted engine: no psql in " +
                      inside_root(root, "/opt/rh/rh-postgresql10/root/usr/bin").string() + " or " +
                      inside_root(root, "/usr/bin").string());
}

// Collects a command's output (stdout and stderr together).
class CapturingReporter : public ApplyReporter {
public:
    void output(const char* data, std::size_t size) override { text.append(data, size); }
    std::string text;
};

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
    fs::path psql = engine_psql(root);
    auto query = [&](const std::string& sql) {
        CapturingReporter out;
        std::vector<std::string> argv{"env",         "PGPASSFILE=" + pgpass.string(),
                                      psql.string(), "-X",
                                      "-A",          "-t",
                                      "-v",          "ON_ERROR_STOP=1",
                                      "-h",          db->host,
                                      "-p",          db->port,
                                      "-U",          db->user,
                                      "-d",          db->database,
                                      "-c",          sql};
        int code = run_logged(argv, scratch.path() / "psql.log", out, false);
        if (code != 0) {
            std::string first = out.text.substr(0, out.text.find('\n'));
            throw ConfigError("cannot ask the engine database whether this is a hosted engine: psql exited with " +
                              std::to_string(code) + (first.empty() ? "" : ": " + first));
        }
        return out.text;
    };
    if (auto why = hosted_engine_refusal(query))
        throw ConfigError("this is a hosted engine (" + *why +
                          "): put the cluster into global maintenance (hosted-engine --set-maintenance "
                          "--mode=global on a host) and run again");
}

struct Preflight {
    Resolution resolution;
    std::optional<std::string> kernel;
};

// Role, versions, hosted engine, free space and the libsolv check. Changes nothing.
Preflight preflight_check(const std::string& role, const BundleManifest& m, const fs::path& staged,
                          const ApplyOptions& o, const fs::path& state_dir, ApplyReporter& reporter) {
    if (std::find(m.roles.begin(), m.roles.end(), role) == m.roles.end() || !m.target_versions.count(role))
        throw BundleRefused("bundle " + m.id + " is not for role " + role + " (roles: " + join(m.roles, ", ") + ")");

    if (role == "engine" && !o.he_global_maintenance_confirmed) require_no_hosted_engine_at_risk(o.root);
    if (role == "engine" && !o.answer_file.empty()) otopi_answer_file_keys(o.answer_file);  // readable?
    if (role == "host") require_host_in_maintenance(o);

    SolvPool pool;
    pool.set_installed_rpmdb(o.root.empty() ? fs::path("/") : o.root);
    ScratchDir cache("ovirt-airgap-apply");
    MetadataFetcher fetcher(cache.path() / "metadata");
    for (const auto& r : m.repos) {
        RepoConfig config;
        config.id = bundle_repo_id(m.id, r.id);
        config.name = r.name;
        config.baseurls = {"file://" + (staged / r.path).lexically_normal().string()};
        auto md = fetcher.fetch(config);
        if (!md) throw ConfigError("bundle repo " + r.id + " has no metadata");
        pool.add_repo(*md, config);
    }

    // Versions: the machine has the role's packages, none newer than the bundle's.
    std::map<std::string, std::string> installed;
    for (const auto& p : pool.installed_packages()) installed[p.name] = p.evr;
    const auto& targets = m.target_versions.at(role);
    bool any = false;
    for (const auto& [name, vr] : targets) {
        auto it = installed.find(name);
        if (it == installed.end()) continue;
        any = true;
        std::string have = it->second;
        if (auto colon = have.find(':'); colon != std::string::npos) have = have.substr(colon + 1);
        if (pool_evrcmp_str(pool.get(), have.c_str(), vr.c_str(), EVRCMP_COMPARE) > 0)
            throw ConfigError("installed " + name + "-" + have + " is newer than the bundle's " + vr);
    }
    if (!targets.empty() && !any)
        throw ConfigError("this machine is not an " + role + ": none of the bundle's " + role +
                          " packages is installed");

    Preflight p;
    p.resolution = resolve_update(pool);
    if (!p.resolution.ok())
        throw ResolveProblem("the update does not resolve from the bundle's repos; nothing was changed",
                             p.resolution.problems);

    // Free space: the packages' size twice over (download-free, but unpacked and kept by rpm)
    // on the root, and some room for logs and the answer file in the state dir.
    std::uint64_t need = 0;
    for (const auto& pkg : p.resolution.packages) need += pkg.download_size * 2;
    need += 64u << 20;
    fs::path root_dir = o.root.empty() ? fs::path("/") : o.root;
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

// --- the sequence --------------------------------------------------------------------------

class Sequence {
public:
    Sequence(std::string command, std::vector<std::string> steps, const ApplyOptions& o, ApplyReporter& r)
        : command_(std::move(command)), steps_(std::move(steps)), o_(o), r_(r) {
        state_dir_ = o_.state_dir.empty() ? Journal::default_state_dir() : o_.state_dir;
        role_ = command_ == "engine" ? "engine" : "host";
    }

    void run() {
        if (o_.dry_run) return dry_run();
        // Verified before the state dir is even created: a refused bundle leaves no trace.
        verify();
        std::error_code ec;
        fs::create_directories(state_dir_, ec);
        if (ec) throw ConfigError("cannot create state dir " + state_dir_.string() + ": " + ec.message());
        FileLock lock(Journal::lock_file(state_dir_));
        // Two runs on one system with different state dirs would change it at once: lock the
        // system too.
        fs::create_directories(root_lock_file().parent_path(), ec);
        FileLock root_lock(root_lock_file());
        check_serial(bundle_.manifest, last_serial());  // another applier may have finished meanwhile
        restore_orphaned_repos();
        journal_.emplace(Journal::open(state_dir_, command_,
                                       JournalBundle{bundle_.manifest.id, bundle_.manifest.serial, o_.bundle.string()},
                                       steps_));
        Journal& j = *journal_;
        if (j.resumed()) {
            auto first = j.first_unfinished_step();
            r_.message("resuming at step " + (first ? steps_[*first] : std::string("(none)")));
            restore_repos();  // a killed run may have left them disabled
        }
        for (const auto& name : steps_) {
            if (j.step(name).status == StepStatus::done) {
                reload(name);
                continue;
            }
            if (name == "activate" && stop_for_reboot()) return;
            run_step(name);
            // A signal during a step that is not stopped (engine-setup) ends the run right after it.
            if (interrupted()) {
                restore_repos();
                throw Interrupted("interrupted after step " + name + "; run the same command again to resume");
            }
        }
        if (record_applied) {
            j.record_applied();
            // A copy where `rm -rf` of the state dir does not reach: anti-rollback survives it.
            std::error_code ec;
            fs::create_directories(serial_copy_dir(), ec);
            if (auto applied = read_applied(state_dir_)) write_applied(serial_copy_dir(), *applied);
        }
        r_.message(command_ + ": bundle " + bundle_.manifest.id + " (serial " +
                   std::to_string(bundle_.manifest.serial) + ") done");
        maybe_reboot();
    }

private:
    fs::path root_lock_file() const { return inside_root(o_.root, "/run/ovirt-airgap.lock"); }
    fs::path serial_copy_dir() const { return inside_root(o_.root, "/etc/ovirt-airgap"); }

    // The last serial applied on this system: the state dir's record or its copy in /etc,
    // whichever is higher (either may be gone).
    std::optional<std::uint64_t> last_serial() const {
        auto a = last_applied_serial(state_dir_), b = last_applied_serial(serial_copy_dir());
        if (a && b) return std::max(*a, *b);
        return a ? a : b;
    }

    void verify() {
        VerifyOptions vo = verify_options();
        vo.check_files = false;
        vo.check_expiry = false;
        bundle_ = verify_bundle(o_.bundle, vo);
        check_serial(bundle_.manifest, last_serial());
        // A bundle for other machines is refused before it is staged, also where no preflight runs.
        const auto& roles = bundle_.manifest.roles;
        if (std::find(roles.begin(), roles.end(), role_) == roles.end())
            throw BundleRefused("bundle " + bundle_.manifest.id + " is not for role " + role_ +
                                " (roles: " + join(roles, ", ") + ")");
        // A resumed run checks the signature only: the staged copy is hashed again before use.
        auto existing = Journal::load(state_dir_);
        bool resuming = existing && !existing->complete() && existing->command() == command_ &&
                        existing->bundle().id == bundle_.manifest.id;
        // Expiry is checked when a run starts: a started run finishes with the bundle it began.
        if (!resuming) check_not_expired(bundle_.manifest, vo.now);
        bool verified_before = resuming && existing->step("verify").status == StepStatus::done;
        std::string started_with = verified_before ? existing->step("verify").data.value("manifest_sha256", "") : "";
        if (!started_with.empty() && started_with != bundle_.manifest_sha256)
            throw BundleRefused(o_.bundle.string() + " is not the medium this run started with: bundle " +
                                bundle_.manifest.id + " has another bundle.json (SHA-256 " + bundle_.manifest_sha256 +
                                ", the run began with " + started_with + ")");
        if (!verified_before) {
            r_.message("verifying " + std::to_string(bundle_.manifest.files.size()) + " files of bundle " +
                       bundle_.manifest.id + " (serial " + std::to_string(bundle_.manifest.serial) + ")" +
                       (bundle_.base ? " and the " + std::to_string(bundle_.manifest.base_bundle->files.size()) +
                                           " its base bundle " + bundle_.base->manifest.id + " lends"
                                     : ""));
            vo.check_files = true;
            ProgressAdapter progress(r_, "verifying");
            try {
                bundle_ = verify_bundle(o_.bundle, vo, &progress);
            } catch (const Interrupted&) {
                throw Interrupted("interrupted during step verify; run the same command again");
            }
        }
        r_.message("signed by " + bundle_.signer.subject + " (SHA-256 " + bundle_.signer.fingerprint_sha256 + ")");
    }

    void run_step(const std::string& name) {
        Journal& j = *journal_;
        r_.message("step " + name + ": running");
        resuming_step_ = j.step(name).status != StepStatus::pending;
        j.begin_step(name);
        try {
            throw_if_interrupted("interrupted before it started");
            bool finished = step(name);
            if (!finished) return;  // the step journaled itself (skipped steps)
            j.finish_step(name);
            r_.message("step " + name + ": done");
        } catch (const std::exception& e) {
            bool stopped = dynamic_cast<const Interrupted*>(&e) != nullptr || interrupted();
            std::string what = stopped ? "interrupted (" + describe(e) + ")" : describe(e);
            try {
                j.fail_step(name, what);
            } catch (const std::exception& journal_error) {
                // A journal that cannot be written (full disk) must not keep the repos disabled.
                r_.message("could not journal the failure: " + describe(journal_error));
            }
            r_.message("step " + name + ": failed: " + what);
            try {
                restore_repos();
            } catch (const std::exception& restore_error) {
                r_.message("could not restore the repo files: " + describe(restore_error));
            }
            if (stopped)
                throw Interrupted("interrupted during step " + name + "; run the same command again to resume");
            // Refusals, dependency problems and a machine that does not fit are found before any
            // change to the target: they keep their own exit codes.
            bool before_changes = name == "verify" || name == "stage" || name == "preflight";
            if (before_changes && (dynamic_cast<const BundleRefused*>(&e) || dynamic_cast<const ResolveProblem*>(&e) ||
                                   dynamic_cast<const ConfigError*>(&e))) {
                abandon_untouched_run();
                throw;
            }
            std::throw_with_nested(StepFailed("step " + name + " failed; run the same command again to resume"));
        }
    }

    // A run refused before it changed anything leaves no unfinished journal behind (it would
    // block the next, good bundle) and no staged copy.
    void abandon_untouched_run() {
        std::error_code ec;
        fs::remove_all(staged_dir_for(staging_root(), bundle_.manifest.id), ec);
        fs::remove(Journal::journal_file(state_dir_), ec);
    }

    // A package manager that cannot be started is found before anything changes.
    void check_package_manager() const {
        if (std::none_of(steps_.begin(), steps_.end(), [](const std::string& s) { return s == "update"; })) return;
        require_package_manager(o_);
    }

    // The state a done step left, for the steps after it.
    void reload(const std::string& name) {
        const json& data = journal_->step(name).data;
        // After unstage (a host waiting for its reboot) the bundle and its repo file stay gone.
        if ((name == "stage" || name == "repos") && step_done("unstage")) return;
        if (name == "stage") {
            reload_stage(data.value("dir", ""));
        } else if (name == "preflight") {
            kernel_before_ = data.value("kernel", "");
            host_name_ = data.value("host", "");
        } else if (name == "repos") {
            write_bundle_repofile(o_.root, bundle_.manifest, staged_.dir);
        } else if (name == "kernel-check") {
            reboot_needed_ = data.value("reboot_needed", false);
            boot_id_at_check_ = data.value("boot_id", "");
        }
    }

    bool step_done(const std::string& name) const {
        if (std::find(steps_.begin(), steps_.end(), name) == steps_.end()) return false;
        return journal_->step(name).status == StepStatus::done;
    }

    bool own_machine() const { return o_.root.empty() || o_.root == "/"; }

    // Appendix C: a host updated to a new kernel is activated only after its reboot. True when
    // this run stops here (after rebooting with --reboot). A re-run on this machine knows the
    // reboot by its boot id; under --root it cannot see one and goes on.
    bool stop_for_reboot() {
        if (!reboot_needed_) return false;
        bool same_boot =
            checked_this_run_ || (own_machine() && !boot_id_at_check_.empty() && boot_id() == boot_id_at_check_);
        if (!same_boot) {
            reboot_needed_ = false;  // rebooted: the end of this run must not reboot again
            return false;
        }
        r_.message(host_name_ + " stays in Maintenance: reboot" + (checked_this_run_ ? "" : " first") +
                   ", then run the same command again to activate it");
        if (checked_this_run_) maybe_reboot();
        return true;
    }

    bool step(const std::string& name) {
        if (name == "verify") {
            // What a resumed run's medium must still be.
            journal_->set_step_data(name, {{"manifest_sha256", bundle_.manifest_sha256}});
            return true;
        }
        if (name == "stage") return do_stage(), true;
        if (name == "preflight") {
            check_package_manager();
            Preflight p = preflight_check(role_, bundle_.manifest, staged_.dir, o_, state_dir_, r_);
            kernel_before_ = p.kernel.value_or("");
            json data{{"kernel", kernel_before_}, {"packages", p.resolution.packages.size()}};
            if (o_.maintenance) {
                // Before any change: a host the Engine does not know is a configuration error.
                host_name_ = o_.maintenance->find_host();
                data["host"] = host_name_;
                r_.message("the Engine knows this host as " + host_name_);
            }
            journal_->set_step_data(name, data);
            return true;
        }
        if (name == "maintenance") return require_maintenance().deactivate(host_name_), true;
        if (name == "activate") return require_maintenance().activate(host_name_), true;
        if (name == "repos") {
            fs::path file = write_bundle_repofile(o_.root, bundle_.manifest, staged_.dir);
            r_.message("wrote " + file.string());
            retire_earlier_bundles();
            if (command_ == "engine")
                disable_repos();
            else if (o_.host_update)
                release_held();  // the update runs with our repos only; rpm then sees theirs as they were
            else
                for (const auto& f : hold_repos(o_.root, state_dir_, bundle_.manifest.id))
                    r_.message("disabled the repos of " + f.string() + " while the bundle is staged");
            return true;
        }
        if (name == "engine-upgrade-check") return upgrade_check();
        if (name == "update-setup") return package_manager(name, {"update", "ovirt*setup*"}), true;
        if (name == "engine-setup") return engine_setup(), true;
        if (name == "restore-repos") return restore_repos(), true;
        if (name == "update") return package_manager(name, {"update"}), check_targets_reached(), true;
        if (name == "kernel-check") return kernel_check(), true;
        if (name == "unstage") {
            remove_bundle_repofile(o_.root, bundle_.manifest.id);
            unstage_bundle(staged_);
            return true;
        }
        throw std::logic_error("unknown step " + name);
    }

    // Only one bundle's repos are offered at a time: an earlier bundle (a host staged for the
    // Engine and never updated from it, say) loses its repo file and its staged copy once this
    // one's repo file is in place. An unfinished run of another bundle never gets here: the
    // journal refuses to start.
    void retire_earlier_bundles() {
        std::set<std::string> ids;
        for (const auto& id : earlier_bundle_repofiles(o_.root, bundle_.manifest.id)) {
            remove_bundle_repofile(o_.root, id);
            ids.insert(id);
        }
        for (const auto& id : unstage_earlier(staging_root(), bundle_.manifest.id)) ids.insert(id);
        for (const auto& id : ids) r_.message("removed earlier bundle " + id + " (its repo file and staged copy)");
    }

    fs::path staging_root() const { return state_dir_ / "staged"; }

    void do_stage() {
        std::uint64_t size = 0;
        for (const auto& f : bundle_.manifest.files) size += f.size;
        if (bundle_.base)
            for (const auto& f : bundle_.manifest.base_bundle->files) size += f.size;
        fs::create_directories(state_dir_);
        if (free_bytes(state_dir_) < size)
            throw ConfigError("not enough free space in " + state_dir_.string() + " to stage the bundle: " + mib(size) +
                              " needed, " + mib(free_bytes(state_dir_)) + " free");
        ProgressAdapter progress(r_, "staging");
        staged_ = stage_bundle(bundle_, staging_root(), &progress);
        r_.message("staged a verified copy at " + staged_.dir.string());
        journal_->set_step_data("stage", {{"dir", staged_.dir.string()}});
    }

    // A resumed run uses the staged copy only after hashing it again against the signed manifest:
    // it may have been changed, or be gone, since the run that made it. The place is always our
    // own; a journal that names another is not believed.
    void reload_stage(const std::string& recorded) {
        staged_.dir = staged_dir_for(staging_root(), bundle_.manifest.id);
        if (!recorded.empty() && recorded != staged_.dir.string())
            r_.message("the journal names " + recorded + " as the staged copy; ignored, the copy is " +
                       staged_.dir.string());
        std::string why;
        if (!fs::exists(staged_.dir)) {
            why = "is gone";
        } else {
            ProgressAdapter progress(r_, "checking the staged copy");
            try {
                check_staged(bundle_, staged_.dir, &progress);
                return;
            } catch (const BundleRefused& e) {
                why = "does not match the signed manifest (" + std::string(e.what()) + ")";
            }
        }
        r_.message("staged copy " + staged_.dir.string() + " " + why + "; staging again from the medium");
        do_stage();
    }

    // Other repos off while engine-upgrade-check and engine-setup run (they ask yum).
    void disable_repos() {
        json data = journal_->step("repos").data;
        if (data.value("active", false)) return;
        auto changes = plan_disable_other_repos(yum_repos_dir(o_.root));
        save_original_repos(state_dir_, changes);
        data["changes"] = repo_changes_to_json(changes);
        data["active"] = true;
        journal_->set_step_data("repos", data);  // the originals are safe before anything changes
        apply_repo_changes(changes);
        for (const auto& c : changes) r_.message("disabled the repos of " + c.file.string() + " for this run");
    }

    void restore_repos() {
        if (!journal_) return;
        json data = journal_->step("repos").data;
        if (!data.value("active", false)) return;
        put_back_repos(repo_changes_from_json(data.value("changes", json::array())));
        data["active"] = false;
        journal_->set_step_data("repos", data);
        forget_original_repos(state_dir_);
    }

    void put_back_repos(const std::vector<RepoFileChange>& changes) {
        for (const auto& f : restore_repo_changes(changes))
            r_.message("left " + f.string() + " as a package update rewrote it");
        if (!changes.empty()) r_.message("restored " + std::to_string(changes.size()) + " repo files");
    }

    // A run that is not resumed (its journal moved aside as damaged, or lost) may have left repo
    // files disabled: their originals, kept beside the journal, go back before anything else.
    void restore_orphaned_repos() {
        auto existing = Journal::load(state_dir_);
        if (existing && !existing->complete()) return;  // resumed, or refused by Journal::open
        auto saved = saved_original_repos(state_dir_);
        if (saved.empty()) return;
        r_.message("an earlier run without a journal left repo files disabled; putting back the originals kept in " +
                   original_repos_dir(state_dir_).string());
        put_back_repos(saved);
        forget_original_repos(state_dir_);
    }

    // The upstream repos a staged host held, given back as they were.
    void release_held() {
        auto held = load_held_repos(state_dir_);
        for (const auto& f : release_held_repos(state_dir_))
            r_.message("left " + f.string() + " as a package update rewrote it");
        if (!held.changes.empty()) r_.message("gave back " + std::to_string(held.changes.size()) + " held repo files");
    }

    // Before each step that may ask yum about enabled repos: a resumed run disables them again.
    void ensure_window(const std::string& name) {
        if (command_ != "engine") return;
        if (name == "engine-upgrade-check" || name == "update-setup" || name == "engine-setup") disable_repos();
    }

    fs::path log_for(const std::string& name) const { return state_dir_ / "logs" / (name + ".log"); }

    bool upgrade_check() {
        ensure_window("engine-upgrade-check");
        fs::path tool = inside_root(o_.root, o_.engine_upgrade_check);
        int code = run_logged({tool.string()}, log_for("engine-upgrade-check"), r_, false);
        if (code == 0) {
            journal_->set_step_data("engine-upgrade-check", {{"exit", 0}, {"upgrade", true}});
            return true;
        }
        if (code == 1) {
            // Exit 1 says only that the setup packages have no update. An engine still below the
            // bundle's version needs engine-setup all the same: engine-setup is what upgrades
            // it, and the engine stays version-locked at its old version until it has run.
            auto below = below_target(o_.root, role_targets());
            if (!below.empty()) {
                r_.message("engine-upgrade-check found no setup update, but " + join(below, ", ") +
                           ": running update-setup and engine-setup");
                journal_->set_step_data("engine-upgrade-check", {{"exit", 1}, {"upgrade", true}, {"below", below}});
                return true;
            }
            journal_->set_step_data("engine-upgrade-check", {{"exit", 1}, {"upgrade", false}});
            journal_->finish_step("engine-upgrade-check");
            r_.message("engine-upgrade-check: no engine upgrade in the bundle; skipping update-setup and engine-setup");
            for (const char* skipped : {"update-setup", "engine-setup"}) {
                journal_->set_step_data(skipped, {{"skipped", "engine-upgrade-check found no upgrade"}});
                journal_->finish_step(skipped);
            }
            return false;
        }
        throw StepFailed(tool.string() + " exited with " + std::to_string(code) + " (see " +
                         log_for("engine-upgrade-check").string() + ")");
    }

    void package_manager(const std::string& name, const std::vector<std::string>& args) {
        ensure_window(name);
        if (resuming_step_) finish_cut_short_transaction();
        auto argv = package_manager_argv(o_, args);
        r_.message("running " + join(argv));
        int code = run_logged(argv, log_for(name), r_, false);
        if (code != 0 && interrupted())
            throw Interrupted(argv[0] + " ended with " + std::to_string(code) + " on the signal");
        if (code != 0)
            throw StepFailed(join(argv) + " exited with " + std::to_string(code) + " (see " + log_for(name).string() +
                             ")");
        // Success is never reported over a half-done rpmdb; the re-run cleans it up.
        if (auto left = older_duplicates(o_.root); !left.empty())
            throw StepFailed("packages are installed twice after " + join(argv) + ": " + join(left, ", "));
    }

    // A package-manager step cut short (kill -9, power loss) may have left its transaction half
    // done, which a plain re-run does not see ("Nothing to do"). The EL7 way first:
    // yum-complete-transaction, from yum's own record of the transaction; then the older copy of
    // every package still installed twice is erased, as package-cleanup --cleandupes does.
    void finish_cut_short_transaction() {
        fs::path complete = "/usr/sbin/yum-complete-transaction";
        if (own_machine() && !unfinished_yum_transactions(o_.root).empty() && fs::exists(complete)) {
            r_.message("finishing the interrupted yum transaction with " + complete.string());
            int code = run_logged({complete.string(), "-y"}, log_for("complete-transaction"), r_, false);
            if (code != 0)
                throw StepFailed(complete.string() + " exited with " + std::to_string(code) + " (see " +
                                 log_for("complete-transaction").string() + ")");
        }
        auto older = older_duplicates(o_.root);
        if (!older.empty()) {
            r_.message("an interrupted transaction left packages installed twice; removing the older " +
                       join(older, ", "));
            std::vector<std::string> argv{"rpm", "--dbpath", "/var/lib/rpm"};
            if (!own_machine()) argv.insert(argv.end(), {"--root", o_.root.string()});
            argv.emplace_back("-e");
            argv.insert(argv.end(), older.begin(), older.end());
            int code = run_logged(argv, log_for("cleandupes"), r_, false);
            if (code != 0 || !older_duplicates(o_.root).empty())
                throw StepFailed("could not remove the older duplicate packages (see " +
                                 log_for("cleandupes").string() + ")");
        }
        // What yum-complete-transaction --cleanup-only does: the record of a finished transaction.
        std::error_code ec;
        for (const auto& f : unfinished_yum_transactions(o_.root)) fs::remove(f, ec);
    }

    std::map<std::string, std::string> role_targets() const {
        auto it = bundle_.manifest.target_versions.find(role_);
        return it == bundle_.manifest.target_versions.end() ? std::map<std::string, std::string>{} : it->second;
    }

    // A run never reports success with the role's packages below the bundle's versions.
    void check_targets_reached() {
        auto below = below_target(o_.root, role_targets());
        if (!below.empty())
            throw StepFailed("after the update " + join(below, ", ") + " is still below the bundle's version");
    }

    HostMaintenance& require_maintenance() {
        if (!o_.maintenance)
            throw ConfigError("this run has no --engine-url: run the same command with the Engine's connection");
        return *o_.maintenance;
    }

    void engine_setup() {
        ensure_window("engine-setup");
        fs::path answers = state_dir_ / "engine-setup-answers.conf";
        // Only what the administrator's file leaves unset, and that file last: otopi lets a
        // later file's key replace an earlier one's, so the administrator's answers hold.
        std::set<std::string> admin_keys;
        if (!o_.answer_file.empty()) admin_keys = otopi_answer_file_keys(o_.answer_file);
        write_file_atomic(answers, engine_setup_answers(admin_keys), 0600);
        fs::path tool = inside_root(o_.root, o_.engine_setup);
        std::vector<std::string> argv{tool.string(), "--accept-defaults"};
        argv.push_back("--config-append=" + fs::absolute(answers).string());
        if (!o_.answer_file.empty()) argv.push_back("--config-append=" + fs::absolute(o_.answer_file).string());
        r_.message("running " + join(argv) + " (not stopped by Ctrl-C: the run stops when it ends; log " +
                   log_for("engine-setup").string() + ")");
        int code = run_logged(argv, log_for("engine-setup"), r_, true);
        if (code != 0)
            throw StepFailed("engine-setup exited with " + std::to_string(code) + " (see " +
                             log_for("engine-setup").string() + ")");
    }

    void kernel_check() {
        std::string newest = newest_kernel(o_.root).value_or("");
        // Under --root the running kernel is the host's: compare with the root's at the start.
        bool own_machine = o_.root.empty() || o_.root == "/";
        std::string running = own_machine ? running_kernel() : kernel_before_;
        reboot_needed_ = !newest.empty() && !running.empty() && newest != running;
        boot_id_at_check_ = boot_id();
        checked_this_run_ = true;
        journal_->set_step_data("kernel-check", {{"installed", newest},
                                                 {"running", running},
                                                 {"reboot_needed", reboot_needed_},
                                                 {"boot_id", boot_id_at_check_}});
        if (reboot_needed_) r_.message("reboot needed: kernel " + newest + " installed, running " + running);
    }

    void maybe_reboot() {
        if (!reboot_needed_ || !o_.reboot) return;
        if (!(o_.root.empty() || o_.root == "/")) {
            r_.message("not rebooting: --root names another system");
            return;
        }
        r_.message("rebooting");
        ApplyReporter quiet;
        run_logged({"systemctl", "reboot"}, log_for("reboot"), quiet, false);
    }

    VerifyOptions verify_options() const {
        VerifyOptions vo;
        vo.trust = o_.trust;
        vo.state_dir = state_dir_;
        vo.base = o_.base;
        vo.require_complete = true;
        return vo;
    }

    void dry_run() {
        bundle_ = verify_bundle(o_.bundle, verify_options());
        const BundleManifest& m = bundle_.manifest;
        r_.message("dry run: nothing is changed");
        r_.message("bundle " + m.id + " (serial " + std::to_string(m.serial) + ", expires " + m.expires +
                   "), signed by " + bundle_.signer.subject);
        r_.message("steps of `" + command_ + "`: " + join(steps_, ", "));
        if (auto it = m.target_versions.find(role_); it != m.target_versions.end())
            for (const auto& [name, vr] : it->second) r_.message("target version: " + name + " " + vr);
        if (o_.maintenance) r_.message("the Engine knows this host as " + o_.maintenance->find_host());
        ScratchDir scratch("ovirt-airgap-apply");
        StagedBundle staged = stage_metadata(bundle_, scratch.path());
        ApplyReporter quiet;
        Preflight p = preflight_check(role_, m, staged.dir, o_, state_dir_, quiet);
        for (const auto& pkg : p.resolution.packages)
            r_.message("package: " + pkg.nevra + " (" + pkg.reason + ", from " + pkg.repo + ")");
        r_.message(std::to_string(p.resolution.packages.size()) + " packages would be installed or updated");
    }

    std::string command_;
    std::vector<std::string> steps_;
    const ApplyOptions& o_;
    ApplyReporter& r_;
    fs::path state_dir_;
    std::string role_;
    VerifiedBundle bundle_;
    std::optional<Journal> journal_;
    StagedBundle staged_;
    std::string kernel_before_;
    bool reboot_needed_ = false;
    std::string host_name_;         // the Engine's name of this host (appendix C)
    std::string boot_id_at_check_;  // boot id when kernel-check ran
    bool checked_this_run_ = false;
    bool resuming_step_ = false;  // the step now running was begun before (a failed or killed run)

public:
    bool record_applied = true;  // false for `host` without --update: staged, not applied
};

}  // namespace

void StreamReporter::end_progress() {
    if (!progress_shown_) return;
    progress_ << "\r\033[K" << std::flush;
    progress_shown_ = false;
}

void StreamReporter::message(const std::string& line) {
    end_progress();
    out_ << "ovirt-applier: " << line << "\n" << std::flush;
}

void StreamReporter::output(const char* data, std::size_t size) {
    end_progress();
    out_.write(data, static_cast<std::streamsize>(size));
    out_.flush();
}

void StreamReporter::progress(const std::string& what, std::uint64_t done, std::uint64_t total) {
    if (!terminal_) return;
    auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    if (!progress_shown_ && start_ms_ == 0) start_ms_ = now;
    if (done < total && now - last_ms_ < 200) return;
    last_ms_ = now;
    double secs = static_cast<double>(std::max<std::int64_t>(now - start_ms_, 1)) / 1000.0;
    char line[160];
    std::snprintf(line, sizeof line, "\r%s: %llu / %llu MiB (%.0f MiB/s)\033[K", what.c_str(),
                  static_cast<unsigned long long>(done >> 20), static_cast<unsigned long long>(total >> 20),
                  static_cast<double>(done >> 20) / secs);
    progress_ << line << std::flush;
    progress_shown_ = true;
    if (done >= total) {
        end_progress();
        start_ms_ = 0;
    }
}

std::vector<std::string> engine_steps() {
    return {"verify",        "stage",  "preflight",    "repos",  "engine-upgrade-check", "update-setup", "engine-setup",
            "restore-repos", "update", "kernel-check", "unstage"};
}

std::vector<std::string> host_steps(bool update, bool engine) {
    if (!update) return {"verify", "stage", "repos"};
    if (engine)
        return {"verify", "stage",        "preflight", "repos",   "maintenance",
                "update", "kernel-check", "unstage",   "activate"};
    return {"verify", "stage", "preflight", "repos", "update", "kernel-check", "unstage"};
}

void require_package_manager(const ApplyOptions& options) {
    const std::string program = package_manager_argv(options, {}).front();
    if (!is_runnable(program))
        throw ConfigError("--package-manager: '" + program + "' is neither an executable file nor a command on PATH");
}

std::vector<std::string> package_manager_argv(const ApplyOptions& options, const std::vector<std::string>& args) {
    std::vector<std::string> argv = split_spaces(options.package_manager);
    if (argv.empty()) throw ConfigError("--package-manager is empty");
    argv.insert(argv.end(), {"-y", "--disablerepo=*", std::string("--enablerepo=") + kAirgapRepoPrefix + "*"});
    if (!options.root.empty() && options.root != "/") argv.insert(argv.end(), {"--installroot", options.root.string()});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

void run_engine(const ApplyOptions& options, ApplyReporter& reporter) {
    Sequence s("engine", engine_steps(), options, reporter);
    s.run();
}

void run_host(const ApplyOptions& options, ApplyReporter& reporter) {
    if (options.host_in_maintenance && !options.host_update)
        throw ConfigError("--host-in-maintenance goes with --update");
    if (options.maintenance && !options.host_update)
        throw ConfigError(
            "--engine-url is for --update (maintenance, update, activation); without --update the "
            "Engine's host upgrade manager updates the host");
    Sequence s("host", host_steps(options.host_update, options.maintenance != nullptr), options, reporter);
    // Without --update the bundle stays staged for the Engine's host upgrade manager: it is not
    // applied yet, so its serial is not recorded.
    s.record_applied = options.host_update;
    s.run();
}

void unstage_host(const ApplyOptions& options, ApplyReporter& reporter) {
    fs::path state_dir = options.state_dir.empty() ? Journal::default_state_dir() : options.state_dir;
    std::error_code ec;
    if (!fs::is_directory(state_dir, ec)) {
        reporter.message("nothing is staged (no state dir " + state_dir.string() + ")");
        return;
    }
    FileLock lock(Journal::lock_file(state_dir));
    // An unfinished run resumes from its staged bundle: taking it away under it loses the run.
    if (auto j = Journal::load(state_dir); j && !j->complete())
        throw ConfigError("a run of bundle " + j->bundle().id + " (" + j->command() +
                          ") is not finished: run it again to the end first");
    for (const auto& id : earlier_bundle_repofiles(options.root, "")) {
        remove_bundle_repofile(options.root, id);
        reporter.message("removed the repo file of bundle " + id);
    }
    for (const auto& id : unstage_earlier(state_dir / "staged", ""))
        reporter.message("removed the staged copy of bundle " + id);
    auto held = load_held_repos(state_dir);
    for (const auto& f : release_held_repos(state_dir))
        reporter.message("left " + f.string() + " as a package update rewrote it");
    for (const auto& c : held.changes) reporter.message("gave back " + c.file.string());
    reporter.message("unstaged");
}

}  // namespace airgap::repo
