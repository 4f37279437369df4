#pragma once
// Whether this machine is what a command says it is, asked of its rpm database before a bundle
// is extracted or a journal opened: `engine` on a host (or `host` on the engine) is refused
// with nothing written, so no unfinished run is left to block the right command.
#include <filesystem>
#include <string>

#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// ConfigError "this machine is not an ROLE: none of the bundle's ROLE packages is installed"
/// when the rpmdb under `root` has none of the bundle's target packages for `role`, and
/// "installed NAME-VR is newer than the bundle's VR" when one is newer (the bundle would be a
/// downgrade). A bundle without targets for the role is not checked here. Changes nothing.
void require_role_fits(const std::string& role, const BundleManifest& manifest, const std::filesystem::path& root);

}  // namespace airgap::repo
