#include "repo/state/bundle_manifest.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "repo/base/error.hpp"

using nlohmann::json;

namespace airgap::repo {

namespace {

const std::set<std::string> kRoles = {"engine", "host", "node"};

[[noreturn]] void bad(const std::string& what) { throw BundleRefused("bad bundle manifest: " + what); }

// Values in messages are JSON-quoted, so a control character cannot break the one-line error.
std::string json_quoted(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

std::string field(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }

std::string index(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool has_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || static_cast<unsigned char>(c) < 0x20; });
}

void check_keys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
    for (const auto& item : obj.items()) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return item.key() == k; }))
            bad(field(where, item.key()) + " is not a known key");
    }
}

const json& require(const json& obj, const std::string& where, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) bad(field(where, key) + " is missing");
    return *it;
}

const json& require_object(const json& value, const std::string& name) {
    if (!value.is_object()) bad(name + " must be an object");
    return value;
}

const json& require_array(const json& value, const std::string& name) {
    if (!value.is_array()) bad(name + " must be an array");
    return value;
}

std::string as_string(const json& value, const std::string& name) {
    if (!value.is_string()) bad(name + " must be a string");
    return value.get<std::string>();
}

// A one-line text: names, reasons.
std::string text(const json& value, const std::string& name) {
    std::string s = as_string(value, name);
    if (s.empty()) bad(name + " is empty");
    if (has_control(s)) bad(name + " " + json_quoted(s) + " contains a control character");
    return s;
}

// A token: versions, nevras, package names.
std::string token(const json& value, const std::string& name) {
    std::string s = as_string(value, name);
    if (s.empty()) bad(name + " is empty");
    if (has_space(s)) bad(name + " " + json_quoted(s) + " contains whitespace");
    return s;
}

std::uint64_t as_uint(const json& value, const std::string& name) {
    if (!value.is_number_unsigned()) bad(name + " must be a non-negative integer");
    return value.get<std::uint64_t>();
}

std::string safe_path(const json& value, const std::string& name) {
    std::string s = as_string(value, name);
    if (auto why = unsafe_path_reason(s)) bad(name + " " + json_quoted(s) + " " + *why);
    return s;
}

std::string uuid(const json& value, const std::string& name) {
    std::string s = as_string(value, name);
    if (!is_bundle_id(s)) bad(name + " " + json_quoted(s) + " is not a lowercase UUID");
    return s;
}

std::string timestamp(const json& value, const std::string& name) {
    std::string s = as_string(value, name);
    if (!parse_rfc3339(s)) bad(name + " " + json_quoted(s) + " is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    return s;
}

bool is_repo_id(std::string_view s) {
    if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    });
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<BundleRepo> parse_repos(const json& value) {
    std::vector<BundleRepo> repos;
    std::map<std::string, std::string> ids, paths;  // value -> where first seen
    const json& arr = require_array(value, "repos");
    for (size_t i = 0; i < arr.size(); ++i) {
        const std::string where = index("repos", i);
        const json& obj = require_object(arr[i], where);
        check_keys(obj, where, {"id", "name", "path", "gpgkeys"});
        BundleRepo r;
        r.id = as_string(require(obj, where, "id"), field(where, "id"));
        if (!is_repo_id(r.id)) bad(field(where, "id") + " " + json_quoted(r.id) + " is not a valid repo id");
        if (auto [it, fresh] = ids.emplace(r.id, where); !fresh)
            bad(field(where, "id") + " " + json_quoted(r.id) + " is duplicated (also " + it->second + ")");
        r.name = text(require(obj, where, "name"), field(where, "name"));
        r.path = safe_path(require(obj, where, "path"), field(where, "path"));
        if (auto [it, fresh] = paths.emplace(r.path, where); !fresh)
            bad(field(where, "path") + " " + json_quoted(r.path) + " is duplicated (also " + it->second + ")");
        const std::string keys_where = field(where, "gpgkeys");
        const json& keys = require_array(require(obj, where, "gpgkeys"), keys_where);
        for (size_t k = 0; k < keys.size(); ++k) r.gpgkeys.push_back(safe_path(keys[k], index(keys_where, k)));
        repos.push_back(std::move(r));
    }
    return repos;
}

