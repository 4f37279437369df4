#include "repo/bundle/bundle_build.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/text.hpp"
#include "repo/bundle/applier_rpm_private.hpp"
#include "repo/bundle/bundle_inspect.hpp"
#include "repo/bundle/repodata_sign_private.hpp"
#include "repo/fetch/package_fetch.hpp"
#include "repo/fetch/rpm_signature.hpp"
#include "repo/sign/signing.hpp"
#include "repo/solv/inventory.hpp"
#include "repo/solv/local_repos.hpp"
#include "repo/state/atomic_file.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

// The bundler's scratch directories (key downloads, the signing probe, the proof's metadata cache).
constexpr const char* kScratchPrefix = "ovirt-bundler";

// A file that is removed when it dies unless released: the packed archive before its rename.
class RemoveOnFailure {
public:
    explicit RemoveOnFailure(fs::path path) : path_(std::move(path)) {}
    ~RemoveOnFailure() {
        if (path_.empty()) return;
        std::error_code ec;
        fs::remove(path_, ec);
    }
    RemoveOnFailure(const RemoveOnFailure&) = delete;
    RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
    void release() noexcept { path_.clear(); }

private:
    fs::path path_;
};

std::string last_line(const std::string& text) {
    std::istringstream in(text);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    return last;
}

// Runs a helper tool (createrepo_c, modifyrepo_c) with its output in `log`; ConfigError with
// the tool's last line when it fails: the bundle cannot be made, nothing is put in place.
void run_tool(const std::vector<std::string>& argv, const fs::path& log, const std::string& what) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid = 0;
    int rc = spawn_child(argv, actions, pid);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw ConfigError(what + ": cannot run " + argv[0] + ": " + std::strerror(rc));
    int status = wait_child(pid);
    if (status < 0) throw ConfigError(what + ": waiting for " + argv[0] + ": " + std::strerror(errno));
    if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM))
        throw Interrupted(what + ": " + argv[0] + " interrupted; nothing was written");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw ConfigError(what + ": " + argv[0] + " failed: " + last_line(read_file(log).value_or("")));
}

std::string basename_of(const std::string& location) {
    auto slash = location.rfind('/');
    return slash == std::string::npos ? location : location.substr(slash + 1);
}

std::string version_release(const ResolvedPackage& p) { return p.version + "-" + p.release; }

// What each role updates to: the version-release of its roots as the targets resolved them.
TargetVersions target_versions(const Plan& plan) {
    TargetVersions out;
    for (const auto& target : plan.targets) {
        auto role = plan.manifest.roles.find(target.role);
        if (role == plan.manifest.roles.end()) continue;
        for (const auto& root : role->second.roots)
            for (const auto& pkg : target.resolution.packages)
                if (pkg.name == root) out[target.role][root] = version_release(pkg);
    }
    return out;
}

std::string volume_label(const Plan& plan, const TargetVersions& versions) {
    std::string version;
    for (const char* role : {"engine", "host", "node"}) {
        auto it = versions.find(role);
        auto roots = plan.manifest.roles.find(role);
        if (it == versions.end() || roots == plan.manifest.roles.end()) continue;
        for (const auto& root : roots->second.roots)
            if (auto v = it->second.find(root); v != it->second.end()) {
                version = v->second.substr(0, v->second.rfind('-'));
                break;
            }
        if (!version.empty()) break;
    }
    return iso_volume_label(version.empty() ? plan.manifest.name : plan.manifest.name + "-" + version);
}

void say(Reporter* cb, const std::string& line) {
    if (cb) cb->message(line);
}

// Between steps: a build asked to stop leaves nothing behind (RAII removes the temporaries).
void check_cancelled(Reporter* cb) {
    if (cb && cb->cancelled()) throw Interrupted("interrupted; nothing was written");
}

void refuse_existing_output(const fs::path& out) {
    std::error_code ec;
    if (fs::symlink_status(out, ec).type() != fs::file_type::not_found)
        throw ConfigError("output " + out.string() + " already exists; choose another path or remove it");
    fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
        throw ConfigError("output " + out.string() + ": directory " + parent.string() + " does not exist");
    if (access(parent.c_str(), W_OK) != 0)
        throw ConfigError("output " + out.string() + ": cannot write into " + parent.string() + ": " +
                          std::strerror(errno));
}

// What -o names: an .iso or .tar archive (the extension in any case) or, with a trailing '/',
// a directory. Anything else ("x.zip", "x.tgz", a bare name) is refused rather than silently
// made a directory.
bool is_archive_output(const fs::path& output) {
    const std::string text = output.string();
    if (!text.empty() && text.back() == '/') return false;
    if (archive_format_of(output)) return true;
    throw ConfigError("output " + text + ": the name must end in .iso or .tar, or in / for a directory");
}

