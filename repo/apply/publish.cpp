#include "repo/apply/publish.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "repo/apply/bundle_verify.hpp"
#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/base/file_io.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "bundle.json";
constexpr const char* kSignatureName = "bundle.json.p7s";
constexpr const char* kCurrent = "current";

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The two signed files of the medium, as verify_bundle() read them.
std::string medium_file(const VerifiedBundle& v, const std::string& name) {
    if (v.kind == BundleKind::directory) return read_text(v.source / name);
    return read_member(v.source, name);
}

void fsync_dir(const fs::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) ::fsync(fd.get());
}

// Read-only for everyone, the web server included: files 0444, directories 0555; the top
// directory stays 0755 so that it can be renamed into place and, later, removed.
void make_read_only(const fs::path& top) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->symlink_status().type() == fs::file_type::directory)
            dirs.push_back(it->path());
        else
            fs::permissions(it->path(), fs::perms(0444), ec);
    }
    if (ec) throw ConfigError("cannot make " + top.string() + " read-only: " + ec.message());
    for (const auto& d : dirs) fs::permissions(d, fs::perms(0555), ec);
    fs::permissions(top, fs::perms(0755), ec);
    if (ec) throw ConfigError("cannot make " + top.string() + " read-only: " + ec.message());
}

// remove_all cannot empty a 0555 directory unless it runs as root: writable again first.
void remove_published(const fs::path& dir) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->symlink_status().type() == fs::file_type::directory)
            fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
    if (ec) throw ConfigError("cannot remove " + dir.string() + ": " + ec.message());
}

