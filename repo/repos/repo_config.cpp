#include "repo/repos/repo_config.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"

namespace airgap::repo {

namespace {

bool is_var_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// One key of a section as read, before interpretation; continuation lines already joined.
struct RawValue {
    std::string value;
    int line = 0;
};

struct RawSection {
    std::string id;
    int line = 0;
    std::map<std::string, RawValue> keys;  // lower-case key -> value
    std::vector<std::string> key_order;
};

// yum lists `mirrorlist=` URLs that are really metalinks (EPEL's "metalink?repo=..."): librepo
// needs to know which of the two it is given.
bool looks_like_metalink(const std::string& url) { return url.find("/metalink") != std::string::npos; }

RepoConfig interpret(const RawSection& raw, const std::string& file, const Vars& vars) {
    RepoConfig repo;
    repo.id = raw.id;
    repo.name = raw.id;
    repo.source = file + ":" + std::to_string(raw.line);
    auto where = [&](const RawValue& v) { return file + ":" + std::to_string(v.line) + ": "; };
    auto boolean = [&](const std::string& key, const RawValue& v) {
        auto b = parse_yum_bool(trim(v.value));
        if (!b)
            throw ConfigError(where(v) + "repo '" + raw.id + "': " + key + " must be 1/0, True/False or yes/no, not '" +
                              std::string(trim(v.value)) + "'");
        return *b;
    };
    for (const auto& key : raw.key_order) {
        const RawValue& v = raw.keys.at(key);
        std::string value = substitute_vars(trim(v.value), vars);
        if (key == "name") {
            repo.name = value;
        } else if (key == "baseurl") {
            repo.baseurls = split_yum_list(value);
        } else if (key == "mirrorlist") {
            repo.mirrorlist = value;
        } else if (key == "metalink") {
            repo.metalink = value;
        } else if (key == "enabled") {
            repo.enabled = boolean(key, v);
        } else if (key == "gpgcheck") {
            repo.gpgcheck = boolean(key, v);
        } else if (key == "skip_if_unavailable") {
            repo.skip_if_unavailable = boolean(key, v);
        } else if (key == "gpgkey") {
            repo.gpgkeys = split_yum_list(value);
        } else if (key == "includepkgs") {
            repo.includepkgs = split_yum_list(value);
        } else if (key == "exclude" || key == "excludepkgs") {
            auto more = split_yum_list(value);
            repo.excludepkgs.insert(repo.excludepkgs.end(), more.begin(), more.end());
        }
        // Other yum keys (failovermethod, cost, type, ...) do not change what we fetch.
    }
    if (repo.metalink.empty() && looks_like_metalink(repo.mirrorlist)) std::swap(repo.metalink, repo.mirrorlist);
    if (repo.enabled && repo.baseurls.empty() && repo.mirrorlist.empty() && repo.metalink.empty())
        throw ConfigError(repo.source + ": repo '" + repo.id + "' has no baseurl, mirrorlist or metalink");
    return repo;
}

}  // namespace

std::string substitute_vars(std::string_view text, const Vars& vars) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '$') {
            out += text[i++];
            continue;
        }
        // yum's rule: `${name}` or `$name` where name is the longest run of word characters.
        bool braced = i + 1 < text.size() && text[i + 1] == '{';
        size_t start = i + (braced ? 2 : 1);
        size_t end = start;
        while (end < text.size() && is_var_char(text[end])) ++end;
        if (braced && (end >= text.size() || text[end] != '}')) end = start;  // not a variable
        std::string name(text.substr(start, end - start));
        auto it = name.empty() ? vars.end() : vars.find(name);
        if (it == vars.end()) {
            out += text[i++];
            continue;
        }
        out += it->second;
        i = end + (braced ? 1 : 0);
    }
    return out;
}

std::optional<bool> parse_yum_bool(std::string_view text) {
    std::string v = lower(trim(text));
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v == "0" || v == "false" || v == "no" || v == "off") return false;
    return std::nullopt;
}

std::vector<std::string> split_yum_list(std::string_view text) {
    std::vector<std::string> items;
    std::string current;
    for (char c : text) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            if (!current.empty()) items.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty()) items.push_back(std::move(current));
    return items;
}

