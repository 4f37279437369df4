#pragma once
// Before `hosts` rolls a cluster on an engine that publishes bundles (repo/apply/publish.hpp): every
// host to upgrade must see the published bundle, or the Engine's upgrade would find nothing
// (or fail) there. Asked of the Engine itself, as its "Check for Upgrade" does
// (hostdeploy/HostUpdatesChecker.java runs yum on the host with the host's own repos): event
// 885 "found updates for packages A, B" names what the host's yum sees, "no updates found."
// says it sees nothing newer, 839 that its yum failed.
#include <map>
#include <string>
#include <vector>

#include "repo/hosts/engine_api.hpp"
#include "repo/hosts/host_rollout.hpp"

namespace airgap::repo {

/// What the published `current` bundle brings hosts: its id, serial and host target versions
/// (package name -> "version-release").
struct PublishedForHosts {
    std::string id;
    std::uint64_t serial = 0;
    std::map<std::string, std::string> targets;
};

/// The hosts of `options.cluster` (only `options.hosts` when given) in a status the Engine
/// checks, each with why it does not see the bundle: its check found updates for none of the
/// bundle's packages, found none while the Engine reports its VDSM below the bundle's, or
/// failed (the Engine's words). A host whose VDSM is at the bundle's version already is fine.
/// Empty: every host sees it. Runs the Engine's update check of each host, changes nothing else.
std::vector<std::string> hosts_not_seeing(EngineClient& engine, const RolloutOptions& options,
                                          const PublishedForHosts& bundle, Reporter& reporter);

/// The names of the packages in an 885 description ("... 'found updates for packages vdsm,
/// vdsm-client'."); empty for "no updates found." and anything else.
std::vector<std::string> packages_in_update_message(const std::string& description);

}  // namespace airgap::repo
