#include "repo/apply/step_data_private.hpp"

namespace airgap::repo {

using nlohmann::json;

// Every reader takes a missing key as the default: a step's data is {} until the step writes it.

void to_json(json& j, const VerifyData& d) { j = json{{"manifest_sha256", d.manifest_sha256}}; }
void from_json(const json& j, VerifyData& d) { d.manifest_sha256 = j.value("manifest_sha256", ""); }

void to_json(json& j, const StageData& d) { j = json{{"dir", d.dir}}; }
void from_json(const json& j, StageData& d) { d.dir = j.value("dir", ""); }

void to_json(json& j, const PreflightData& d) {
    j = json{{"kernel", d.kernel}, {"packages", d.packages}};
    if (!d.host.empty()) j["host"] = d.host;
    if (d.node) {
        j["layer"] = d.node->layer;
        j["layers"] = d.node->layers;
        j["image_update"] = d.node->image_update;
    }
}
void from_json(const json& j, PreflightData& d) {
    d.kernel = j.value("kernel", "");
    d.packages = j.value("packages", std::size_t{0});
    d.host = j.value("host", "");
    d.node.reset();
    if (j.contains("layer"))
        d.node = NodeBefore{j.value("layer", ""), j.value("layers", std::vector<std::string>{}),
                            j.value("image_update", true)};
}

void to_json(json& j, const ReposData& d) {
    j = json{{"active", d.active}, {"changes", repo_changes_to_json(d.changes)}};
}
void from_json(const json& j, ReposData& d) {
    d.active = j.value("active", false);
    d.changes = repo_changes_from_json(j.value("changes", json::array()));
}

void to_json(json& j, const UpgradeCheckData& d) {
    j = json{{"exit", d.exit}, {"upgrade", d.upgrade}};
    if (!d.below.empty()) j["below"] = d.below;
}
void from_json(const json& j, UpgradeCheckData& d) {
    d.exit = j.value("exit", 0);
    d.upgrade = j.value("upgrade", false);
    d.below = j.value("below", std::vector<std::string>{});
}

void to_json(json& j, const SkippedData& d) { j = json{{"skipped", d.skipped}}; }
void from_json(const json& j, SkippedData& d) { d.skipped = j.value("skipped", ""); }

void to_json(json& j, const ChildData& d) {
    j = json{{"program", d.program}, {"pid", d.pid}, {"start_time", d.start_time}, {"log", d.log}};
}
void from_json(const json& j, ChildData& d) {
    d.program = j.value("program", "");
    d.pid = j.value("pid", pid_t{0});
    d.start_time = j.value("start_time", std::uint64_t{0});
    d.log = j.value("log", "");
}
json with_child(json data, const ChildData& child) {
    if (!data.is_object()) data = json::object();
    data["child"] = child;
    return data;
}
ChildData child_of(const json& data) {
    if (!data.is_object() || !data.contains("child") || !data["child"].is_object()) return {};
    return data["child"].get<ChildData>();
}

void to_json(json& j, const KernelCheckData& d) {
    j = json{
        {"installed", d.installed}, {"running", d.running}, {"reboot_needed", d.reboot_needed}, {"boot_id", d.boot_id}};
}
void from_json(const json& j, KernelCheckData& d) {
    d.installed = j.value("installed", "");
    d.running = j.value("running", "");
    d.reboot_needed = j.value("reboot_needed", false);
    d.boot_id = j.value("boot_id", "");
}

// A skipped new-layer writes why in place of a boot id: no reboot is waited for.
void to_json(json& j, const NewLayerData& d) {
    j = json{{"layer", d.layer}};
    if (d.skipped.empty())
        j["boot_id"] = d.boot_id;
    else
        j["skipped"] = d.skipped;
}
void from_json(const json& j, NewLayerData& d) {
    d.layer = j.value("layer", "");
    d.boot_id = j.value("boot_id", "");
    d.skipped = j.value("skipped", "");
}

}  // namespace airgap::repo
