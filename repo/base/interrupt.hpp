#pragma once
// SIGINT/SIGTERM/SIGHUP as a request to stop at the next safe point (exit code 130): the
// executables install a handler that only records the signal; the library checks it between
// steps and in its progress callbacks and polling loops, so journals and temporary files are
// left consistent. A child process started meanwhile gets a terminal's Ctrl-C itself (same
// process group) and its exit is waited for.
#include <chrono>
#include <string>

namespace airgap::repo {

/// Installs the recording handler for SIGINT, SIGTERM and SIGHUP (SA_RESTART: system calls go on).
/// Called by a command before work that checks interrupted(); idempotent.
void catch_interrupts();

/// The signal caught since catch_interrupts(), 0 if none. Async-signal-safe to read.
int interrupt_signal() noexcept;
inline bool interrupted() noexcept { return interrupt_signal() != 0; }

/// Throws airgap::Interrupted(what) when a signal was caught.
void throw_if_interrupted(const std::string& what);

/// Sleeps `duration` in short slices; returns early (false) when a signal is caught.
bool sleep_unless_interrupted(std::chrono::milliseconds duration);

/// Forgets a caught signal (tests that raise one in-process).
void clear_interrupt() noexcept;

}  // namespace airgap::repo
