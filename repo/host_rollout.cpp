#include "repo/host_rollout.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "repo/atomic_file.hpp"
#include "repo/error.hpp"
#include "repo/interrupt.hpp"
#include "repo/journal.hpp"

namespace airgap::repo {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kStart = "cluster-upgrade-start";
const std::string kFinish = "cluster-upgrade-finish";
const std::string kHostPrefix = "host:";

// How an update check ends, in the Engine's audit log (AuditLogType codes). The host itself
// only says update_available, which stays false both while the check runs and when it found
// nothing: the events tell the two apart.
constexpr std::int64_t kCheckFinished = 885;  // HOST_AVAILABLE_UPDATES_FINISHED
constexpr std::int64_t kCheckFailed = 839;    // HOST_AVAILABLE_UPDATES_FAILED
constexpr std::int64_t kCheckSkipped = 887;   // HOST_AVAILABLE_UPDATES_SKIPPED_UNSUPPORTED_STATUS

// Where one host's update check stands.
struct UpdateCheck {
    enum class State { pending, available, none, failed } state = State::pending;
    std::string detail;  // the Engine's words when it failed

    bool done() const { return state != State::pending; }
};

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

bool eligible(const std::string& status) { return status == "up" || status == "non_operational"; }

std::string describe_status(const std::string& status) {
    if (status == "maintenance") return "in Maintenance";
    return "status " + status;
}

std::string format_duration(std::chrono::milliseconds d) {
    char buf[32];
    if (d >= std::chrono::minutes(1))
        std::snprintf(buf, sizeof buf, "%g min", static_cast<double>(d.count()) / 60000.0);
    else
        std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

HostInfo parse_host(const json& j) {
    HostInfo h;
    h.id = json_string(j, "id");
    h.name = json_string(j, "name");
    h.status = json_string(j, "status");
    h.spm = j.contains("spm") && json_string(j["spm"], "status") == "spm";
    h.max_scheduling_memory = json_int(j, "max_scheduling_memory");
    h.update_available = json_bool(j, "update_available");
    return h;
}

std::vector<VmInfo> fetch_vms(EngineClient& engine, const std::string& host_name) {
    std::vector<VmInfo> vms;
    for (const json& j : engine.list("vms", "vm", "host=" + host_name)) {
        VmInfo v;
        v.id = json_string(j, "id");
        v.name = json_string(j, "name");
        v.status = json_string(j, "status");
        if (v.status == "down") continue;
        v.memory = json_int(j, "memory");
        if (j.contains("placement_policy")) v.pinned = json_string(j["placement_policy"], "affinity") == "pinned";
        if (j.contains("custom_properties") && j["custom_properties"].contains("custom_property"))
            for (const json& p : j["custom_properties"]["custom_property"])
                if (json_string(p, "name") == "mdev_type") v.mdev_type = json_string(p, "value");
        v.host_devices = !engine.list("vms/" + v.id + "/hostdevices", "host_device").empty();
        vms.push_back(std::move(v));
    }
    return vms;
}

struct Snapshot {
    std::string cluster_id;
    std::string cluster_name;
    std::vector<HostInfo> hosts;
    std::vector<std::vector<VmInfo>> vms;
};

Snapshot snapshot(EngineClient& engine, const std::string& cluster) {
    Snapshot s;
    auto clusters = engine.list("clusters", "cluster", cluster.empty() ? "" : "name=" + cluster);
    if (!cluster.empty())
        clusters.erase(std::remove_if(clusters.begin(), clusters.end(),
                                      [&](const json& c) { return json_string(c, "name") != cluster; }),
                       clusters.end());
    if (clusters.empty())
        throw ConfigError(cluster.empty() ? "the Engine " + engine.engine_name() + " has no cluster"
                                          : "the Engine " + engine.engine_name() + " has no cluster named " + cluster);
    if (clusters.size() > 1) {
        std::vector<std::string> names;
        for (const auto& c : clusters) names.push_back(json_string(c, "name"));
        throw ConfigError("the Engine has several clusters (" + join(names, ", ") + "): choose one with --cluster");
    }
    s.cluster_id = json_string(clusters[0], "id");
    s.cluster_name = json_string(clusters[0], "name");
    for (const json& j : engine.list("hosts", "host", "cluster=" + s.cluster_name)) {
        if (j.contains("cluster") && json_string(j["cluster"], "id") != s.cluster_id) continue;
        s.hosts.push_back(parse_host(j));
    }
    for (const auto& h : s.hosts)
        s.vms.push_back(eligible(h.status) ? fetch_vms(engine, h.name) : std::vector<VmInfo>{});
    return s;
}

// The memory the host's migrating VMs need beyond what the other Up hosts can take; 0 if they fit.
std::int64_t shortfall(const HostInfo& host, const std::vector<VmInfo>& migrating, const std::vector<HostInfo>& all,
                       std::int64_t* need_out = nullptr, std::int64_t* room_out = nullptr) {
    std::int64_t need = 0, room = 0;
    for (const auto& v : migrating) need += v.memory;
    for (const auto& o : all)
        if (o.id != host.id && o.status == "up") room += o.max_scheduling_memory;
    if (need_out) *need_out = need;
    if (room_out) *room_out = room;
    return need > room ? need - room : 0;
}

std::string memory_problem(const HostInfo& host, const std::vector<VmInfo>& migrating,
                           const std::vector<HostInfo>& all) {
    std::int64_t need = 0, room = 0;
    std::int64_t shortby = shortfall(host, migrating, all, &need, &room);
    if (!shortby) return {};
    return host.name + ": its VMs need " + format_gib(need) + " but the other Up hosts can take " + format_gib(room) +
           " (short by " + format_gib(shortby) + ")";
}

std::vector<std::string> stuck_list(const std::vector<VmInfo>& vms) {
    std::vector<std::string> out;
    for (const auto& v : vms)
        if (!v.non_migratable_reason().empty()) out.push_back(v.name + " (" + v.non_migratable_reason() + ")");
    return out;
}

class Rollout {
public:
    Rollout(EngineClient& engine, const RolloutOptions& options, RolloutReporter& reporter)
        : engine_(engine), o_(options), r_(reporter) {}

    void run();

private:
    HostInfo host(const std::string& id) { return parse_host(engine_.get("hosts/" + id)); }
    void say(const std::string& line) { r_.message(line); }
    // SIGINT/SIGTERM end a wait at once (the caller journals the host as interrupted).
    void sleep() {
        if (!sleep_unless_interrupted(o_.poll_interval)) throw Interrupted("interrupted");
    }
    // The newest event's id: an update check posted after it is told by later events.
    std::int64_t newest_event();
    UpdateCheck update_check(const std::string& host_id, std::int64_t since);
    UpdateCheck wait_update_check(const HostInfo& h, std::int64_t since);
    // "no update available (...)" or "the Engine's update check failed: ...", for a host that
    // is not upgraded.
    std::string not_available(const UpdateCheck& check) const;
    void check_only(const RolloutPlan& plan);
    void cluster_upgrade(const std::string& action);
    void upgrade_host(Journal& journal, const PlannedHost& planned);
    void follow_upgrade(const std::string& id, const std::string& name);
    void stop_vms(Journal& journal, const std::string& step, const HostInfo& h, const std::vector<VmInfo>& vms);
    void start_vms(const std::string& name, const json& data);
    void wait_vm(const std::string& host_name, const std::string& vm_id, const std::string& vm_name,
                 const std::string& wanted);

    EngineClient& engine_;
    const RolloutOptions& o_;
    RolloutReporter& r_;
    std::string cluster_id_;
    std::string cluster_name_;
};

std::int64_t Rollout::newest_event() {
    std::int64_t newest = 0;
    for (const auto& e : engine_.list("events?max=1", "event")) newest = std::max(newest, json_int(e, "id"));
    return newest;
}

UpdateCheck Rollout::update_check(const std::string& host_id, std::int64_t since) {
    if (host(host_id).update_available) return {UpdateCheck::State::available, {}};
    // The newest event that ends this host's check decides.
    const json* last = nullptr;
    std::int64_t last_id = since;
    std::vector<json> events = engine_.list("events?from=" + std::to_string(since), "event");
    for (const auto& e : events) {
        std::int64_t code = json_int(e, "code"), id = json_int(e, "id");
        if (id <= last_id || (code != kCheckFinished && code != kCheckFailed && code != kCheckSkipped)) continue;
        if (!e.contains("host") || json_string(e["host"], "id") != host_id) continue;
        last = &e;
        last_id = id;
    }
    if (!last) return {};
    if (json_int(*last, "code") != kCheckFinished)
        return {UpdateCheck::State::failed, json_string(*last, "description")};
    // Finished: the host has its answer by now (the Engine stores it before logging the event).
    return {host(host_id).update_available ? UpdateCheck::State::available : UpdateCheck::State::none, {}};
}

UpdateCheck Rollout::wait_update_check(const HostInfo& h, std::int64_t since) {
    auto deadline = Clock::now() + o_.phase_timeout;
    for (;;) {
        UpdateCheck check = update_check(h.id, since);
        if (check.done()) return check;
        if (Clock::now() >= deadline) return check;
        sleep();
    }
}

std::string Rollout::not_available(const UpdateCheck& check) const {
    switch (check.state) {
        case UpdateCheck::State::none:
            return "no update available (the Engine's check found none)";
        case UpdateCheck::State::failed:
            return "the Engine's update check failed: " + check.detail +
                   " (is the bundle staged there? ovirt-applier host BUNDLE)";
        default:
            return "no update available after " + format_duration(o_.phase_timeout);
    }
}

void Rollout::check_only(const RolloutPlan& plan) {
    std::int64_t since = newest_event();
    for (const auto& p : plan.hosts) {
        engine_.post("hosts/" + p.host.id + "/upgradecheck");
        say(p.host.name + ": checking for updates");
    }
    // The checks run on the Engine side in parallel: wait for all of them within one timeout.
    std::map<std::string, UpdateCheck> checks;
    auto deadline = Clock::now() + o_.phase_timeout;
    for (;;) {
        for (const auto& p : plan.hosts)
            if (!checks[p.host.id].done()) checks[p.host.id] = update_check(p.host.id, since);
        bool all = std::all_of(checks.begin(), checks.end(), [](const auto& c) { return c.second.done(); });
        if (all || Clock::now() >= deadline) break;
        sleep();
    }
    say("plan for cluster " + plan.cluster_name + ", one host at a time:");
    int n = 0;
    for (const auto& p : plan.hosts) {
        std::int64_t memory = 0;
        for (const auto& v : p.vms) memory += v.memory;
        std::string line = "  " + std::to_string(++n) + ". " + p.host.name + (p.host.spm ? " (SPM)" : "") + ": ";
        const UpdateCheck& check = checks[p.host.id];
        if (check.state != UpdateCheck::State::available) {
            line += not_available(check) + ", would be skipped";
        } else {
            line += "update available; " + std::to_string(p.vms.size() - p.to_stop.size()) + " VMs to migrate";
            if (!p.vms.empty()) line += " (" + format_gib(memory) + " in all)";
            std::vector<std::string> stop;
            for (const auto& v : p.to_stop) stop.push_back(v.name);
            if (!stop.empty()) line += "; to shut down and start again: " + join(stop, ", ");
        }
        say(line);
    }
    for (const auto& s : plan.skipped) say("  skipped: " + s);
    say("check only: nothing was changed");
}

void Rollout::cluster_upgrade(const std::string& action) {
    engine_.post("clusters/" + cluster_id_ + "/upgrade", json{{"upgrade_action", action}});
    say("cluster upgrade mode: " + action);
}

void Rollout::wait_vm(const std::string& host_name, const std::string& vm_id, const std::string& vm_name,
                      const std::string& wanted) {
    auto deadline = Clock::now() + o_.phase_timeout;
    for (;;) {
        std::string status = json_string(engine_.get("vms/" + vm_id), "status");
        if (status == wanted) return;
        if (Clock::now() >= deadline)
            throw StepFailed(host_name + ": VM " + vm_name + " still " + status + " after " +
                             format_duration(o_.phase_timeout) + " (expected " + wanted + ")");
        sleep();
    }
}

void Rollout::stop_vms(Journal& journal, const std::string& step, const HostInfo& h, const std::vector<VmInfo>& vms) {
    json data = journal.step(step).data;
    json& stopped = data["stopped_vms"];
    if (!stopped.is_array()) stopped = json::array();
    for (const auto& v : vms)
        if (std::find(stopped.begin(), stopped.end(), json{{"id", v.id}, {"name", v.name}}) == stopped.end())
            stopped.push_back(json{{"id", v.id}, {"name", v.name}});
    // Recorded before they stop, so that a re-run after a kill starts them again.
    journal.set_step_data(step, data);
    for (const auto& v : vms) {
        engine_.post("vms/" + v.id + "/shutdown");
        say(h.name + ": shutting down VM " + v.name + " (" + v.non_migratable_reason() + ")");
    }
    for (const auto& v : vms) wait_vm(h.name, v.id, v.name, "down");
}

void Rollout::start_vms(const std::string& name, const json& data) {
    if (!data.contains("stopped_vms")) return;
    for (const json& v : data["stopped_vms"]) {
        std::string status = json_string(engine_.get("vms/" + json_string(v, "id")), "status");
        if (status != "down") continue;
        engine_.post("vms/" + json_string(v, "id") + "/start");
        say(name + ": starting VM " + json_string(v, "name"));
    }
    for (const json& v : data["stopped_vms"]) wait_vm(name, json_string(v, "id"), json_string(v, "name"), "up");
}

void Rollout::follow_upgrade(const std::string& id, const std::string& name) {
    std::string last;
    std::string first = host(id).status;
    bool left_up = false, installed = false, activated = false, changed = first != "install_failed";
    auto since = Clock::now();
    for (;;) {
        HostInfo h = host(id);
        if (h.status != last) {
            say(name + ": " + h.status);
            last = h.status;
            since = Clock::now();
        }
        if (h.status != "up") left_up = true;
        if (h.status == "installing" || h.status == "reboot") installed = true;
        // Right after a retry the host may still show the previous run's install_failed.
        if (h.status != first) changed = true;
        if (h.status == "install_failed" && changed)
            throw StepFailed(name +
                             ": the upgrade failed (install_failed); see the host's events in the Engine, then "
                             "run the same command again to retry it");
        if (h.status == "up" && left_up) return;
        if (h.status == "maintenance" && installed && !activated) {
            // A host upgraded from Maintenance stays there: bring it back.
            engine_.post("hosts/" + id + "/activate");
            say(name + ": activating");
            activated = true;
        }
        if (Clock::now() - since >= o_.phase_timeout) {
            if (h.status == "non_responsive")
                throw StepFailed(name + ": non responsive for " + format_duration(o_.phase_timeout) +
                                 " during the upgrade; check the host, then run the same command again");
            throw StepFailed(name + ": still " + h.status + " after " + format_duration(o_.phase_timeout) +
                             " during the upgrade");
        }
        sleep();
    }
}

void Rollout::upgrade_host(Journal& journal, const PlannedHost& planned) {
    const std::string& name = planned.host.name;
    const std::string& id = planned.host.id;
    const std::string step = kHostPrefix + name;
    journal.begin_step(step);
    json data = journal.step(step).data;
    HostInfo h = host(id);
    bool posted = data.value("upgrade_posted", false);
    if (posted && h.status == "up" && !h.update_available) {
        say(name + ": already upgraded");
    } else {
        bool repost = h.status == "install_failed" || h.status == "maintenance" || h.status == "up" ||
                      h.status == "non_operational";
        if (posted && !repost) {
            // Killed or failed while the Engine was at work (installing, non responsive...): follow on.
            say(name + ": resuming (" + describe_status(h.status) + ")");
            follow_upgrade(id, name);
            start_vms(name, journal.step(step).data);
            say(name + ": done");
            journal.finish_step(step);
            return;
        }
        if (posted) {
            say(name + ": retrying (" + describe_status(h.status) + ")");
        } else {
            if (!eligible(h.status)) {
                say(name + ": " + describe_status(h.status) + ", skipped");
                data["skipped"] = describe_status(h.status);
                journal.set_step_data(step, data);
                journal.finish_step(step);
                return;
            }
            std::int64_t since = newest_event();
            engine_.post("hosts/" + id + "/upgradecheck");
            say(name + ": checking for updates");
            UpdateCheck check = wait_update_check(h, since);
            if (check.state != UpdateCheck::State::available) {
                say(name + ": " + not_available(check) + ", skipped");
                data["skipped"] =
                    check.state == UpdateCheck::State::failed ? "update check failed" : "no update available";
                journal.set_step_data(step, data);
                journal.finish_step(step);
                return;
            }
        }
        if (h.status == "up" || h.status == "non_operational") {
            // The cluster changed since the preflight: check again with what is running now.
            std::vector<VmInfo> vms = fetch_vms(engine_, name);
            std::vector<VmInfo> stuck, migrating;
            for (const auto& v : vms) (v.non_migratable_reason().empty() ? migrating : stuck).push_back(v);
            if (!stuck.empty() && !o_.stop_pinned_vms)
                throw StepFailed(name +
                                 ": VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): " +
                                 join(stuck_list(stuck), ", "));
            std::vector<HostInfo> all;
            for (const json& j : engine_.list("hosts", "host", "cluster=" + cluster_name_))
                all.push_back(parse_host(j));
            std::string problem = memory_problem(h, migrating, all);
            if (!problem.empty()) throw StepFailed("not enough memory: " + problem);
            if (!stuck.empty()) stop_vms(journal, step, h, stuck);
            data = journal.step(step).data;
        }
        data["upgrade_posted"] = true;
        journal.set_step_data(step, data);
        engine_.post("hosts/" + id + "/upgrade", json{{"reboot", "true"}});
        say(name + ": upgrade started");
        follow_upgrade(id, name);
    }
    start_vms(name, journal.step(step).data);
    say(name + ": done");
    journal.finish_step(step);
}

void Rollout::run() {
    std::optional<FileLock> lock;
    if (!o_.check_only) {
        std::error_code ec;
        std::filesystem::create_directories(o_.state_dir, ec);
        if (ec) throw ConfigError("cannot create the state directory " + o_.state_dir.string() + ": " + ec.message());
        lock.emplace(Journal::lock_file(o_.state_dir));
    }
    Snapshot s = snapshot(engine_, o_.cluster);
    cluster_id_ = s.cluster_id;
    cluster_name_ = s.cluster_name;
    const JournalBundle bundle{"cluster:" + s.cluster_id, 0, engine_.api_url() + " cluster " + s.cluster_name};

    // A run that stopped half-way is resumed with its own list of hosts, whatever --host says now.
    std::vector<std::string> steps, pending, resume;
    if (!o_.check_only) {
        auto existing = Journal::load(o_.state_dir);
        if (existing && existing->command() == "hosts" && existing->bundle().id == bundle.id && !existing->complete()) {
            for (const auto& st : existing->steps()) {
                steps.push_back(st.name);
                if (st.name.rfind(kHostPrefix, 0) != 0 || st.status == StepStatus::done) continue;
                std::string name = st.name.substr(kHostPrefix.size());
                pending.push_back(name);
                if (st.status != StepStatus::pending) resume.push_back(name);
            }
            if (!o_.hosts.empty()) r_.message("resuming the unfinished rollout: --host is ignored");
        }
    }
    RolloutPlan plan;
    plan.cluster_id = s.cluster_id;
    plan.cluster_name = s.cluster_name;
    if (steps.empty() || !pending.empty())
        plan = plan_rollout(s.cluster_id, s.cluster_name, s.hosts, s.vms, steps.empty() ? o_.hosts : pending,
                            o_.stop_pinned_vms, resume);
    if (o_.check_only) return check_only(plan);
    if (steps.empty()) {
        if (plan.hosts.empty()) {
            for (const auto& line : plan.skipped) say(line);
            say("no host of cluster " + s.cluster_name + " to upgrade");
            return;
        }
        steps.push_back(kStart);
        for (const auto& p : plan.hosts) steps.push_back(kHostPrefix + p.host.name);
        steps.push_back(kFinish);
    }
    Journal journal = Journal::open(o_.state_dir, "hosts", bundle, steps);
    if (journal.resumed())
        say("resuming the rollout of cluster " + s.cluster_name + " at " +
            journal.steps()[*journal.first_unfinished_step()].name);
    for (const auto& line : plan.skipped) say(line);

    // Upgrade mode again on every run: a failed run finished it on its way out.
    journal.begin_step(kStart);
    try {
        cluster_upgrade("start");
    } catch (const StepFailed& e) {
        if (!journal.resumed()) {
            journal.fail_step(kStart, e.what());
            throw;
        }
        say(std::string("cluster upgrade mode: ") + e.what() + " (continuing)");
    }
    journal.finish_step(kStart);

    std::vector<std::string> upgraded;
    for (const std::string& step : steps) {
        if (step.rfind(kHostPrefix, 0) != 0 || journal.step(step).status == StepStatus::done) continue;
        std::string name = step.substr(kHostPrefix.size());
        auto p = std::find_if(plan.hosts.begin(), plan.hosts.end(),
                              [&](const PlannedHost& ph) { return ph.host.name == name; });
        if (p == plan.hosts.end()) {
            journal.finish_step(step);
            continue;
        }
        try {
            throw_if_interrupted("interrupted before it started");
            upgrade_host(journal, *p);
            if (!journal.step(step).data.contains("skipped")) upgraded.push_back(name);
        } catch (const Error& e) {
            bool stopped = dynamic_cast<const Interrupted*>(&e) != nullptr;
            std::string message = describe(e);
            journal.fail_step(step, message);
            try {
                cluster_upgrade("finish");
            } catch (const std::exception& f) {
                say("cannot finish the cluster's upgrade mode: " + describe(f));
            }
            if (stopped)
                throw Interrupted("interrupted during step " + step + "; run the same command again to resume");
            throw StepFailed(message);
        }
    }
    journal.begin_step(kFinish);
    try {
        cluster_upgrade("finish");
    } catch (const Error& e) {
        journal.fail_step(kFinish, describe(e));
        throw StepFailed(describe(e));
    }
    journal.finish_step(kFinish);
    say("rollout of cluster " + s.cluster_name + " done" +
        (upgraded.empty() ? std::string() : ": upgraded " + join(upgraded, ", ")));
}

}  // namespace

std::string VmInfo::non_migratable_reason() const {
    if (pinned) return "pinned to the host";
    if (!mdev_type.empty()) return "vGPU mdev_type " + mdev_type;
    if (host_devices) return "host devices";
    return {};
}

std::string format_gib(std::int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

RolloutPlan plan_rollout(const std::string& cluster_id, const std::string& cluster_name,
                         const std::vector<HostInfo>& hosts, const std::vector<std::vector<VmInfo>>& vms,
                         const std::vector<std::string>& only, bool stop_pinned_vms,
                         const std::vector<std::string>& resume) {
    RolloutPlan plan;
    plan.cluster_id = cluster_id;
    plan.cluster_name = cluster_name;
    if (hosts.size() < 2)
        throw ConfigError("cluster " + cluster_name + " has " +
                          (hosts.empty() ? std::string("no host") : "only one host (" + hosts[0].name + ")") +
                          ": a rolling upgrade needs another host to take the VMs and the SPM role");
    for (const auto& n : only)
        if (std::none_of(hosts.begin(), hosts.end(), [&](const HostInfo& h) { return h.name == n; }))
            throw ConfigError("no host named " + n + " in cluster " + cluster_name);
    auto in = [](const std::vector<std::string>& list, const std::string& n) {
        return std::find(list.begin(), list.end(), n) != list.end();
    };
    std::vector<std::string> stuck_problems, memory_problems;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const HostInfo& h = hosts[i];
        if (!only.empty() && !in(only, h.name)) continue;
        if (!in(resume, h.name) && !eligible(h.status)) {
            plan.skipped.push_back(h.name + ": " + describe_status(h.status) + ", skipped");
            continue;
        }
        PlannedHost p{h, i < vms.size() ? vms[i] : std::vector<VmInfo>{}, {}};
        std::vector<VmInfo> migrating, stuck;
        for (const auto& v : p.vms) (v.non_migratable_reason().empty() ? migrating : stuck).push_back(v);
        if (!stuck.empty() && !stop_pinned_vms) stuck_problems.push_back(h.name + ": " + join(stuck_list(stuck), ", "));
        if (stop_pinned_vms) p.to_stop = stuck;
        if (eligible(h.status)) {
            std::string problem = memory_problem(h, migrating, hosts);
            if (!problem.empty()) memory_problems.push_back(problem);
        }
        plan.hosts.push_back(std::move(p));
    }
    if (!stuck_problems.empty())
        throw ConfigError("VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): " +
                          join(stuck_problems, "; "));
    if (!memory_problems.empty())
        throw ConfigError("not enough memory on the other hosts: " + join(memory_problems, "; "));
    // The SPM host last: the SPM role moves once, to a host that is already upgraded.
    std::stable_partition(plan.hosts.begin(), plan.hosts.end(), [](const PlannedHost& p) { return !p.host.spm; });
    return plan;
}

void run_host_rollout(EngineClient& engine, const RolloutOptions& options, RolloutReporter& reporter) {
    Rollout(engine, options, reporter).run();
}

namespace {

HostInfo find_host(EngineClient& engine, const std::string& name) {
    for (const json& j : engine.list("hosts", "host", "name=" + name))
        if (json_string(j, "name") == name) return parse_host(j);
    throw StepFailed("the Engine " + engine.engine_name() + " has no host named " + name);
}

// Polls the host until it reaches `wanted`; a status that lasts longer than the timeout fails.
void wait_host(EngineClient& engine, const HostInfo& h, const std::string& wanted, const RolloutOptions& o,
               RolloutReporter& r) {
    std::string last;
    auto since = Clock::now();
    for (;;) {
        HostInfo now = parse_host(engine.get("hosts/" + h.id));
        if (now.status != last) {
            r.message(h.name + ": " + now.status);
            last = now.status;
            since = Clock::now();
        }
        if (now.status == wanted) return;
        if (Clock::now() - since >= o.phase_timeout)
            throw StepFailed(h.name + ": still " + now.status + " after " + format_duration(o.phase_timeout) +
                             " (waiting for " + wanted + ")");
        if (!sleep_unless_interrupted(o.poll_interval))
            throw Interrupted("interrupted while " + h.name + " was " + now.status);
    }
}

}  // namespace

std::string engine_host_name(EngineClient& engine, const std::string& name_or_address) {
    for (const json& j : engine.list("hosts", "host"))
        if (json_string(j, "name") == name_or_address || json_string(j, "address") == name_or_address)
            return json_string(j, "name");
    throw ConfigError("the Engine " + engine.engine_name() + " has no host named or addressed " + name_or_address +
                      " (--host-name)");
}

void deactivate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options,
                     RolloutReporter& reporter) {
    HostInfo h = find_host(engine, name);
    if (h.status == "maintenance") return reporter.message(name + ": already in Maintenance");
    std::vector<VmInfo> stuck;
    for (const auto& v : fetch_vms(engine, name))
        if (!v.non_migratable_reason().empty()) stuck.push_back(v);
    if (!stuck.empty())
        throw StepFailed(name + ": VMs that cannot migrate must be shut down first: " + join(stuck_list(stuck), ", "));
    engine.post("hosts/" + h.id + "/deactivate");
    reporter.message(name + ": moving to Maintenance");
    wait_host(engine, h, "maintenance", options, reporter);
}

void activate_host(EngineClient& engine, const std::string& name, const RolloutOptions& options,
                   RolloutReporter& reporter) {
    HostInfo h = find_host(engine, name);
    if (h.status == "up") return reporter.message(name + ": already Up");
    engine.post("hosts/" + h.id + "/activate");
    reporter.message(name + ": activating");
    wait_host(engine, h, "up", options, reporter);
}

}  // namespace airgap::repo