std::vector<RepoConfig> parse_repofile(const std::filesystem::path& file, const Vars& vars) {
    const std::string fname = file.string();
    std::ifstream in(file);
    if (!in) throw ConfigError(fname + ": cannot read repo file");

    std::deque<RawSection> sections;  // deque: `current` stays valid as sections are added
    std::map<std::string, int> seen;  // id -> line of its first definition
    RawSection* current = nullptr;    // nullptr: before the first section, or in [main]
    bool in_main = false;
    RawValue* last_value = nullptr;  // the key a continuation line extends
    std::string line;
    int lineno = 0;
    auto fail = [&](const std::string& msg) { throw ConfigError(fname + ":" + std::to_string(lineno) + ": " + msg); };

    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t.front() == '#' || t.front() == ';') continue;
        if (std::isspace(static_cast<unsigned char>(line.front()))) {
            if (!last_value) fail("continuation line without a key: '" + std::string(t) + "'");
            last_value->value += "\n";
            last_value->value += t;
            continue;
        }
        last_value = nullptr;
        if (t.front() == '[') {
            if (t.back() != ']') fail("section header without ']': '" + std::string(t) + "'");
            std::string id(trim(t.substr(1, t.size() - 2)));
            if (id.empty()) fail("empty section name");
            if (id == "main") {
                // yum.conf's [main] holds global options, not a repo.
                in_main = true;
                current = nullptr;
                continue;
            }
            if (id.find_first_of(" \t/") != std::string::npos) fail("bad repo id '" + id + "'");
            auto [it, inserted] = seen.emplace(id, lineno);
            if (!inserted)
                fail("repo '" + id + "' is defined twice (first at line " + std::to_string(it->second) + ")");
            in_main = false;
            sections.push_back(RawSection{id, lineno, {}, {}});
            current = &sections.back();
            continue;
        }
        size_t eq = t.find('=');
        if (eq == std::string_view::npos) fail("expected key=value, got '" + std::string(t) + "'");
        std::string key = lower(trim(t.substr(0, eq)));
        if (key.empty()) fail("empty key before '='");
        if (in_main) continue;
        if (!current) fail("'" + key + "' outside of a [repo] section");
        if (!current->keys.count(key)) current->key_order.push_back(key);
        RawValue& v = current->keys[key];
        v.value = std::string(trim(t.substr(eq + 1)));
        v.line = lineno;
        last_value = &v;
    }

    std::vector<RepoConfig> repos;
    repos.reserve(sections.size());
    for (const auto& s : sections) repos.push_back(interpret(s, fname, vars));
    return repos;
}

void override_repo_url(std::vector<RepoConfig>& repos, const std::string& id, const std::string& url) {
    for (auto& repo : repos) {
        if (repo.id != id) continue;
        repo.baseurls = {url};
        repo.mirrorlist.clear();
        repo.metalink.clear();
        return;
    }
    std::string known;
    for (const auto& repo : repos) known += (known.empty() ? "" : ", ") + repo.id;
    throw ConfigError("--repo-url " + id + "=" + url + ": no repo has the id '" + id + "' (known: " + known + ")");
}

void merge_repos(std::vector<RepoConfig>& repos, std::vector<RepoConfig> from_file) {
    for (auto& repo : from_file) {
        auto it = std::find_if(repos.begin(), repos.end(), [&](const RepoConfig& r) { return r.id == repo.id; });
        if (it != repos.end())
            *it = std::move(repo);
        else
            repos.push_back(std::move(repo));
    }
}

bool package_allowed(const RepoConfig& repo, std::string_view name) {
    const std::string n(name);
    auto matches = [&](const std::string& pattern) { return fnmatch(pattern.c_str(), n.c_str(), 0) == 0; };
    if (std::any_of(repo.excludepkgs.begin(), repo.excludepkgs.end(), matches)) return false;
    if (repo.includepkgs.empty()) return true;
    return std::any_of(repo.includepkgs.begin(), repo.includepkgs.end(), matches);
}

}  // namespace airgap::repo
