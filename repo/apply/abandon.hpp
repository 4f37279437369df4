#pragma once
// `ovirt-applier abandon`: drops an unfinished run instead of finishing it. What the run changed
// that can be put back is put back (the upstream repo files it disabled or held, byte for byte;
// its own repo file removed), its staged copy is removed, and the run is recorded in the history
// as abandoned. Packages it installed stay installed: rpm has no undo the applier could trust
// (`yum history undo` is the administrator's). Refused, in one line, while a run is at work, and
// when dropping the run would leave the system worse than finishing it: a package transaction
// cut short (the re-run completes it) or an engine-setup that may still be at work.
#include <filesystem>
#include <functional>
#include <string>

namespace airgap::repo {

/// Abandons the unfinished run in `state_dir` on the system under `root` (empty or "/": this
/// one); `say` gets one line per thing done. With no unfinished run it only puts back repo
/// originals an earlier run left behind, and says there is nothing to abandon. ConfigError
/// (exit 1) for the refusals above.
void abandon_run(const std::filesystem::path& root, const std::filesystem::path& state_dir,
                 const std::function<void(const std::string&)>& say);

}  // namespace airgap::repo
