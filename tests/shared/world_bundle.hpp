#pragma once
// The signed bundle of the test world, made directly (no bundler): its four repos as
// ovirt-release43 filters them (EPEL's includepkgs applied), createrepo_c metadata, the world
// key, roles engine and host, serial 1000. For the applier's end-to-end tests.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace airgap::test {

struct WorldBundle {
    TempDir dir;
    std::filesystem::path bundle;  // the bundle directory (bundle.json, bundle.json.p7s, repos/, keys/)
    std::filesystem::path cert;    // the signer's certificate: --trust
    std::filesystem::path key;
};

/// A new bundle (a new id each call). `leave_out`: package names, or "name-version-release",
/// not carried (to make a bundle whose update cannot resolve, or that lacks a rollback copy);
/// `valid_for`: from now until it expires.
std::unique_ptr<WorldBundle> make_world_bundle(const std::vector<std::string>& leave_out = {},
                                               std::chrono::seconds valid_for = std::chrono::hours(24 * 30));

/// Rewrites the bundle.json of `bundle` (a copy of `signer`'s bundle) as an engine-only bundle
/// (a new id, roles: engine, no host target version) and signs it again with `signer`'s key:
/// a bundle with nothing for hosts. Returns its new id.
std::string rewrite_as_engine_only(const std::filesystem::path& bundle, const WorldBundle& signer);

}  // namespace airgap::test