// Keys of one repo as bundle paths; identical keys of several repos are carried once.
class KeyStore {
public:
    KeyStore(const fs::path& tree) : dir_(tree / "keys") {}

    std::string add(const std::string& repo_id, const fs::path& fetched) {
        std::string content = read_file(fetched).value_or("");
        std::string name = fetched.filename().string();
        for (const std::string& candidate : {name, repo_id + "-" + name}) {
            auto it = by_name_.find(candidate);
            if (it == by_name_.end()) {
                fs::create_directories(dir_);
                write_file_atomic(dir_ / candidate, content);
                by_name_.emplace(candidate, content);
                return "keys/" + candidate;
            }
            if (it->second == content) return "keys/" + candidate;
        }
        throw ConfigError("repo " + repo_id + ": two different keys named " + name);
    }

private:
    fs::path dir_;
    std::map<std::string, std::string> by_name_;
};

std::set<std::string> nevras_of(const std::vector<ResolvedPackage>& packages) {
    std::set<std::string> out;
    for (const auto& p : packages) out.insert(p.nevra);
    return out;
}

// Step 5: with only the bundle's repos, every target resolves to what the plan carries.
void prove(const Plan& plan, const PlanRequest& request, const fs::path& tree, const std::vector<std::string>& repo_ids,
           const fs::path& scratch, Reporter* cb) {
    LocalRepoSet bundle(scratch / "proof-cache");
    for (const auto& id : repo_ids)
        if (!bundle.add(id, id, tree / "repos" / id)) throw ConfigError("bundle repo " + id + " cannot be read back");
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < plan.targets.size(); ++i) {
        const TargetPlan& target = plan.targets[i];
        SolvPool pool(plan.manifest.basearch);
        bundle.add_to(pool);
        Resolution resolution;
        if (i < request.inventories.size()) {
            resolution = resolve_inventory(pool, request.inventories[i], request);
        } else {
            resolution = resolve_install(pool, plan.manifest.roles.at(target.role).roots);
        }
        for (const auto& p : resolution.problems) problems.push_back(target.label + " from the bundle alone: " + p);
        if (!resolution.ok()) continue;
        std::set<std::string> want = nevras_of(target.resolution.packages);
        std::set<std::string> got = nevras_of(resolution.packages);
        for (const auto& n : want)
            if (!got.count(n)) problems.push_back(target.label + " from the bundle alone: does not reach " + n);
        for (const auto& n : got)
            if (!want.count(n)) problems.push_back(target.label + " from the bundle alone: also installs " + n);
        say(cb, "proof: " + target.label + " resolves from the bundle alone (" +
                    std::to_string(resolution.packages.size()) + " packages)");
    }
    if (!problems.empty())
        throw ResolveProblem("the bundle alone does not resolve to the plan; nothing was written", problems);
}

// The bundle `--since` names: its manifest and the SHA-256 of its exact bytes, which the new
// bundle pins (bundle_manifest.hpp, BaseBundle).
struct SinceBundle {
    BundleManifest manifest;
    std::string manifest_sha256;
    std::map<std::string, const BundleFile*> files;  // what its medium carries, by path
};

SinceBundle read_since_bundle(const fs::path& since) {
    SinceBundle base;
    std::string bytes;
    try {
        bytes = read_bundle_json(since);
        base.manifest = parse_bundle_manifest(bytes);
    } catch (const Error& e) {
        throw ConfigError("--since " + since.string() + ": " + e.what());
    }
    base.manifest_sha256 = sha256_hex(bytes);
    for (const auto& f : base.manifest.files) base.files[f.path] = &f;
    return base;
}

// An incremental bundle leaves out the packages its base carries byte for byte (same path,
// size and SHA-256): they move from `files` to base_bundle.files and out of the tree. The
// repodata still describe every package, so the applier's staged copy (bundle + base) is a
// complete repo.
void borrow_from_base(BundleManifest& m, std::map<std::string, BundleFile>& files, const SinceBundle& base,
                      const fs::path& root) {
    BaseBundle b{base.manifest.id, base.manifest.serial, base.manifest_sha256, {}};
    for (const auto& p : m.packages) {
        auto ours = files.find(p.path);
        auto theirs = base.files.find(p.path);
        if (ours == files.end() || theirs == base.files.end() || !(ours->second == *theirs->second)) continue;
        b.files.push_back(ours->second);
        fs::remove(root / p.path);
        files.erase(ours);
    }
    m.base_bundle = std::move(b);
}

