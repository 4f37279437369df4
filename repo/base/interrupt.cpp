#include "repo/base/interrupt.hpp"

#include <signal.h>

#include <algorithm>
#include <thread>

#include "repo/base/error.hpp"

namespace airgap::repo {

namespace {

volatile sig_atomic_t g_signal = 0;

extern "C" void record_interrupt(int signo) { g_signal = signo; }

}  // namespace

void catch_interrupts() {
    struct sigaction sa {};
    sa.sa_handler = record_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A lost SSH session: stop as on SIGTERM rather than die between two journal writes.
    sigaction(SIGHUP, &sa, nullptr);
}

int interrupt_signal() noexcept { return g_signal; }

void throw_if_interrupted(const std::string& what) {
    if (interrupted()) throw Interrupted(what);
}

bool sleep_unless_interrupted(std::chrono::milliseconds duration) {
    // Slices short enough that Ctrl-C feels immediate, long enough not to spin.
    const auto slice = std::chrono::milliseconds(50);
    auto deadline = std::chrono::steady_clock::now() + duration;
    for (;;) {
        if (interrupted()) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        std::this_thread::sleep_for(std::min(left, slice));
    }
}

void clear_interrupt() noexcept { g_signal = 0; }

}  // namespace airgap::repo
