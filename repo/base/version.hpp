#pragma once
// The version both programs print for --version: CMake's project version, then the
// `git describe` of the sources when they were built from a git checkout.

namespace airgap {

/// "0.1.0" or "0.1.0 (git 1a2b3c4-dirty)"; defined in a source generated at build time.
const char* version_text();

}  // namespace airgap
