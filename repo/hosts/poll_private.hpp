#pragma once
// The one way the rollout waits for the Engine: look, sleep, look again, within a bound.
#include <chrono>
#include <cstdio>
#include <string>

#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"

namespace airgap::repo {

/// Calls `look` (returning something that converts to bool: std::optional, bool) every
/// `interval` until its answer is true or `timeout` has passed, and returns the last answer.
/// A SIGINT/SIGTERM (repo/base/interrupt.hpp) ends the wait at once with Interrupted.
template <typename Look>
auto poll_until(std::chrono::milliseconds timeout, std::chrono::milliseconds interval, Look look) -> decltype(look()) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto answer = look();
        if (answer || std::chrono::steady_clock::now() >= deadline) return answer;
        if (!sleep_unless_interrupted(interval)) throw Interrupted("interrupted");
    }
}

/// "3 s", "120 min".
inline std::string format_duration(std::chrono::milliseconds d) {
    char buf[32];
    if (d >= std::chrono::minutes(1))
        std::snprintf(buf, sizeof buf, "%g min", static_cast<double>(d.count()) / 60000.0);
    else
        std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace airgap::repo