struct AssembledRepo {
    std::string id;
    std::string name;
    std::vector<std::string> gpgkeys;
};

// Where a build writes: the output path made absolute ("OUTDIR/" is the directory OUTDIR), whether
// it is an archive, and the base of an incremental build.
struct BuildTarget {
    fs::path out;
    bool archive = false;
    std::optional<SinceBundle> base;
};

// Step 1: refuse early, nothing written, nothing downloaded.
BuildTarget refuse_early(const BuildRequest& request) {
    if (request.output.empty()) throw ConfigError("no output given (-o OUT.iso|OUT.tar|OUTDIR/)");
    BuildTarget target;
    target.archive = is_archive_output(request.output);
    target.out = fs::absolute(request.output);
    if (target.out.filename().empty()) target.out = target.out.parent_path();
    if (request.expires_days < 1 || request.expires_days > 3650)
        throw ConfigError("--expires-days must be between 1 and 3650");
    if (request.jobs < 1 || request.jobs > 64) throw ConfigError("--jobs must be between 1 and 64");
    if (!request.with_applier.empty()) check_applier_rpm(request.with_applier);
    refuse_existing_output(target.out);
    if (!request.since.empty()) {
        target.base = read_since_bundle(request.since);
        if (request.serial && *request.serial <= target.base->manifest.serial)
            throw ConfigError("--serial " + std::to_string(*request.serial) + " is not greater than serial " +
                              std::to_string(target.base->manifest.serial) + " of the --since bundle");
    }
    return target;
}

// Step 2: the plan; a repo that could not be reached refuses the build unless allowed.
Plan plan_build(const BuildRequest& request, Reporter* cb) {
    Plan plan = make_plan(request.plan, cb);
    for (const auto& [id, why] : plan.skipped_repos) {
        const auto& allowed = request.allow_missing_repos;
        if (std::find(allowed.begin(), allowed.end(), id) == allowed.end())
            throw ConfigError(why + "; nothing was built: point it at a reachable mirror (--repo-url " + id +
                              "=URL), or build without it with --allow-missing-repo " + id);
        say(cb, "repo " + id + " is missing from this bundle (--allow-missing-repo)");
    }
    if (!plan.ok()) throw ResolveProblem("dependency problems; nothing was built", plan.problems);
    const std::vector<ResolvedPackage>& packages = plan.packages;
    if (auto rollback = std::count_if(packages.begin(), packages.end(),
                                      [](const ResolvedPackage& p) { return p.reason == PackageReason::rollback; }))
        say(cb, "rollback: carrying " + std::to_string(rollback) +
                    " installed engine package(s) engine-setup needs for its rollback");
    return plan;
}

// What step 3 brought: the packages in the cache and each repo's signing keys.
struct Downloaded {
    std::vector<FetchedPackage> packages;                    // in the order of plan.packages
    std::map<std::string, std::vector<fs::path>> repo_keys;  // repo id -> fetched key files
};

// Step 3: download, fetch the repos' keys, check every package's signature with them.
Downloaded download_and_check(const BuildRequest& request, const Plan& plan, const fs::path& scratch, Reporter* cb) {
    const fs::path& cache_dir = plan.cache_dir;  // locked by the plan while it lives
    std::vector<PackageRequest> wanted;
    for (const auto& p : plan.packages)
        wanted.push_back({p.repo, p.nevra, p.location, p.checksum_type, p.checksum, p.download_size});
    Downloaded got;
    got.packages = fetch_packages(wanted, plan.repos, cache_dir, request.jobs, cb, request.transfer);

    std::map<std::string, const RepoConfig*> by_id;
    fs::path manifest_dir = fs::absolute(request.plan.manifest).parent_path();
    for (const auto& repo : plan.repos) {
        const RepoConfig& cfg = repo.config;
        by_id[cfg.id] = &cfg;
        if (cfg.gpgcheck && cfg.gpgkeys.empty())
            throw ConfigError("repo " + cfg.id + " has gpgcheck=1 but no gpgkey: its packages cannot be checked");
        got.repo_keys[cfg.id] = fetch_gpg_keys(cfg, manifest_dir, scratch / "keys" / cfg.id);
    }
    for (const auto& f : got.packages) {
        check_cancelled(cb);
        auto cfg = by_id.find(f.request.repo_id);
        if (cfg != by_id.end() && cfg->second->gpgcheck) check_rpm_signature(f.path, got.repo_keys[cfg->first]);
    }
    say(cb, "checked " + std::to_string(got.packages.size()) + " package(s)");
    return got;
}

