#pragma once
// The applier's own package on the medium (`ovirt-bundler build --with-applier RPM`): the
// secured site installs or updates ovirt-applier from the same signed, verified bundle. It is
// carried as applier/NAME.rpm and, like every file, listed with its SHA-256 in bundle.json.
#include <filesystem>
#include <string>

namespace airgap::repo {

/// Where the package goes in a bundle: "applier/" + its file name.
std::string applier_rpm_path(const std::filesystem::path& rpm);

/// Throws ConfigError naming `rpm` unless it is a readable binary RPM file (its lead says so)
/// named *.rpm: checked before anything is downloaded.
void check_applier_rpm(const std::filesystem::path& rpm);

/// Copies `rpm` into the bundle tree `root` at applier_rpm_path(); returns that path.
std::string carry_applier_rpm(const std::filesystem::path& rpm, const std::filesystem::path& root);

}  // namespace airgap::repo
