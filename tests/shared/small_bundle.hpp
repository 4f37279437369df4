#pragma once
// A small signed bundle made directly (no bundler, no world): one repo "r1" with one package
// a-1-1.noarch, a repomd.xml and a gpg key, bundle.json signed by a test signer. For the unit
// tests of what reads bundles (verify, stage, publish); the world's real bundle is
// tests/shared/world_bundle.hpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/sign/signing.hpp"

namespace airgap::test {

/// The key pair of the test signer `name` (certificate CN "test NAME", valid 30 days), made once
/// per test binary: key generation is the slow part. Two names are two unrelated signers.
const repo::KeyPairFiles& test_signer(const std::string& name);

struct BundleSpec {
    std::uint64_t serial = 100;
    std::chrono::system_clock::time_point created = std::chrono::system_clock::now() - std::chrono::hours(1);
    std::chrono::system_clock::time_point expires = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
    std::string signer = "good";                    // test_signer(signer) signs bundle.json
    std::vector<std::string> roles = {"engine"};    // each with target version a 1-1
    std::string package = std::string(10000, 'a');  // the bytes of repos/r1/Packages/a-1-1.noarch.rpm
};

/// Writes the bundle described by `spec` into `dir` and returns `dir`. With a `base` (a bundle
/// made by this function), an incremental bundle instead: it carries b-1-1 (5000 'b' bytes)
/// and takes a-1-1 from the base.
std::filesystem::path make_small_bundle(const std::filesystem::path& dir, const BundleSpec& spec = {},
                                        const std::filesystem::path& base = {});

}  // namespace airgap::test
