#include "repo/hosts/host_rollout.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"
#include "repo/base/text.hpp"
#include "repo/hosts/poll_private.hpp"
#include "repo/hosts/status_watch_private.hpp"
#include "repo/hosts/upgrade_events_private.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

namespace {

using nlohmann::json;

const std::string kStart = "cluster-upgrade-start";
const std::string kFinish = "cluster-upgrade-finish";
const std::string kHostPrefix = "host:";

ClusterSnapshot snapshot(EngineClient& engine, const std::string& cluster) {
    ClusterSnapshot s;
    auto clusters = list_clusters(engine, cluster);
    if (clusters.empty() && cluster.empty())
        throw ConfigError("the Engine " + engine.engine_name() + " has no cluster");
    if (clusters.empty()) {
        // A misspelt --cluster: name the ones there are, so the next try is the right one.
        std::vector<std::string> names;
        for (const auto& c : list_clusters(engine, "")) names.push_back(c.name);
        throw ConfigError(
            "the Engine " + engine.engine_name() + " has no cluster named " + cluster +
            (names.empty() ? std::string(" (it has none)") : " (its clusters: " + join(names, ", ") + ")"));
    }
    if (clusters.size() > 1) {
        std::vector<std::string> names;
        for (const auto& c : clusters) names.push_back(c.name);
        throw ConfigError("the Engine has several clusters (" + join(names, ", ") + "): choose one with --cluster");
    }
    s.cluster = clusters[0];
    s.hosts = list_hosts(engine, s.cluster);
    for (const auto& h : s.hosts)
        s.vms.push_back(eligible(h.status) ? running_vms(engine, h.name) : std::vector<EngineVm>{});
    return s;
}

class Rollout {
public:
    Rollout(EngineClient& engine, const RolloutOptions& options, Reporter& reporter)
        : engine_(engine), o_(options), r_(reporter) {}

    void run();

private:
    void say(const std::string& line) { r_.message(line); }
    template <typename Look>
    auto poll(Look look) {
        return poll_until(o_.phase_timeout, o_.poll_interval, look);
    }
    // Every event after `since`: the judges (repo/upgrade_events) keep the host's own.
    std::vector<EngineEvent> events(std::int64_t since) { return events_after(engine_, since); }

    UpdateCheck wait_update_check(const EngineHost& h, std::int64_t since);
    UpdateCheck run_update_check(const EngineHost& h);
    // "no update available (...)" or "the Engine's update check failed: ...".
    std::string not_available(const UpdateCheck& check) const;
    void check_only(const RolloutPlan& plan);
    void cluster_mode(bool start);
    void upgrade_host(Journal& journal, const PlannedHost& planned);
    // Skips the host (journaled) with `why`.
    void skip(Journal& journal, const std::string& step, const std::string& line, const std::string& why);
    void prepare_vms(Journal& journal, const std::string& step, const EngineHost& h);
    void post_upgrade(Journal& journal, const std::string& step, const EngineHost& h);
    void follow_upgrade(const EngineHost& h, std::int64_t since);
    void activate(const EngineHost& h);
    void stop_vms(Journal& journal, const std::string& step, const EngineHost& h, const std::vector<EngineVm>& vms);
    void migrate_vms(const EngineHost& h, const std::vector<EngineVm>& vms);
    void start_vms(const std::string& name, const json& data);
    // Waits until `done` holds for the VM; StepFailed naming `expected` after the timeout.
    template <typename Done>
    void wait_vm(const std::string& host_name, const std::string& vm_id, const std::string& vm_name,
                 const std::string& expected, Done done);