// `current` -> `id`, replaced in one rename so that a host reading it never finds it missing.
void switch_current(const fs::path& dir, const std::string& id) {
    fs::path temp = dir / (".current.tmp-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove(temp, ec);
    if (::symlink(id.c_str(), temp.c_str()) != 0 || ::rename(temp.c_str(), (dir / kCurrent).c_str()) != 0) {
        std::string why = std::error_code(errno, std::generic_category()).message();
        fs::remove(temp, ec);
        throw ConfigError("cannot point " + (dir / kCurrent).string() + " at " + id + ": " + why);
    }
    fsync_dir(dir);
}

std::optional<BundleManifest> published_manifest(const fs::path& dir) {
    try {
        return parse_bundle_manifest(read_text(dir / kManifestName));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Copies the verified bundle next to where it is served, with its signed bundle.json and
// signature, checks that pair once more and makes the tree read-only. Returns the tree.
fs::path prepare_tree(const VerifiedBundle& v, const fs::path& staging, const PublishOptions& o, Reporter& reporter) {
    RenamedReporter progress(reporter, "publishing");
    StagedBundle tree = stage_bundle(v, staging, &progress);
    write_file_atomic(tree.dir / kManifestName, medium_file(v, kManifestName), 0444);
    write_file_atomic(tree.dir / kSignatureName, medium_file(v, kSignatureName), 0444);
    // What hosts will read is what passed: the same bytes, the same signature.
    if (sha256_hex(read_text(tree.dir / kManifestName)) != v.manifest_sha256)
        throw BundleRefused("the medium's bundle.json changed while it was published");
    verify_detached(tree.dir / kManifestName, tree.dir / kSignatureName, o.trust);
    make_read_only(tree.dir);
    return tree.dir;
}

// The serial of the bundle the hosts were last rolled out to, when `hosts` recorded one.
std::optional<std::uint64_t> rolled_out_serial(const fs::path& state_dir) {
    try {
        auto j = nlohmann::json::parse(read_text(rolled_out_file(state_dir)));
        return j.at("serial").get<std::uint64_t>();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void prune(const fs::path& root, const fs::path& state_dir, unsigned keep, const std::string& current,
           Reporter& reporter) {
    const fs::path dir = publish_dir(root);
    const auto needed_from = rolled_out_serial(state_dir);
    unsigned kept = 0;
    for (const auto& b : list_published(root)) {
        if (b.id == current) continue;
        if (needed_from && b.serial >= *needed_from) {
            reporter.message("kept " + b.id + " (serial " + std::to_string(b.serial) +
                             "): the hosts run it until a newer bundle is rolled out");
            continue;
        }
        if (kept < keep) {
            ++kept;
            continue;
        }
        remove_published(dir / b.id);
        reporter.message("removed the older published bundle " + b.id + " (serial " + std::to_string(b.serial) + ")");
    }
}

}  // namespace

fs::path publish_dir(const fs::path& root) {
    return (root.empty() ? fs::path("/") : root) / "var" / "www" / "html" / "ovirt-airgap";
}

std::optional<BundleManifest> current_manifest(const fs::path& root) {
    std::string id = current_published(root);
    if (id.empty()) return std::nullopt;
    return published_manifest(publish_dir(root) / id);
}

std::string current_published(const fs::path& root) {
    std::error_code ec;
    fs::path target = fs::read_symlink(publish_dir(root) / kCurrent, ec);
    if (ec) return {};
    std::string id = target.filename().string();
    return is_bundle_id(id) ? id : std::string();
}

std::vector<PublishedBundle> list_published(const fs::path& root) {
    std::vector<PublishedBundle> out;
    std::string current = current_published(root);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(publish_dir(root), ec)) {
        std::string name = e.path().filename().string();
        if (!is_bundle_id(name) || e.symlink_status().type() != fs::file_type::directory) continue;
        PublishedBundle b;
        b.id = name;
        b.current = name == current;
        if (auto m = published_manifest(e.path())) {
            b.serial = m->serial;
            b.expires = m->expires;
        }
        out.push_back(b);
    }
    std::sort(out.begin(), out.end(), [](const PublishedBundle& a, const PublishedBundle& b) {
        return a.serial != b.serial ? a.serial > b.serial : a.id < b.id;
    });
    return out;
}

void require_something_to_publish(const BundleManifest& m, const std::string& advice) {
    if (std::find(m.roles.begin(), m.roles.end(), "host") == m.roles.end() &&
        std::find(m.roles.begin(), m.roles.end(), "node") == m.roles.end())
        throw BundleRefused("bundle " + m.id + " has nothing for hosts (roles: engine only): nothing to publish" +
                            advice);
}

fs::path publish_bundle(const PublishOptions& o, Reporter& reporter) {
    VerifyOptions vo;
    vo.trust = o.trust;
    vo.base = o.base;
    vo.require_complete = true;
    RenamedReporter progress(reporter, "verifying");
    VerifiedBundle v = verify_bundle(o.bundle, vo, &progress);
    const BundleManifest& m = v.manifest;
    require_something_to_publish(m);

    fs::path dir = publish_dir(o.root);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms(0755), ec);
    fs::path state_dir = o.state_dir.empty() ? Journal::default_state_dir() : o.state_dir;
    fs::create_directories(state_dir, ec);
    FileLock lock(Journal::lock_file(state_dir));

    // Every enrolled host follows `current`: moving it to a lower serial would roll them all back.
    std::string before = current_published(o.root);
    if (!before.empty() && before != m.id)
        if (auto cur = published_manifest(dir / before); cur && cur->serial >= m.serial)
            throw BundleRefused("bundle " + m.id + " (serial " + std::to_string(m.serial) +
                                ") is not newer than the published current bundle " + before + " (serial " +
                                std::to_string(cur->serial) + "): rollback refused");

    fs::path staging = dir / ".staging";
    fs::path tree = prepare_tree(v, staging, o, reporter);
    fs::path final_dir = dir / m.id;
    replace_dir_atomic(tree, final_dir);
    remove_published(staging);
    fsync_dir(dir);
    switch_current(dir, m.id);
    reporter.message("published bundle " + m.id + " (serial " + std::to_string(m.serial) + ") at " +
                     final_dir.string() + "; " + (dir / kCurrent).string() + " -> " + m.id);
    prune(o.root, state_dir, o.keep, m.id, reporter);
    return final_dir;
}

fs::path rolled_out_file(const fs::path& state_dir) { return state_dir / "rolled-out.json"; }

void record_rolled_out(const fs::path& state_dir, const std::string& id, std::uint64_t serial) {
    nlohmann::json j{{"id", id}, {"serial", serial}};
    write_file_atomic(rolled_out_file(state_dir), j.dump(2) + "\n", 0644);
}

std::vector<std::string> describe_published(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& b : list_published(root))
        out.push_back("published: " + b.id + " (serial " + std::to_string(b.serial) + ", expires " +
                      (b.expires.empty() ? "?" : b.expires) + ")" + (b.current ? " (current)" : ""));
    if (!out.empty()) out.insert(out.begin(), "published under " + publish_dir(root).string() + ":");
    return out;
}

nlohmann::json published_json(const fs::path& root) {
    auto published = list_published(root);
    if (published.empty()) return nullptr;
    nlohmann::json bundles = nlohmann::json::array();
    for (const auto& b : published)
        bundles.push_back({{"id", b.id},
                           {"serial", b.serial},
                           {"expires", b.expires.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.expires)},
                           {"current", b.current}});
    std::string current = current_published(root);
    return {{"dir", publish_dir(root).string()},
            {"current", current.empty() ? nlohmann::json(nullptr) : nlohmann::json(current)},
            {"bundles", bundles}};
}

}  // namespace airgap::repo
