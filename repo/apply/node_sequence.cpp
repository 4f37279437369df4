// The steps only `host --update` on an oVirt Node has (repo/apply/node_image_private.hpp): the update must
// leave the image's new layer behind, and the Node runs it only after a reboot, which it always
// needs. What imgbased knows is asked of `imgbase`.
#include <algorithm>

#include "repo/apply/node_image_private.hpp"
#include "repo/apply/sequence_private.hpp"
#include "repo/base/error.hpp"

namespace airgap::repo {

// The layers before the update, and whether the update brings a new image at all.
NodeBefore Sequence::node_before(const Preflight& p) const {
    NodeBefore n;
    n.layer = node_running_layer(o_.root);
    n.layers = node_layers(o_.root);
    n.image_update = std::any_of(p.resolution.packages.begin(), p.resolution.packages.end(),
                                 [](const ResolvedPackage& r) { return r.name == kNodeImageUpdate; });
    return n;
}

StepEnd Sequence::new_layer() {
    const NodeBefore before = node_.value_or(NodeBefore{});
    if (!before.image_update) {
        // Only persisted packages moved (the Node has the bundle's image already): they are in
        // the running layer, and imgbased makes no new one.
        layer_ = NewLayerData{before.layer, "", "no image update"};
        layer_reboot_needed_ = false;
        set_data(StepName::new_layer, layer_);
        r_.message("no image update for this Node in the bundle: no new layer, no reboot");
        return StepEnd::done;
    }
    std::string version = role_targets()[kNodeImageUpdate];
    version = version.substr(0, version.rfind('-'));
    layer_ = NewLayerData{new_node_layer(before.layers, node_layers(o_.root), version), boot_id(), ""};
    layer_reboot_needed_ = checked_this_run_ = true;
    set_data(StepName::new_layer, layer_);
    r_.message("imgbased registered the new layer " + layer_.layer);
    r_.message("reboot needed: the Node boots into " + layer_.layer + ", running " + before.layer);
    return StepEnd::done;
}

void Sequence::reload_new_layer() {
    layer_ = data<NewLayerData>(StepName::new_layer);
    layer_reboot_needed_ = layer_.skipped.empty();
}

// A re-run on this machine knows the reboot by its boot id; under --root the old layer still
// running means no reboot yet.
bool Sequence::stop_for_new_layer() {
    std::string running;
    try {
        running = node_running_layer(o_.root);
    } catch (const StepFailed&) {
        return false;  // the running-layer step says so, journaled
    }
    const bool this_system = target_.is_this_system();
    const bool same_boot = checked_this_run_ || (this_system && !layer_.boot_id.empty() && boot_id() == layer_.boot_id);
    const bool old_layer_runs = !this_system && node_ && running == node_->layer;
    if (running == layer_.layer || !(same_boot || old_layer_runs)) {
        layer_reboot_needed_ = false;  // rebooted: the end of this run must not reboot again
        return false;
    }
    r_.message((o_.maintenance ? host_name_ + " stays in Maintenance: reboot" : std::string("reboot")) +
               (checked_this_run_ ? "" : " first") + " into " + layer_.layer + ", then run the same command again to " +
               (o_.maintenance ? "activate it" : "finish"));
    if (checked_this_run_) maybe_reboot();
    return true;
}

StepEnd Sequence::running_layer() {
    const std::string running = node_running_layer(o_.root);
    if (running != layer_.layer)
        throw StepFailed("this Node runs " + running + " after its reboot, not the new layer " + layer_.layer +
                         ": boot it (imgbase layout lists it), then run the same command again");
    r_.message("this Node runs the new layer " + layer_.layer);
    return StepEnd::done;
}

}  // namespace airgap::repo
