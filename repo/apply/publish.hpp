#pragma once
// Publishing a verified bundle on the engine for its hosts: the engine's Apache serves
// /var/www/html over HTTPS with the engine's certificate, so a bundle copied read-only to
// ROOT/var/www/html/ovirt-airgap/<id>/ is reachable as https://ENGINE/ovirt-airgap/<id>/.
// Enrolled hosts (repo/apply/enrol.hpp) read `current`, a symbolic link to the newest published
// bundle, replaced in one rename: a host sees the old tree or the new one, never half of one.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "repo/apply/engine_sequence.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace airgap::repo {

/// What `ovirt-applier publish` (and `engine --publish`) was asked to do.
struct PublishOptions {
    std::filesystem::path bundle;
    std::filesystem::path trust;
    std::filesystem::path base;       ///< the base of an incremental bundle (`--base`)
    std::filesystem::path root;       ///< the engine's root; empty: this machine
    std::filesystem::path state_dir;  ///< where the applier's lock is taken
    /// Older published bundles kept besides `current` (newest first); the rest are removed.
    unsigned keep = 1;
};

/// ROOT/var/www/html/ovirt-airgap: the directory the engine's Apache serves as /ovirt-airgap/.
std::filesystem::path publish_dir(const std::filesystem::path& root);

/// One bundle found under publish_dir().
struct PublishedBundle {
    std::string id;
    std::uint64_t serial = 0;
    std::string expires;
    bool current = false;
};

/// The published bundles, highest serial first (a directory whose bundle.json cannot be read
/// is listed with serial 0).
std::vector<PublishedBundle> list_published(const std::filesystem::path& root);

/// The bundle.json `current` points at, parsed (not verified again: for reports); nullopt when
/// nothing is published or it cannot be read.
std::optional<BundleManifest> current_manifest(const std::filesystem::path& root);

/// The id `current` points at; empty when there is none.
std::string current_published(const std::filesystem::path& root);

/// BundleRefused "bundle ID has nothing for hosts (roles: engine only): nothing to publish",
/// followed by `advice` when given, for a bundle that names neither role host nor role node.
void require_something_to_publish(const BundleManifest& manifest, const std::string& advice = {});

/// Verifies BUNDLE in full (signature, manifest, expiry, every file), copies it hashed while
/// written into publish_dir()/.staging, makes it read-only (files 0444, directories 0555 under
/// a 0755 top), puts it in place with one rename, switches `current` to it with another, and
/// removes older bundles beyond `keep`. Never removes the bundle `current` points at, nor the
/// one the hosts were last rolled out to (rolled_out_file()) or anything newer. Refuses
/// (BundleRefused) what does not verify and a bundle whose serial is below the current one's
/// (a rollback of every enrolled host); publishing the current bundle again replaces it in
/// one step. Returns the published directory.
std::filesystem::path publish_bundle(const PublishOptions& options, Reporter& reporter);

/// STATE/rolled-out.json: the published bundle the last finished `hosts` rollout brought the
/// hosts to. Until a newer one is rolled out, that bundle is what the hosts run, and
/// publish_bundle() never removes it (nor anything newer).
std::filesystem::path rolled_out_file(const std::filesystem::path& state_dir);

/// Records `id` (serial `serial`) in rolled_out_file(), atomically.
void record_rolled_out(const std::filesystem::path& state_dir, const std::string& id, std::uint64_t serial);

/// For `status`: "published: ID (serial N, expires E)" per bundle, "(current)" marked, or
/// nothing when nothing is published.
std::vector<std::string> describe_published(const std::filesystem::path& root);

/// The same for `status --json` (docs/journal.md): {"dir", "current": ID or null, "bundles":
/// [{"id", "serial", "expires", "current"}]} in the order of list_published(), or null when
/// nothing is published.
nlohmann::json published_json(const std::filesystem::path& root);

}  // namespace airgap::repo
