#include "repo/apply/engine_setup_answers.hpp"

#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

#include "repo/base/error.hpp"
#include "repo/base/text.hpp"

namespace airgap::repo {

std::set<std::string> otopi_answer_keys(std::string_view text) {
    std::set<std::string> keys;
    bool environment = false;
    std::istringstream in{std::string(text)};
    for (std::string raw; std::getline(in, raw);) {
        std::string line(trim(raw));
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
            environment = line.rfind("[environment:", 0) == 0;
            continue;
        }
        // Python's RawConfigParser splits an option at its first '=' or ':'.
        auto sep = line.find_first_of("=:");
        if (!environment || sep == std::string::npos) continue;
        std::string key(trim(std::string_view(line).substr(0, sep)));
        if (!key.empty()) keys.insert(key);
    }
    return keys;
}

std::set<std::string> otopi_answer_file_keys(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in || !std::filesystem::is_regular_file(file))
        throw ConfigError("cannot read the answer file " + file.string());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return otopi_answer_keys(text);
}

std::string engine_setup_answers(const std::set<std::string>& admin_keys) {
    static const std::vector<std::pair<std::string, std::string>> kAnswers = {
        {"OVESETUP_CORE/engineStop", "bool:True"},
        {"OVESETUP_DIALOG/confirmSettings", "bool:True"},
        {"OSETUP_RPMDISTRO/enableUpgrade", "bool:True"},
        {"OSETUP_RPMDISTRO/requireRollback", "bool:True"},
    };
    std::string out =
        "# Written by ovirt-applier: an unattended engine-setup upgrade from the offline bundle.\n"
        "[environment:default]\n";
    for (const auto& [key, value] : kAnswers) {
        if (admin_keys.count(key))
            out += "# " + key + ": the administrator's answer file sets it\n";
        else
            out += key + "=" + value + "\n";
    }
    return out;
}

}  // namespace airgap::repo
