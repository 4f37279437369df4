#include "repo/manifest/manifest.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>

#include "repo/base/error.hpp"

namespace airgap::repo {

namespace {

const std::set<std::string> kRoles = {"engine", "host", "node"};
const std::set<std::string> kTopKeys = {"name", "releasever", "basearch", "repos", "roles"};
const std::set<std::string> kRepoKeys = {"id",          "name",        "baseurl",  "mirrorlist",
                                         "metalink",    "enabled",     "gpgcheck", "gpgkey",
                                         "includepkgs", "excludepkgs", "exclude",  "skip_if_unavailable"};

// Every error of a manifest is "FILE:LINE: message" (yaml-cpp marks are 0-based).
class Checker {
public:
    explicit Checker(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
        throw ConfigError(file_ + ":" + std::to_string(at.Mark().line + 1) + ": " + msg);
    }

    // The value of `key` in `map`, which must be a mapping; fails naming the key when absent.
    YAML::Node required(const YAML::Node& map, const std::string& key, const std::string& what) const {
        YAML::Node v = map[key];
        if (!v || v.IsNull()) fail(map, what + "missing required key '" + key + "'");
        return v;
    }

    std::string scalar(const YAML::Node& v, const std::string& key, const std::string& what) const {
        if (!v.IsScalar()) fail(v, what + "'" + key + "' must be a string");
        std::string s = v.Scalar();
        if (s.empty()) fail(v, what + "'" + key + "' must not be empty");
        return s;
    }

    // yum keys that take lists accept a YAML list or a yum-style "a, b c" string.
    std::vector<std::string> list(const YAML::Node& v, const std::string& key, const std::string& what) const {
        if (v.IsScalar()) return split_yum_list(v.Scalar());
        if (!v.IsSequence()) fail(v, what + "'" + key + "' must be a string or a list of strings");
        std::vector<std::string> out;
        for (const auto& item : v) {
            if (!item.IsScalar() || item.Scalar().empty())
                fail(item, what + "'" + key + "' must be a string or a list of strings");
            out.push_back(item.Scalar());
        }
        return out;
    }

    bool boolean(const YAML::Node& v, const std::string& key, const std::string& what) const {
        auto b = v.IsScalar() ? parse_yum_bool(v.Scalar()) : std::nullopt;
        if (!b) fail(v, what + "'" + key + "' must be a boolean (true/false or 1/0)");
        return *b;
    }

    void only_keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& what) const {
        for (const auto& kv : map) {
            const std::string key = kv.first.Scalar();
            if (!allowed.count(key)) fail(kv.first, what + "unknown key '" + key + "'");
        }
    }

private:
    std::string file_;
};

RepoConfig load_repo(const Checker& c, const YAML::Node& node, const Vars& vars) {
    if (!node.IsMap()) c.fail(node, "repos: each repo must be a mapping with at least 'id'");
    RepoConfig repo;
    repo.id = c.scalar(c.required(node, "id", "repos: "), "id", "repos: ");
    const std::string what = "repo '" + repo.id + "': ";
    c.only_keys(node, kRepoKeys, what);
    repo.source = std::to_string(node.Mark().line + 1);
    repo.name = node["name"] ? c.scalar(node["name"], "name", what) : repo.id;

    int sources = 0;
    if (auto v = node["baseurl"]) {
        repo.baseurls = c.list(v, "baseurl", what);
        if (repo.baseurls.empty()) c.fail(v, what + "'baseurl' must not be empty");
        ++sources;
    }
    if (auto v = node["mirrorlist"]) {
        repo.mirrorlist = c.scalar(v, "mirrorlist", what);
        ++sources;
    }
    if (auto v = node["metalink"]) {
        repo.metalink = c.scalar(v, "metalink", what);
        ++sources;
    }
    if (sources != 1) c.fail(node, what + "needs exactly one of 'baseurl', 'mirrorlist' or 'metalink'");

    if (auto v = node["enabled"]) repo.enabled = c.boolean(v, "enabled", what);
    if (auto v = node["gpgcheck"]) repo.gpgcheck = c.boolean(v, "gpgcheck", what);
    if (auto v = node["skip_if_unavailable"]) repo.skip_if_unavailable = c.boolean(v, "skip_if_unavailable", what);
    if (auto v = node["gpgkey"]) repo.gpgkeys = c.list(v, "gpgkey", what);
    if (auto v = node["includepkgs"]) repo.includepkgs = c.list(v, "includepkgs", what);
    for (const char* key : {"excludepkgs", "exclude"})
        if (auto v = node[key]) {
            auto more = c.list(v, key, what);
            repo.excludepkgs.insert(repo.excludepkgs.end(), more.begin(), more.end());
        }
    if (repo.gpgcheck && repo.gpgkeys.empty()) c.fail(node, what + "gpgcheck is on but no 'gpgkey' is given");

    for (auto& u : repo.baseurls) u = substitute_vars(u, vars);
    repo.mirrorlist = substitute_vars(repo.mirrorlist, vars);
    repo.metalink = substitute_vars(repo.metalink, vars);
    repo.name = substitute_vars(repo.name, vars);
    for (auto& k : repo.gpgkeys) k = substitute_vars(k, vars);
    return repo;
}

}  // namespace

Manifest load_manifest(const std::filesystem::path& file) {
    const std::string fname = file.string();
    std::ifstream in(file);
    if (!in) throw ConfigError(fname + ": cannot read manifest");
    YAML::Node root;
    try {
        root = YAML::Load(in);
    } catch (const YAML::Exception& e) {
        throw ConfigError(fname + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    Checker c(fname);
    if (!root.IsMap()) c.fail(root, "a manifest must be a mapping with name, releasever, basearch, repos, roles");
    c.only_keys(root, kTopKeys, "");

    Manifest m;
    m.path = file;
    m.name = c.scalar(c.required(root, "name", ""), "name", "");
    m.releasever = c.scalar(c.required(root, "releasever", ""), "releasever", "");
    m.basearch = c.scalar(c.required(root, "basearch", ""), "basearch", "");
    const Vars vars = m.vars();

    YAML::Node repos = c.required(root, "repos", "");
    if (!repos.IsSequence() || repos.size() == 0) c.fail(repos, "'repos' must be a non-empty list");
    std::map<std::string, size_t> ids;
    for (const auto& node : repos) {
        RepoConfig repo = load_repo(c, node, vars);
        repo.source = fname + ":" + repo.source;
        if (ids.count(repo.id)) c.fail(node, "repo '" + repo.id + "' is defined twice");
        ids[repo.id] = m.repos.size();
        m.repos.push_back(std::move(repo));
    }

    YAML::Node roles = c.required(root, "roles", "");
    if (!roles.IsMap() || roles.size() == 0) c.fail(roles, "'roles' must be a mapping of engine, host, node");
    for (const auto& kv : roles) {
        const std::string role = kv.first.Scalar();
        if (!kRoles.count(role)) c.fail(kv.first, "unknown role '" + role + "' (expected engine, host or node)");
        const std::string what = "role '" + role + "': ";
        if (!kv.second.IsMap()) c.fail(kv.second, what + "must be a mapping with 'roots'");
        c.only_keys(kv.second, {"roots"}, what);
        YAML::Node roots = c.required(kv.second, "roots", what);
        Role r;
        r.roots = c.list(roots, "roots", what);
        if (r.roots.empty()) c.fail(roots, what + "'roots' must not be empty");
        m.roles[role] = std::move(r);
    }
    return m;
}

}  // namespace airgap::repo