    EngineClient& engine_;
    const RolloutOptions& o_;
    Reporter& r_;
    EngineVersion version_;
    EngineCluster cluster_;
};

UpdateCheck Rollout::wait_update_check(const EngineHost& h, std::int64_t since) {
    bool told = false;
    UpdateCheck check;
    bool settled = poll([&] {
        check = judge_update_check(events(since), h.id);
        if (check.already_running && !told) {
            say(h.name + ": an update check already runs there: waiting for its answer");
            told = true;
        }
        if (check.state != UpdateCheck::State::found) return check.state != UpdateCheck::State::pending;
        // The Engine logs "found updates" before it stores update_available, and refuses the
        // upgrade until it is stored.
        return get_host(engine_, h.id).update_available;
    });
    if (!settled && check.state == UpdateCheck::State::found) {
        check.state = UpdateCheck::State::failed;
        check.detail =
            "it found updates but update_available was still false after " + format_duration(o_.phase_timeout);
    }
    return check;
}

UpdateCheck Rollout::run_update_check(const EngineHost& h) {
    std::int64_t since = newest_event_index(engine_);
    check_host_updates(engine_, h.id);
    say(h.name + ": checking for updates");
    return wait_update_check(h, since);
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
    std::int64_t since = newest_event_index(engine_);
    for (const auto& p : plan.hosts) {
        check_host_updates(engine_, p.host.id);
        say(p.host.name + ": checking for updates");
    }
    // The checks run on the Engine side in parallel: wait for all of them within one timeout.
    std::map<std::string, UpdateCheck> checks;
    poll([&] {
        std::vector<EngineEvent> all = events(since);
        bool settled = true;
        for (const auto& p : plan.hosts) {
            UpdateCheck& c = checks[p.host.id];
            c = judge_update_check(all, p.host.id);
            if (c.state == UpdateCheck::State::found && !get_host(engine_, p.host.id).update_available)
                c.state = UpdateCheck::State::pending;  // answered, not yet stored
            settled = settled && c.state != UpdateCheck::State::pending;
        }
        return settled;
    });
    say("plan for cluster " + plan.cluster.name + ", one host at a time:");
    int n = 0;
    for (const auto& p : plan.hosts) {
        std::int64_t memory = 0;
        for (const auto& v : p.vms) memory += v.memory;
        std::string line = "  " + std::to_string(++n) + ". " + p.host.name + (p.host.spm ? " (SPM)" : "") +
                           (p.host.node ? " (oVirt Node, rebooted)" : "") + ": ";
        const UpdateCheck& check = checks[p.host.id];
        if (check.state != UpdateCheck::State::found) {
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

void Rollout::cluster_mode(bool start) {
    const std::string action = start ? "start" : "finish";
    // The Engine's REST API has clusters/ID/upgrade from 4.3.3 on. It only tells the
    // scheduler about the upgrade: without it the rollout is the same, so neither its absence
    // nor a failure may stop a rollout.
    if (!version_.at_least(4, 3, 3)) {
        if (start) say("cluster upgrade mode: not in Engine " + version_.text() + " (from 4.3.3 on), going without it");
        return;
    }
    try {
        cluster_upgrade(engine_, cluster_.id, start);
        say("cluster upgrade mode: " + action);
    } catch (const StepFailed& e) {
        say("warning: cluster upgrade mode: cannot " + action + ": " + e.what() + " (continuing)");
    }
}

template <typename Done>
void Rollout::wait_vm(const std::string& host_name, const std::string& vm_id, const std::string& vm_name,
                      const std::string& expected, Done done) {
    EngineVm v;
    if (!poll([&] {
            v = get_vm(engine_, vm_id);
            return done(v);
        }))
        throw StepFailed(host_name + ": VM " + vm_name + " still " + v.status_text + " after " +
                         format_duration(o_.phase_timeout) + " (expected " + expected + ")");
}

void Rollout::stop_vms(Journal& journal, const std::string& step, const EngineHost& h,
                       const std::vector<EngineVm>& vms) {
    json data = journal.step(step).data;
    json& stopped = data["stopped_vms"];
    if (!stopped.is_array()) stopped = json::array();
    for (const auto& v : vms)
        if (std::find(stopped.begin(), stopped.end(), json{{"id", v.id}, {"name", v.name}}) == stopped.end())
            stopped.push_back(json{{"id", v.id}, {"name", v.name}});
    // Recorded before they stop, so that a re-run after a kill starts them again.
    journal.set_step_data(step, data);
    for (const auto& v : vms) {
        shutdown_vm(engine_, v.id);
        say(h.name + ": shutting down VM " + v.name + " (" + v.non_migratable_reason() + ")");
    }
    for (const auto& v : vms)
        wait_vm(h.name, v.id, v.name, "down", [](const EngineVm& now) { return now.status == VmStatus::down; });
}

void Rollout::migrate_vms(const EngineHost& h, const std::vector<EngineVm>& vms) {
    for (const auto& v : vms) {
        migrate_vm(engine_, v.id);
        say(h.name + ": migrating VM " + v.name + " (user_migratable: the upgrade's maintenance would not move it)");
    }
    for (const auto& v : vms)
        wait_vm(h.name, v.id, v.name, "up on another host", [&](const EngineVm& now) {
            return now.status == VmStatus::up && !now.host_id.empty() && now.host_id != h.id;
        });
}

void Rollout::start_vms(const std::string& name, const json& data) {
    if (!data.contains("stopped_vms")) return;
    for (const json& v : data["stopped_vms"]) {
        if (get_vm(engine_, json_string(v, "id")).status != VmStatus::down) continue;
        start_vm(engine_, json_string(v, "id"));
        say(name + ": starting VM " + json_string(v, "name"));
    }
    for (const json& v : data["stopped_vms"])
        wait_vm(name, json_string(v, "id"), json_string(v, "name"), "up",
                [](const EngineVm& now) { return now.status == VmStatus::up; });
}

void Rollout::prepare_vms(Journal& journal, const std::string& step, const EngineHost& h) {
    // The cluster changed since the preflight: check again with what is running now.
    std::vector<EngineVm> stuck, leaving, asked;
    for (const auto& v : running_vms(engine_, h.name)) {
        (v.non_migratable_reason().empty() ? leaving : stuck).push_back(v);
        if (v.affinity == EngineVm::Affinity::user_migratable) asked.push_back(v);
    }
    if (!stuck.empty() && !o_.stop_pinned_vms) {
        std::vector<std::string> names;
        for (const auto& v : stuck) names.push_back(v.name + " (" + v.non_migratable_reason() + ")");
        throw StepFailed(h.name + ": VMs that cannot migrate must be shut down first (or use --stop-pinned-vms): " +
                         join(names, ", "));
    }
    std::string problem = placement_problem(h, leaving, list_hosts(engine_, cluster_));
    if (!problem.empty()) throw StepFailed("not enough memory: " + problem);
    if (!stuck.empty()) stop_vms(journal, step, h, stuck);
    // The upgrade's maintenance is internal: the Engine counts user_migratable VMs as not
    // migratable there and refuses it. Moved first, as the Engine's own cluster upgrade does.
    migrate_vms(h, asked);
}

void Rollout::post_upgrade(Journal& journal, const std::string& step, const EngineHost& h) {
    std::int64_t since = newest_event_index(engine_);
    json data = journal.step(step).data;
    data["upgrade_posted"] = true;
    data["events_from"] = since;
    journal.set_step_data(step, data);
    // The Engine reads `timeout` (minutes, for its upgrade playbook) from 4.3.6.6 on.
    std::optional<int> timeout;
    if (version_.at_least(4, 3, 6, 6))
        timeout = static_cast<int>(std::max<long long>(1, (o_.phase_timeout.count() + 59999) / 60000));
    repo::upgrade_host(engine_, h.id, timeout);
    say(h.name + ": upgrade started" + (h.node ? " (oVirt Node: it reboots into the new image)" : ""));
    follow_upgrade(h, since);
}

void Rollout::activate(const EngineHost& h) {
    activate_host_action(engine_, h.id);
    say(h.name + ": activating");
    StatusWatch watch(h.name, r_);
    EngineHost now;
    if (!poll([&] {
            now = get_host(engine_, h.id);
            watch.saw(now);
            return now.status == HostStatus::up;
        }))
        throw StepFailed(h.name + ": still " + now.status_text + " after " + format_duration(o_.phase_timeout) +
                         " (waiting for up)");
}

void Rollout::follow_upgrade(const EngineHost& h, std::int64_t since) {
    StatusWatch watch(h.name, r_);
    EngineHost now;
    UpgradeProgress progress;
    bool ended = poll([&] {
        now = get_host(engine_, h.id);
        watch.saw(now);
        progress = judge_upgrade(events(since), now);
        return progress.state != UpgradeProgress::State::running;
    });
    if (!ended) {
        std::string where = now.status == HostStatus::non_responsive ? "non responsive" : "still " + now.status_text;
        throw StepFailed(h.name + ": " + where + " after " + format_duration(o_.phase_timeout) +
                         " of its upgrade; check the host, then run the same command again");
    }
    if (progress.state == UpgradeProgress::State::failed)
        throw StepFailed(h.name + ": the upgrade failed: " + progress.detail +
                         " (see the host's events in the Engine, then run the same command again to retry it)");
    // A host upgraded from Maintenance stays there: bring it back.
    if (now.status == HostStatus::maintenance) activate(now);
}

void Rollout::skip(Journal& journal, const std::string& step, const std::string& line, const std::string& why) {
    json data = journal.step(step).data;
    say(line);
    data["skipped"] = why;
    journal.set_step_data(step, data);
    journal.finish_step(step);
}

void Rollout::upgrade_host(Journal& journal, const PlannedHost& planned) {
    const std::string& name = planned.host.name;
    const std::string step = kHostPrefix + name;
    journal.begin_step(step);
    json data = journal.step(step).data;
    EngineHost h = get_host(engine_, planned.host.id);
    const bool posted = data.value("upgrade_posted", false);
    if (posted && h.status == HostStatus::up && !h.update_available) {
        say(name + ": already upgraded");
    } else if (posted && h.status == HostStatus::maintenance) {
        // Left in Maintenance: the Engine refuses an upgrade without update_available, which
        // a finished upgrade cleared. Ask again before anything else.
        say(name + ": resuming (in Maintenance)");
        UpdateCheck check = run_update_check(h);
        if (check.state == UpdateCheck::State::found) {
            post_upgrade(journal, step, get_host(engine_, h.id));
        } else if (check.state == UpdateCheck::State::none) {
            say(name + ": nothing left to update");
            activate(h);
        } else {
            throw StepFailed(name + ": " + not_available(check));
        }
    } else if (posted && h.status == HostStatus::install_failed) {
        // The update check refuses InstallFailed hosts (887); the upgrade takes them through
        // Maintenance again while update_available still holds.
        say(name + ": retrying (status install_failed)");
        if (!h.update_available)
            throw StepFailed(name +
                             ": install_failed and the Engine no longer offers an update: reinstall the "
                             "host from the Engine, then run the same command again");
        post_upgrade(journal, step, h);
    } else if (posted && !eligible(h.status)) {
        // Killed or failed while the Engine was at work (installing, rebooting...): follow on.
        say(name + ": resuming (" + describe_status(h) + ")");
        follow_upgrade(h, data.value("events_from", std::int64_t{0}));
    } else {
        if (!eligible(h.status))
            return skip(journal, step, name + ": " + describe_status(h) + ", skipped", describe_status(h));
        if (posted) say(name + ": retrying (" + describe_status(h) + ")");
        UpdateCheck check = run_update_check(h);
        if (check.state != UpdateCheck::State::found)
            return skip(journal, step, name + ": " + not_available(check) + ", skipped",
                        check.state == UpdateCheck::State::failed ? "update check failed" : "no update available");
        prepare_vms(journal, step, h);
        post_upgrade(journal, step, get_host(engine_, h.id));
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
    ClusterSnapshot s = snapshot(engine_, o_.cluster);
    cluster_ = s.cluster;
    version_ = engine_version(engine_);
    const JournalBundle bundle{"cluster:" + s.cluster.id, 0, engine_.api_url() + " cluster " + s.cluster.name};

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
    plan.cluster = s.cluster;
    if (steps.empty() || !pending.empty())
        plan = plan_rollout(s, steps.empty() ? o_.hosts : pending, o_.stop_pinned_vms, resume);
    if (o_.check_only) return check_only(plan);
    if (steps.empty()) {
        if (plan.hosts.empty()) {
            for (const auto& line : plan.skipped) say(line);
            say("no host of cluster " + s.cluster.name + " to upgrade");
            return;
        }
        steps.push_back(kStart);
        for (const auto& p : plan.hosts) steps.push_back(kHostPrefix + p.host.name);
        steps.push_back(kFinish);
    }
    Journal journal = Journal::open(o_.state_dir, "hosts", bundle, steps);
    if (journal.resumed())
        say("resuming the rollout of cluster " + s.cluster.name + " at " +
            journal.steps()[*journal.first_unfinished_step()].name);
    for (const auto& line : plan.skipped) say(line);

    // Upgrade mode again on every run: a failed run finished it on its way out.
    journal.begin_step(kStart);
    cluster_mode(true);
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
                cluster_mode(false);
            } catch (const std::exception& f) {
                say("warning: cluster upgrade mode: cannot finish: " + describe(f));
            }
            if (stopped)
                throw Interrupted("interrupted during step " + step + "; run the same command again to resume");
            throw StepFailed(message);
        }
    }
    journal.begin_step(kFinish);
    cluster_mode(false);
    journal.finish_step(kFinish);
    say("rollout of cluster " + s.cluster.name + " done" +
        (upgraded.empty() ? std::string() : ": upgraded " + join(upgraded, ", ")));
}

}  // namespace

void run_host_rollout(EngineClient& engine, const RolloutOptions& options, Reporter& reporter) {
    Rollout(engine, options, reporter).run();
}

}  // namespace airgap::repo
