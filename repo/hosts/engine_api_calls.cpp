// The typed side of the Engine client: JSON in, structs out, so that nothing above it reads
// the API's JSON.
#include <algorithm>
#include <tuple>

#include "repo/base/error.hpp"
#include "repo/hosts/engine_api.hpp"

namespace airgap::repo {

using nlohmann::json;

HostStatus parse_host_status(const std::string& word) {
    static const std::pair<const char*, HostStatus> words[] = {
        {"up", HostStatus::up},
        {"maintenance", HostStatus::maintenance},
        {"preparing_for_maintenance", HostStatus::preparing_for_maintenance},
        {"installing", HostStatus::installing},
        {"install_failed", HostStatus::install_failed},
        {"reboot", HostStatus::reboot},
        {"non_responsive", HostStatus::non_responsive},
        {"non_operational", HostStatus::non_operational},
        {"error", HostStatus::error},
    };
    for (const auto& [w, status] : words)
        if (word == w) return status;
    return HostStatus::other;
}

VmStatus parse_vm_status(const std::string& word) {
    if (word == "up") return VmStatus::up;
    if (word == "down") return VmStatus::down;
    if (word == "migrating") return VmStatus::migrating;
    return VmStatus::other;
}

EngineHost parse_host(const json& j) {
    EngineHost h;
    h.id = json_string(j, "id");
    h.name = json_string(j, "name");
    h.address = json_string(j, "address");
    h.status_text = json_string(j, "status");
    h.status = parse_host_status(h.status_text);
    h.spm = j.contains("spm") && json_string(j["spm"], "status") == "spm";
    h.node = json_string(j, "type") == "ovirt_node";
    h.max_scheduling_memory = json_int(j, "max_scheduling_memory");
    h.update_available = json_bool(j, "update_available");
    return h;
}

std::string EngineVm::non_migratable_reason() const {
    if (affinity == Affinity::pinned) return "pinned to the host";
    if (!mdev_type.empty()) return "vGPU mdev_type " + mdev_type;
    if (host_devices) return "host devices";
    return {};
}

EngineVm parse_vm(const json& j) {
    EngineVm v;
    v.id = json_string(j, "id");
    v.name = json_string(j, "name");
    v.status_text = json_string(j, "status");
    v.status = parse_vm_status(v.status_text);
    v.memory = json_int(j, "memory");
    if (j.contains("host")) v.host_id = json_string(j["host"], "id");
    if (j.contains("placement_policy")) {
        std::string affinity = json_string(j["placement_policy"], "affinity");
        if (affinity == "pinned") v.affinity = EngineVm::Affinity::pinned;
        if (affinity == "user_migratable") v.affinity = EngineVm::Affinity::user_migratable;
    }
    if (j.contains("custom_properties") && j["custom_properties"].contains("custom_property"))
        for (const json& p : j["custom_properties"]["custom_property"])
            if (json_string(p, "name") == "mdev_type") v.mdev_type = json_string(p, "value");
    return v;
}

EngineEvent parse_event(const json& j) {
    EngineEvent e;
    e.index = json_int(j, "index");
    e.code = static_cast<int>(json_int(j, "code"));
    e.description = json_string(j, "description");
    if (j.contains("host")) e.host_id = json_string(j["host"], "id");
    return e;
}

bool EngineVersion::at_least(int ma, int mi, int bu, int re) const {
    return std::tie(major, minor, build, revision) >= std::tie(ma, mi, bu, re);
}

std::string EngineVersion::text() const {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build) + "." +
           std::to_string(revision);
}

EngineVersion engine_version(EngineClient& engine) {
    json root = engine.get("");
    EngineVersion v;
    if (!root.contains("product_info") || !root["product_info"].contains("version"))
        throw StepFailed("the Engine " + engine.engine_name() + " does not say its version (product_info)");
    const json& j = root["product_info"]["version"];
    v.major = static_cast<int>(json_int(j, "major"));
    v.minor = static_cast<int>(json_int(j, "minor"));
    v.build = static_cast<int>(json_int(j, "build"));
    v.revision = static_cast<int>(json_int(j, "revision"));
    return v;
}

