#include "repo/apply/hosted_engine_private.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "repo/base/target.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

// KEY="value" lines (ovirt-engine's configfile.ConfigFile: shell-like, '#' comments).
void read_config(const fs::path& file, std::map<std::string, std::string>& out) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#') continue;
        auto eq = line.find('=', b);
        if (eq == std::string::npos) continue;
        std::string key = line.substr(b, eq - b);
        std::string value = line.substr(eq + 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        out[key] = value;
    }
}

void read_config_with_dir(const fs::path& file, std::map<std::string, std::string>& out) {
    read_config(file, out);
    std::vector<fs::path> parts;
    std::error_code ec;
    for (fs::directory_iterator it(file.string() + ".d", ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".conf") parts.push_back(it->path());
    std::sort(parts.begin(), parts.end());
    for (const auto& p : parts) read_config(p, out);
}

std::vector<std::vector<std::string>> rows(const std::string& output) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        std::vector<std::string> cells;
        std::size_t start = 0;
        for (std::size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1)
            cells.push_back(line.substr(start, bar - start));
        cells.push_back(line.substr(start));
        out.push_back(std::move(cells));
    }
    return out;
}

}  // namespace

std::optional<EngineDatabase> engine_database(const fs::path& root) {
    const Target target(root);
    std::map<std::string, std::string> config;
    read_config_with_dir(target.path("/usr/share/ovirt-engine/services/ovirt-engine/ovirt-engine.conf"), config);
    read_config_with_dir(target.path("/etc/ovirt-engine/engine.conf"), config);
    if (config["ENGINE_DB_PASSWORD"].empty()) return std::nullopt;
    return EngineDatabase{config["ENGINE_DB_HOST"], config["ENGINE_DB_PORT"], config["ENGINE_DB_USER"],
                          config["ENGINE_DB_PASSWORD"], config["ENGINE_DB_DATABASE"]};
}

std::string sql_literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::optional<std::string> hosted_engine_refusal(const std::function<std::string(const std::string&)>& query) {
    // vdcoption.VdcOption.getVdcOption: version 'general'; he.py falls back to "HostedEngine".
    std::string vm_name = "HostedEngine";
    auto option = rows(query(
        "select option_value from vdc_options where option_name = 'HostedEngineVmName' and version = 'general';"));
    if (!option.empty() && !option[0][0].empty()) vm_name = option[0][0];

    auto vm = rows(query("select vm_guid, run_on_vds from vms where vm_name = " + sql_literal(vm_name) + ";"));
    if (vm.empty() || vm[0][0].empty()) return std::nullopt;  // no hosted engine VM
    std::string host = vm[0].size() > 1 ? vm[0][1] : "";
    if (!host.empty()) {
        auto stats =
            rows(query("select ha_global_maintenance from vds_statistics where vds_id = " + sql_literal(host) + ";"));
        if (!stats.empty() && stats[0][0] == "t") return std::nullopt;  // in global maintenance
    }
    // As in he.py: a hosted engine VM that runs nowhere known, or whose host is not in global
    // maintenance, is refused.
    return "the hosted engine VM " + vm_name + (host.empty() ? " runs on no known host" : " runs on host " + host) +
           " and global maintenance is not set";
}

}  // namespace airgap::repo