// What step 4 laid out in the tree: the repos and every file with its digest.
struct Assembled {
    BundleManifest manifest;                  // packages filled in; the rest comes with the signature
    std::map<std::string, BundleFile> files;  // path -> entry
    std::vector<AssembledRepo> repos;
};

// Step 4, first half: one directory per repo and its keys, then the packages copied in, hashed.
void lay_out_repos(Assembled& a, const Plan& plan, Downloaded& got, const RepodataSigner* signer, const fs::path& root,
                   Reporter* cb) {
    KeyStore keys(root);
    for (const auto& repo : plan.repos) {
        const RepoConfig& cfg = repo.config;
        AssembledRepo assembled{cfg.id, cfg.name.empty() ? cfg.id : cfg.name, {}};
        if (signer) got.repo_keys[cfg.id].push_back(signer->public_key_file());
        for (const auto& key : got.repo_keys[cfg.id]) {
            std::string path = keys.add(cfg.id, key);
            if (std::find(assembled.gpgkeys.begin(), assembled.gpgkeys.end(), path) == assembled.gpgkeys.end())
                assembled.gpgkeys.push_back(path);
        }
        fs::create_directories(root / "repos" / cfg.id / "Packages");
        a.repos.push_back(std::move(assembled));
    }
    for (std::size_t i = 0; i < got.packages.size(); ++i) {
        check_cancelled(cb);
        const ResolvedPackage& p = plan.packages[i];
        std::string rel = "repos/" + p.repo + "/Packages/" + basename_of(p.location);
        if (a.files.count(rel)) throw ConfigError("two packages would be carried as " + rel);
        FileDigest digest = copy_file_hashed(got.packages[i].path, root / rel);
        a.files[rel] = {rel, digest.size, digest.sha256};
        a.manifest.packages.push_back({rel, p.nevra, p.repo, std::string(to_string(p.reason))});
    }
    say(cb, "copied " + std::to_string(got.packages.size()) + " package(s) into the bundle");
}

// Step 4, second half: each repo's metadata (createrepo_c, its updateinfo, signed on request),
// the applier's RPM, and every other file of the tree hashed.
void make_repodata(Assembled& a, const BuildRequest& request, const Plan& plan, const RepodataSigner* signer,
                   const fs::path& root, const fs::path& scratch, Reporter* cb) {
    for (const auto& repo : plan.repos) {
        check_cancelled(cb);
        const RepoMetadata& md = repo.metadata;
        fs::path dir = root / "repos" / repo.config.id;
        run_tool(
            {"createrepo_c", "--quiet", "--database", "--general-compress-type=gz", "--checksum=sha256", dir.string()},
            scratch / "createrepo.log", "repo " + repo.config.id);
        if (!md.updateinfo.empty())
            run_tool({"modifyrepo_c", "--mdtype=updateinfo", "--compress-type=gz", md.updateinfo.string(),
                      (dir / "repodata").string()},
                     scratch / "modifyrepo.log", "repo " + repo.config.id + " updateinfo");
        if (signer) signer->sign_repo(dir);
    }
    if (!request.with_applier.empty())
        say(cb, "carrying the applier as " + carry_applier_rpm(request.with_applier, root));
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) continue;
        std::string rel = entry.path().lexically_relative(root).generic_string();
        if (a.files.count(rel)) continue;
        FileDigest digest = hash_file(entry.path());
        a.files[rel] = {rel, digest.size, digest.sha256};
    }
}

