#pragma once
// An oVirt Node's image update, as `host --update` runs it (appendix C on a Node).
// A Node is image based: `yum update` there installs only ovirt-node-ng-image-update, whose
// %post has imgbased extract the new image into a new base and its first layer; the Node runs
// that layer only after a reboot. What imgbased knows is asked of its own CLI, `imgbase`
// (oVirt/imgbased src/imgbased/plugins/core.py): `imgbase w` (the layer mounted on /),
// `imgbase layout --layers` (every layer) and `imgbase layout --free-space` (free MiB in the
// thin pool that holds the layers).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace airgap::repo {

/// The package whose update is the whole update of a Node.
constexpr const char* kNodeImageUpdate = "ovirt-node-ng-image-update";

/// The layer the Node runs: `imgbase w` ("You are on LAYER"). StepFailed when imgbase cannot
/// run or says something else.
std::string node_running_layer(const std::filesystem::path& root);

/// Every layer imgbased has registered, as `imgbase layout --layers` lists them.
std::vector<std::string> node_layers(const std::filesystem::path& root);

/// Directories holding a local storage domain on the filesystem of / (vdsm's
/// __DIRECT_IO_TEST__ file in it), as paths of the target system, sorted.
std::vector<std::string> local_storage_domains(const std::filesystem::path& root);

/// Before a Node's update changes anything: no local storage domain on /, and room for an
/// image of `image_bytes` (the image-update package's size) in the thin pool and in /var.
/// ConfigError with the numbers (free, needed) or the domains otherwise.
void node_preflight(const std::filesystem::path& root, std::uint64_t image_bytes);

/// The layer of the image `version` (e.g. "4.3.10") that appeared between `before` and
/// `after`. StepFailed when the update registered none.
std::string new_node_layer(const std::vector<std::string>& before, const std::vector<std::string>& after,
                           const std::string& version);

}  // namespace airgap::repo
