#pragma once
// One line per status a host is seen in ("host1: installing"), as the rollout polls it.
#include <string>

#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/host_rollout.hpp"

namespace airgap::repo {

class StatusWatch {
public:
    StatusWatch(std::string name, Reporter& reporter) : name_(std::move(name)), r_(reporter) {}
    /// Reports `host`'s status when it differs from the last one seen.
    void saw(const EngineHost& host) {
        if (host.status_text == last_) return;
        last_ = host.status_text;
        r_.message(name_ + ": " + last_);
    }

private:
    std::string name_;
    Reporter& r_;
    std::string last_;
};

}  // namespace airgap::repo