// Step 6: bundle.json (with SHA256SUMS listed in it) and its signature. Returns the payload bytes.
std::uint64_t sign_manifest(Assembled& a, const BuildRequest& request, const Plan& plan,
                            const std::optional<SinceBundle>& base, const fs::path& root, Reporter* cb) {
    BundleManifest& m = a.manifest;
    auto now = std::chrono::system_clock::now();
    m.id = new_bundle_id();
    m.serial = request.serial ? *request.serial
                              : static_cast<std::uint64_t>(
                                    std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    m.created = format_rfc3339(now);
    m.expires = format_rfc3339(now + std::chrono::hours(24) * request.expires_days);
    m.source_manifest = plan.manifest.name;
    std::set<std::string> roles;
    for (const auto& t : plan.targets) roles.insert(t.role);
    m.roles.assign(roles.begin(), roles.end());
    m.target_versions = target_versions(plan);
    for (const auto& r : a.repos) m.repos.push_back({r.id, r.name, "repos/" + r.id, r.gpgkeys});
    if (base) {
        // The default serial (seconds) can equal the base's when both are built in the same
        // second, or be lower when the base was given a serial by hand: follow the base then.
        // An explicit --serial was checked at the start.
        if (!request.serial) m.serial = std::max(m.serial, base->manifest.serial + 1);
        borrow_from_base(m, a.files, *base, root);
        say(cb, "incremental on bundle " + base->manifest.id + " (serial " + std::to_string(base->manifest.serial) +
                    "): " + std::to_string(m.base_bundle->files.size()) + " of " + std::to_string(m.packages.size()) +
                    " package(s) taken from it, " + std::to_string(m.packages.size() - m.base_bundle->files.size()) +
                    " carried");
    }
    // SHA256SUMS, listed in the signed bundle.json: an officer checks the medium with
    // `sha256sum -c` beside `openssl cms -verify` of bundle.json, with no tool of ours.
    std::string sums;
    for (const auto& [path, file] : a.files) sums += file.sha256 + "  " + path + "\n";
    write_file_atomic(root / "SHA256SUMS", sums);
    FileDigest sums_digest = hash_file(root / "SHA256SUMS");
    a.files["SHA256SUMS"] = {"SHA256SUMS", sums_digest.size, sums_digest.sha256};
    std::uint64_t payload = 0;
    for (auto& [path, file] : a.files) {
        payload += file.size;
        m.files.push_back(std::move(file));
    }
    write_file_atomic(root / "bundle.json", serialize_bundle_manifest(m));
    std::vector<std::uint8_t> signature =
        sign_detached(root / "bundle.json", request.sign_key, request.sign_cert, request.sign_passphrase);
    write_file_atomic(root / "bundle.json.p7s",
                      std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
    return payload;
}

// Step 7: put in place; the output path stays empty on any failure before.
void put_in_place(AtomicDir& tree, const BuildTarget& target, const std::string& volume, Reporter* cb) {
    const fs::path& out = target.out;
    check_cancelled(cb);
    refuse_existing_output(out);
    if (target.archive) {
        fs::path temp = out.parent_path() /
                        ("." + out.stem().string() + ".tmp-" + std::to_string(getpid()) + out.extension().string());
        RemoveOnFailure guard(temp);
        say(cb, "packing " + out.filename().string());
        pack(tree.path(), temp, volume, cb);
        // link() never replaces: a file that appeared meanwhile is not overwritten.
        check_cancelled(cb);
        if (::link(temp.c_str(), out.c_str()) != 0)
            throw ConfigError("cannot create " + out.string() + ": " + std::strerror(errno));
    } else {
        // mkdtemp made it 0700; a bundle directory is read by the applier and by yum.
        fs::permissions(tree.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                         fs::perms::others_read | fs::perms::others_exec);
        tree.commit();
    }
}

}  // namespace

BuildResult build_bundle(const BuildRequest& request, Reporter* cb) {
    BuildTarget target = refuse_early(request);
    ScratchDir scratch(kScratchPrefix);
    {
        // A tiny probe signature proves key and certificate usable before any download.
        fs::path probe = scratch.path() / "probe";
        write_file_atomic(probe, "ovirt-airgap signing probe\n");
        sign_detached(probe, request.sign_key, request.sign_cert, request.sign_passphrase);
    }
    std::optional<RepodataSigner> repodata_signer;
    if (!request.sign_repodata.empty()) repodata_signer.emplace(request.sign_repodata, scratch.path() / "gnupg");
    const RepodataSigner* signer = repodata_signer ? &*repodata_signer : nullptr;

    check_cancelled(cb);
    Plan plan = plan_build(request, cb);
    check_cancelled(cb);
    Downloaded got = download_and_check(request, plan, scratch.path(), cb);

    // Step 4: assemble beside the output.
    const fs::path& out = target.out;
    AtomicDir tree(target.archive ? out.parent_path() / (out.filename().string() + ".d") : out);
    Assembled assembled;
    lay_out_repos(assembled, plan, got, signer, tree.path(), cb);
    make_repodata(assembled, request, plan, signer, tree.path(), scratch.path(), cb);

    // Step 5: the proof, before anything is signed.
    check_cancelled(cb);
    std::vector<std::string> repo_ids;
    for (const auto& r : assembled.repos) repo_ids.push_back(r.id);
    prove(plan, request.plan, tree.path(), repo_ids, scratch.path(), cb);

    std::uint64_t payload = sign_manifest(assembled, request, plan, target.base, tree.path(), cb);
    put_in_place(tree, target, volume_label(plan, assembled.manifest.target_versions), cb);
    return {std::move(assembled.manifest), out, payload};
}

}  // namespace airgap::repo
