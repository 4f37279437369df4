#pragma once
// The `preflight` step of the engine and host sequences (docs/journal.md): everything that can
// refuse a run is checked before anything on the target changes. Also the facts about the target
// that later steps read again: the newest installed kernel, the role's packages still below the
// bundle's versions, free space.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/apply/engine_sequence.hpp"
#include "repo/solv/resolve.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// What the preflight found.
struct Preflight {
    Resolution resolution;              ///< the update, resolved against the bundle's repos
    std::optional<std::string> kernel;  ///< the newest installed kernel (newest_kernel)
};

/// Role, versions, hosted engine, VMs on a host, free space and the libsolv check of the update
/// from the bundle staged at `staged`. Changes nothing. BundleRefused for a bundle of another
/// role, ConfigError for a machine that does not fit, ResolveProblem when the update does not
/// resolve; each says what is wrong in one line.
Preflight preflight_check(const std::string& role, const BundleManifest& m, const std::filesystem::path& staged,
                          const ApplyOptions& o, const std::filesystem::path& state_dir, Reporter& reporter);

/// The newest installed kernel of the target under `root` as `uname -r` prints it
/// ("3.10.0-1160.el7.x86_64"), if any.
std::optional<std::string> newest_kernel(const std::filesystem::path& root);

/// The role's packages installed below the bundle's target version, as "NAME VR (target VR)";
/// packages not installed are not counted (a host without, say, ovirt-hosted-engine-setup).
std::vector<std::string> below_target(const std::filesystem::path& root,
                                      const std::map<std::string, std::string>& targets);

/// Bytes free for an unprivileged writer on the file system of `path`; UINT64_MAX when that
/// cannot be told (a check must not block on it).
std::uint64_t free_bytes(const std::filesystem::path& path);

/// "N MiB", rounded up.
std::string mib(std::uint64_t bytes);

/// `items` joined with `sep`.
std::string joined(const std::vector<std::string>& items, const std::string& sep = " ");

}  // namespace airgap::repo
