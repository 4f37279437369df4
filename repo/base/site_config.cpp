#include "repo/base/site_config.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/base/text.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

const char* const SiteConfig::kKeys[] = {"trust", "engine-url", "user", "password-file", "ca-file", "state-dir"};

fs::path SiteConfig::default_file(const fs::path& root) {
    const fs::path file = "/etc/ovirt-airgap/applier.conf";
    return Target(root).path(file);
}

SiteConfig SiteConfig::load(const fs::path& file, const fs::path& root, bool required) {
    SiteConfig config;
    config.root_ = root;
    std::ifstream in(file);
    if (!in) {
        if (required || fs::exists(file)) throw ConfigError("cannot read the site config " + file.string());
        return config;
    }
    config.file_ = file;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = std::string(trim(line));
        if (line.empty() || line[0] == '#') continue;
        const std::string where = file.string() + ":" + std::to_string(number) + ": ";
        auto eq = line.find('=');
        if (eq == std::string::npos) throw ConfigError(where + "expected 'key = value', got '" + line + "'");
        std::string key(trim(line.substr(0, eq)));
        if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
            std::string known;
            for (const char* k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k);
            throw ConfigError(where + "unknown key '" + key + "' (the keys are " + known + ")");
        }
        config.values_[key] = std::string(trim(line.substr(eq + 1)));
    }
    return config;
}

void SiteConfig::fill(std::string& field, const std::string& key) const {
    auto it = values_.find(key);
    if (field.empty() && it != values_.end()) field = it->second;
}

void SiteConfig::fill(fs::path& field, const std::string& key) const {
    auto it = values_.find(key);
    if (!field.empty() || it == values_.end() || it->second.empty()) return;
    fs::path value = it->second;
    if (value.is_relative())
        field = file_.parent_path() / value;
    else
        field = root_.empty() ? value : root_ / value.relative_path();
}

}  // namespace airgap::repo