std::vector<BundleFile> parse_files(const json& value, const std::string& name) {
    std::vector<BundleFile> files;
    std::map<std::string, std::string> seen;
    const json& arr = require_array(value, name);
    for (size_t i = 0; i < arr.size(); ++i) {
        const std::string where = index(name, i);
        const json& obj = require_object(arr[i], where);
        check_keys(obj, where, {"path", "size", "sha256"});
        BundleFile f;
        f.path = safe_path(require(obj, where, "path"), field(where, "path"));
        if (f.path == "bundle.json" || f.path == "bundle.json.p7s")
            bad(field(where, "path") + " " + json_quoted(f.path) + " names the manifest or its signature");
        if (auto [it, fresh] = seen.emplace(f.path, where); !fresh)
            bad(field(where, "path") + " " + json_quoted(f.path) + " is duplicated (also " + it->second + ")");
        f.size = as_uint(require(obj, where, "size"), field(where, "size"));
        f.sha256 = as_string(require(obj, where, "sha256"), field(where, "sha256"));
        if (!is_hex64(f.sha256)) bad(field(where, "sha256") + " must be 64 lowercase hex digits");
        files.push_back(std::move(f));
    }
    return files;
}

std::vector<BundlePackage> parse_packages(const json& value) {
    std::vector<BundlePackage> packages;
    std::map<std::string, std::string> seen;
    const json& arr = require_array(value, "packages");
    for (size_t i = 0; i < arr.size(); ++i) {
        const std::string where = index("packages", i);
        const json& obj = require_object(arr[i], where);
        check_keys(obj, where, {"path", "nevra", "repo", "reason"});
        BundlePackage p;
        p.path = safe_path(require(obj, where, "path"), field(where, "path"));
        if (auto [it, fresh] = seen.emplace(p.path, where); !fresh)
            bad(field(where, "path") + " " + json_quoted(p.path) + " is duplicated (also " + it->second + ")");
        p.nevra = token(require(obj, where, "nevra"), field(where, "nevra"));
        p.repo = as_string(require(obj, where, "repo"), field(where, "repo"));
        p.reason = text(require(obj, where, "reason"), field(where, "reason"));
        packages.push_back(std::move(p));
    }
    return packages;
}

// Relations between sections: every reference resolves inside the bundle.
// Far above any path a repo holds, far below PATH_MAX once the staging directory is in front.
constexpr std::size_t kMaxBundlePath = 1024;

void cross_check(const BundleManifest& m) {
    std::set<std::string> files, base_files;
    for (const auto& f : m.files) files.insert(f.path);
    if (m.base_bundle)
        for (size_t i = 0; i < m.base_bundle->files.size(); ++i) {
            const std::string& path = m.base_bundle->files[i].path;
            if (files.count(path))
                bad(field(index("base_bundle.files", i), "path") + " " + json_quoted(path) + " is also in files");
            base_files.insert(path);
        }
    // Every listed path must be stageable: none is a directory of another ("X" and "X/y"), and
    // none is so long that it cannot be created under the staging directory.
    std::set<std::string> all = files;
    all.insert(base_files.begin(), base_files.end());
    for (const auto& path : all) {
        if (path.size() > kMaxBundlePath)
            bad("path " + json_quoted(path.substr(0, 40) + "...") + " is longer than " +
                std::to_string(kMaxBundlePath) + " bytes");
        for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
            if (all.count(path.substr(0, slash)))
                bad("path " + json_quoted(path) + " is inside " + json_quoted(path.substr(0, slash)) +
                    ", which is listed as a file");
    }
    std::map<std::string, const BundleRepo*> repos;
    for (const auto& r : m.repos) repos[r.id] = &r;
    // A repo whose metadata are not listed would be read unchecked.
    for (size_t i = 0; i < m.repos.size(); ++i)
        if (!all.count(m.repos[i].path + "/repodata/repomd.xml"))
            bad(field(index("repos", i), "path") + " " + json_quoted(m.repos[i].path) +
                ": its repodata/repomd.xml is not in files");
    for (size_t i = 0; i < m.repos.size(); ++i)
        for (size_t k = 0; k < m.repos[i].gpgkeys.size(); ++k)
            if (!files.count(m.repos[i].gpgkeys[k]))
                bad(index(field(index("repos", i), "gpgkeys"), k) + " " + json_quoted(m.repos[i].gpgkeys[k]) +
                    " is not in files");
    for (size_t i = 0; i < m.packages.size(); ++i) {
        const auto& p = m.packages[i];
        const std::string where = index("packages", i);
        auto repo = repos.find(p.repo);
        if (repo == repos.end())
            bad(field(where, "repo") + " " + json_quoted(p.repo) + " is not a repo of this bundle");
        if (!files.count(p.path) && !base_files.count(p.path))
            bad(field(where, "path") + " " + json_quoted(p.path) + " is not in files" +
                (m.base_bundle ? " nor in base_bundle.files" : ""));
        const std::string prefix = repo->second->path + "/";
        if (p.path.compare(0, prefix.size(), prefix) != 0)
            bad(field(where, "path") + " " + json_quoted(p.path) + " is not inside its repo's path " +
                json_quoted(repo->second->path));
    }
    std::set<std::string> roles(m.roles.begin(), m.roles.end());
    for (const auto& [role, packages] : m.target_versions)
        if (!roles.count(role)) bad(field("target_versions", role) + " is not one of this bundle's roles");
    if (parse_rfc3339(m.expires) <= parse_rfc3339(m.created))
        bad("expires " + json_quoted(m.expires) + " is not after created " + json_quoted(m.created));
    if (m.base_bundle && m.base_bundle->serial >= m.serial)
        bad("base_bundle.serial " + std::to_string(m.base_bundle->serial) + " is not lower than serial " +
            std::to_string(m.serial));
}

