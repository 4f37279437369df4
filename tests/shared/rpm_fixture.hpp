#pragma once
// Tiny real RPMs for tests, built from a spec at test time with rpmbuild.
#include <filesystem>
#include <string>

namespace airgap::test {

/// What a tiny test package holds: NAME-VERSION-1.noarch, "Summary: test", "License: MIT".
struct TinyRpm {
    std::string name;
    std::string version = "1.0";
    /// Extra spec header lines ("Requires: b >= 1\nProvides: c"), newline-separated.
    std::string preamble;
    /// The %install script, each line ending in '\n' ("" for an empty package).
    std::string install;
    /// The %files list, each line ending in '\n'.
    std::string files;
};

/// Writes `dir`/NAME.spec for `rpm`, builds it with rpmbuild (build tree under `dir`/top,
/// post-install scripts off) and returns the package, `dir`/rpms/noarch/NAME-VERSION-1.noarch.rpm.
/// Throws std::runtime_error with rpmbuild's output when the build fails.
std::filesystem::path build_tiny_rpm(const std::filesystem::path& dir, const TinyRpm& rpm);

}  // namespace airgap::test
