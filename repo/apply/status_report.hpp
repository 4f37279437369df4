#pragma once
// What `ovirt-applier status` adds to the journal's summary (the reboot still pending and the
// history of runs), and the machine-readable forms of `status --json` and `verify --json`
// (their schemas are in docs/journal.md).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "repo/apply/bundle_verify.hpp"

namespace airgap::repo {

/// The reboot notice (until the system runs the kernel the newest run installed) and the
/// history, as text lines. `root`: the system (empty: this one), for its running kernel.
std::vector<std::string> status_history_lines(const std::filesystem::path& root,
                                              const std::filesystem::path& state_dir);

/// `status --json`: {"status_version": 1, "run", "last_applied", "reboot_pending", "held_repos",
/// "published", "enrolment", "history"}. Throws like Journal::load and load_history.
nlohmann::json status_json(const std::filesystem::path& root, const std::filesystem::path& state_dir);

/// `verify --json`: {"verify_version": 1, "verified": true, "bundle", "signer", "base"}.
nlohmann::json verify_json(const VerifiedBundle& bundle);

}  // namespace airgap::repo