std::vector<EngineCluster> list_clusters(EngineClient& engine, const std::string& name) {
    std::vector<EngineCluster> out;
    for (const json& c : engine.list("clusters", "cluster", name.empty() ? "" : "name=" + name))
        if (name.empty() || json_string(c, "name") == name)
            out.push_back({json_string(c, "id"), json_string(c, "name")});
    return out;
}

std::vector<EngineHost> list_hosts(EngineClient& engine, const EngineCluster& cluster) {
    std::vector<EngineHost> out;
    for (const json& j : engine.list("hosts", "host", cluster.name.empty() ? "" : "cluster=" + cluster.name)) {
        // The search matches names by pattern: keep the cluster's own hosts only.
        if (!cluster.id.empty() && j.contains("cluster") && json_string(j["cluster"], "id") != cluster.id) continue;
        out.push_back(parse_host(j));
    }
    return out;
}

EngineHost get_host(EngineClient& engine, const std::string& id) { return parse_host(engine.get("hosts/" + id)); }

std::vector<EngineVm> running_vms(EngineClient& engine, const std::string& host_name) {
    std::vector<EngineVm> vms;
    for (const json& j : engine.list("vms", "vm", "host=" + host_name)) {
        EngineVm v = parse_vm(j);
        if (v.status == VmStatus::down) continue;
        v.host_devices = !engine.list("vms/" + v.id + "/hostdevices", "host_device").empty();
        vms.push_back(std::move(v));
    }
    return vms;
}

EngineVm get_vm(EngineClient& engine, const std::string& id) { return parse_vm(engine.get("vms/" + id)); }

std::int64_t newest_event_index(EngineClient& engine) {
    std::int64_t newest = 0;
    for (const json& e : engine.list("events?max=1", "event")) newest = std::max(newest, parse_event(e).index);
    return newest;
}

std::vector<EngineEvent> events_after(EngineClient& engine, std::int64_t index) {
    std::vector<EngineEvent> out;
    for (const json& e : engine.list("events?from=" + std::to_string(index), "event")) {
        EngineEvent ev = parse_event(e);
        if (ev.index > index) out.push_back(std::move(ev));
    }
    std::sort(out.begin(), out.end(), [](const EngineEvent& a, const EngineEvent& b) { return a.index < b.index; });
    return out;
}

void check_host_updates(EngineClient& engine, const std::string& host_id) {
    engine.post("hosts/" + host_id + "/upgradecheck");
}

void upgrade_host(EngineClient& engine, const std::string& host_id, std::optional<int> timeout_min) {
    // No `image`: in 4.3 only the old vintage Node took one; oVirt Node is upgraded like a
    // host and rebooted whatever `reboot` says.
    json body = {{"reboot", true}};
    if (timeout_min) body["timeout"] = *timeout_min;
    engine.post("hosts/" + host_id + "/upgrade", body);
}

void activate_host_action(EngineClient& engine, const std::string& host_id) {
    engine.post("hosts/" + host_id + "/activate");
}

void deactivate_host_action(EngineClient& engine, const std::string& host_id) {
    engine.post("hosts/" + host_id + "/deactivate");
}

void migrate_vm(EngineClient& engine, const std::string& vm_id) {
    engine.post("vms/" + vm_id + "/migrate", json{{"force", true}});
}

void shutdown_vm(EngineClient& engine, const std::string& vm_id) { engine.post("vms/" + vm_id + "/shutdown"); }

void start_vm(EngineClient& engine, const std::string& vm_id) { engine.post("vms/" + vm_id + "/start"); }

void cluster_upgrade(EngineClient& engine, const std::string& cluster_id, bool start) {
    engine.post("clusters/" + cluster_id + "/upgrade", json{{"upgrade_action", start ? "start" : "finish"}});
}

}  // namespace airgap::repo
