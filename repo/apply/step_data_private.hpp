#pragma once
// What each step of the engine and host sequences keeps in its journal entry's `data`
// (docs/journal.md), one type per step. The JSON keys are the journal format on disk: a field
// left out of an older journal reads as its default, and an empty optional field is not
// written, so that journals written before and after read alike.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "repo/apply/yum_repos.hpp"

namespace airgap::repo {

/// verify: the bundle.json a resumed run's medium must still have.
struct VerifyData {
    std::string manifest_sha256;
};
void to_json(nlohmann::json& j, const VerifyData& d);
void from_json(const nlohmann::json& j, VerifyData& d);

/// stage: where the staged copy was made (only reported: the place is always the state dir's).
struct StageData {
    std::string dir;
};
void to_json(nlohmann::json& j, const StageData& d);
void from_json(const nlohmann::json& j, StageData& d);

/// preflight on an oVirt Node: the layers before the update (keys "layer", "layers",
/// "image_update" beside the other preflight keys).
struct NodeBefore {
    std::string layer;                ///< the layer it ran (`imgbase w`)
    std::vector<std::string> layers;  ///< every layer imgbased had (`imgbase layout --layers`)
    bool image_update = true;         ///< the update brings a new image (else persisted packages only)
};

/// preflight: what later steps compare with.
struct PreflightData {
    std::string kernel;              ///< the newest installed kernel before the update; empty: none
    std::size_t packages = 0;        ///< packages the update installs or updates
    std::string host;                ///< the Engine's name of this host (`host --update` with the Engine)
    std::optional<NodeBefore> node;  ///< on an oVirt Node
};
void to_json(nlohmann::json& j, const PreflightData& d);
void from_json(const nlohmann::json& j, PreflightData& d);

/// repos (engine): the other repo files disabled for the run, and whether they are disabled now.
struct ReposData {
    bool active = false;
    std::vector<RepoFileChange> changes;
};
void to_json(nlohmann::json& j, const ReposData& d);
void from_json(const nlohmann::json& j, ReposData& d);

/// engine-upgrade-check: its exit code and whether engine-setup is to run.
struct UpgradeCheckData {
    int exit = 0;
    bool upgrade = false;
    std::vector<std::string> below;  ///< exit 1 with the engine below the bundle's version
};
void to_json(nlohmann::json& j, const UpgradeCheckData& d);
void from_json(const nlohmann::json& j, UpgradeCheckData& d);

/// update-setup and engine-setup when engine-upgrade-check found nothing to upgrade.
struct SkippedData {
    std::string skipped;  ///< why
};
void to_json(nlohmann::json& j, const SkippedData& d);
void from_json(const nlohmann::json& j, SkippedData& d);

/// The program a step started and waits for (engine-setup, the package manager), under the key
/// "child" of that step's data, journaled as soon as it runs: a run killed while it waits leaves
/// the record, and a re-run does not start a second one beside it (interrupted_child.hpp).
struct ChildData {
    std::string program;         ///< as messages name it: "engine-setup", "yum"
    pid_t pid = 0;               ///< 0: no child recorded
    std::uint64_t start_time{};  ///< field 22 of /proc/PID/stat: tells a reused pid apart
    std::string log;             ///< where its output went
};
void to_json(nlohmann::json& j, const ChildData& d);
void from_json(const nlohmann::json& j, ChildData& d);
/// A step's data with `child` recorded under "child", its other keys kept.
nlohmann::json with_child(nlohmann::json data, const ChildData& child);
/// The child recorded in a step's data; pid 0 when none.
ChildData child_of(const nlohmann::json& data);

/// kernel-check: whether a reboot is needed, and the boot it was found in.
struct KernelCheckData {
    std::string installed;  ///< the newest installed kernel
    std::string running;
    bool reboot_needed = false;
    std::string boot_id;  ///< /proc/sys/kernel/random/boot_id when the check ran
};
void to_json(nlohmann::json& j, const KernelCheckData& d);
void from_json(const nlohmann::json& j, KernelCheckData& d);

/// new-layer (a Node): the layer the update registered and the boot it was found in; or, for a
/// bundle of persisted packages alone, the running layer and why there is no new one.
struct NewLayerData {
    std::string layer;
    std::string boot_id;  ///< empty when skipped
    std::string skipped;  ///< non-empty: no image update, no new layer, no reboot
};
void to_json(nlohmann::json& j, const NewLayerData& d);
void from_json(const nlohmann::json& j, NewLayerData& d);

}  // namespace airgap::repo