std::string strip_json_prefix(const std::string& what) {
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    auto pos = what.find("] ");
    return what.compare(0, 1, "[") == 0 && pos != std::string::npos ? what.substr(pos + 2) : what;
}

}  // namespace

bool is_bundle_id(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool BundleManifest::operator==(const BundleManifest& o) const {
    return format == o.format && id == o.id && serial == o.serial && created == o.created && expires == o.expires &&
           source_manifest == o.source_manifest && roles == o.roles && target_versions == o.target_versions &&
           repos == o.repos && files == o.files && packages == o.packages && base_bundle == o.base_bundle;
}

namespace {

// `files` and `base_bundle.files`: sorted by path, so that equal manifests give equal bytes.
json files_json(std::vector<BundleFile> files) {
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    json out = json::array();
    for (const auto& f : files) out.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
    return out;
}

}  // namespace

void to_json(json& j, const BundleManifest& m) {
    auto roles = m.roles;
    std::sort(roles.begin(), roles.end());
    auto repos = m.repos;
    std::sort(repos.begin(), repos.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    auto packages = m.packages;
    std::sort(packages.begin(), packages.end(), [](const auto& a, const auto& b) { return a.path < b.path; });

    j = json::object();
    j["format"] = m.format;
    j["id"] = m.id;
    j["serial"] = m.serial;
    j["created"] = m.created;
    j["expires"] = m.expires;
    j["source_manifest"] = m.source_manifest;
    j["roles"] = roles;
    j["target_versions"] = json::object();
    for (const auto& [role, versions] : m.target_versions) j["target_versions"][role] = versions;
    j["repos"] = json::array();
    for (const auto& r : repos)
        j["repos"].push_back({{"id", r.id}, {"name", r.name}, {"path", r.path}, {"gpgkeys", r.gpgkeys}});
    j["files"] = files_json(m.files);
    j["packages"] = json::array();
    for (const auto& p : packages)
        j["packages"].push_back({{"path", p.path}, {"nevra", p.nevra}, {"repo", p.repo}, {"reason", p.reason}});
    if (m.base_bundle)
        j["base_bundle"] = {{"id", m.base_bundle->id},
                            {"serial", m.base_bundle->serial},
                            {"manifest_sha256", m.base_bundle->manifest_sha256},
                            {"files", files_json(m.base_bundle->files)}};
}

void from_json(const json& j, BundleManifest& out) {
    if (!j.is_object()) bad("not a JSON object");
    // The format first: a newer bundle gets "unknown format", not a confusing field error.
    std::string format = as_string(require(j, "", "format"), "format");
    if (format != kBundleFormat)
        bad("format is " + json_quoted(format) + ", expected " + json_quoted(kBundleFormat) +
            " (a bundle made by a newer ovirt-bundler?)");
    check_keys(j, "",
               {"format", "id", "serial", "created", "expires", "source_manifest", "roles", "target_versions", "repos",
                "files", "packages", "base_bundle"});
    BundleManifest m;
    m.id = uuid(require(j, "", "id"), "id");
    m.serial = as_uint(require(j, "", "serial"), "serial");
    // A serial at the top of the range would freeze the site: no later bundle could be newer.
    if (m.serial > kMaxBundleSerial)
        bad("serial " + std::to_string(m.serial) + " is above " + std::to_string(kMaxBundleSerial) +
            " (2^53-1): no later bundle could be newer");
    m.created = timestamp(require(j, "", "created"), "created");
    m.expires = timestamp(require(j, "", "expires"), "expires");
    m.source_manifest = text(require(j, "", "source_manifest"), "source_manifest");

    const json& roles = require_array(require(j, "", "roles"), "roles");
    for (size_t i = 0; i < roles.size(); ++i) {
        std::string role = as_string(roles[i], index("roles", i));
        if (!kRoles.count(role)) bad(index("roles", i) + " " + json_quoted(role) + " is not engine, host or node");
        if (std::find(m.roles.begin(), m.roles.end(), role) != m.roles.end())
            bad(index("roles", i) + " " + json_quoted(role) + " is duplicated");
        m.roles.push_back(role);
    }

    const json& targets = require_object(require(j, "", "target_versions"), "target_versions");
    for (const auto& role : targets.items()) {
        const std::string where = field("target_versions", role.key());
        require_object(role.value(), where);
        auto& versions = m.target_versions[role.key()];
        for (const auto& pkg : role.value().items()) {
            const std::string name = field(where, pkg.key());
            if (pkg.key().empty() || has_space(pkg.key())) bad(name + " is not a package name");
            versions[pkg.key()] = token(pkg.value(), name);
        }
    }

    m.repos = parse_repos(require(j, "", "repos"));
    m.files = parse_files(require(j, "", "files"), "files");
    m.packages = parse_packages(require(j, "", "packages"));

    auto base = j.find("base_bundle");
    if (base != j.end() && !base->is_null()) {
        require_object(*base, "base_bundle");
        check_keys(*base, "base_bundle", {"id", "serial", "manifest_sha256", "files"});
        BaseBundle b;
        b.id = uuid(require(*base, "base_bundle", "id"), "base_bundle.id");
        b.serial = as_uint(require(*base, "base_bundle", "serial"), "base_bundle.serial");
        b.manifest_sha256 = as_string(require(*base, "base_bundle", "manifest_sha256"), "base_bundle.manifest_sha256");
        if (!is_hex64(b.manifest_sha256)) bad("base_bundle.manifest_sha256 must be 64 lowercase hex digits");
        b.files = parse_files(require(*base, "base_bundle", "files"), "base_bundle.files");
        if (b.id == m.id) bad("base_bundle.id is the bundle's own id");
        m.base_bundle = b;
    }
    cross_check(m);
    out = std::move(m);
}

std::string serialize_bundle_manifest(const BundleManifest& m) {
    json j = m;
    BundleManifest checked;
    from_json(j, checked);
    try {
        return j.dump(2) + "\n";
    } catch (const json::exception& e) {
        bad(strip_json_prefix(e.what()));
    }
}

BundleManifest parse_bundle_manifest(std::string_view json_text) {
    // nlohmann keeps the last of duplicate keys; another reader might keep the first, so a
    // signed manifest with duplicates could mean two things: refuse it.
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            keys.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            keys.pop_back();
        } else if (event == json::parse_event_t::key && !keys.empty()) {
            std::string key = parsed.get<std::string>();
            if (!keys.back().insert(key).second && duplicate.empty()) duplicate = key;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(json_text.begin(), json_text.end(), track);
    } catch (const json::exception& e) {
        bad("not valid JSON: " + strip_json_prefix(e.what()));
    }
    if (!duplicate.empty()) bad("key " + json_quoted(duplicate) + " appears twice in one object");
    BundleManifest m;
    from_json(j, m);
    return m;
}

std::optional<std::string> unsafe_path_reason(std::string_view path) {
    if (path.empty()) return "is empty";
    if (has_control(path)) return "contains a control character";
    if (path.find('\\') != std::string_view::npos) return "contains a backslash";
    if (path.front() == '/') return "is absolute";
    size_t start = 0;
    for (;;) {
        size_t end = path.find('/', start);
        std::string_view part =
            path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (part.empty()) return "has an empty component";
        if (part == "..") return "contains '..'";
        if (part == ".") return "contains a '.' component";
        if (part.size() > 255) return "has a component longer than 255 bytes";
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return std::nullopt;
}

void check_not_expired(const BundleManifest& m, std::chrono::system_clock::time_point now) {
    auto expires = parse_rfc3339(m.expires);
    if (!expires) bad("expires " + json_quoted(m.expires) + " is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    if (now >= *expires) throw BundleRefused("bundle expired on " + m.expires);
    // Made in the future: the signer's clock or this machine's is wrong, and the bundle's
    // validity window means nothing; an hour covers clocks set by hand.
    auto created = parse_rfc3339(m.created);
    if (created && *created > now + std::chrono::hours(1))
        throw BundleRefused("bundle created on " + m.created + ", in the future: check this machine's clock");
}

void check_serial(const BundleManifest& m, std::optional<std::uint64_t> last_applied) {
    if (last_applied && m.serial <= *last_applied)
        throw BundleRefused("bundle serial " + std::to_string(m.serial) +
                            " is not newer than the last applied serial " + std::to_string(*last_applied) +
                            " (rollback refused)");
}

std::string new_bundle_id() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw ConfigError("cannot generate a bundle id: OpenSSL's RNG failed");
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

}  // namespace airgap::repo
