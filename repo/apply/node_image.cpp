#include "repo/apply/node_image_private.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <system_error>

#include "repo/apply/preflight_private.hpp"
#include "repo/base/error.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/target.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

// What is free rounds down (what is needed rounds up, mib()): a refusal never reads "6 MiB free,
// 6 MiB needed".
std::string mib_free(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

// `imgbase ARGS...` of the target: what it prints on stdout. Its log (stderr, and its own
// /var/log/imgbased.log) is not wanted: only the printed answer is parsed. StepFailed when it
// cannot start or fails.
std::string imgbase(const fs::path& root, const std::vector<std::string>& args) {
    Command command(Target(root).path("/usr/sbin/imgbase").string());
    command.args(args);
    std::string shown = "imgbase";
    for (const auto& a : args) shown += " " + a;
    std::string out;
    int code = 0;
    try {
        code = command.run_captured(out);
    } catch (const ConfigError& e) {
        throw StepFailed(std::string(e.what()) + " (" + shown + ")");
    }
    if (code != 0)
        throw StepFailed(shown + " failed" + (code < 128 ? " with exit code " + std::to_string(code) : std::string()));
    return out;
}

// A layer is its base's NVR plus "+N" (imgbased naming.py): "ovirt-node-ng-4.3.10-0.20200615.0+1".
bool is_layer_name(const std::string& name) {
    auto plus = name.rfind('+');
    return plus != std::string::npos && plus > 0 && plus + 1 < name.size() &&
           name.find_first_not_of("0123456789", plus + 1) == std::string::npos && name.find(' ') == std::string::npos;
}

}  // namespace

std::string node_running_layer(const fs::path& root) {
    // core.py: print("You are on %s" % app.imgbase.current_layer())
    const std::string prefix = "You are on ";
    for (const auto& line : lines(imgbase(root, {"w"})))
        if (line.compare(0, prefix.size(), prefix) == 0 && is_layer_name(line.substr(prefix.size())))
            return line.substr(prefix.size());
    throw StepFailed("imgbase w does not say which layer this Node runs");
}

std::vector<std::string> node_layers(const fs::path& root) {
    std::vector<std::string> layers;
    for (const auto& line : lines(imgbase(root, {"layout", "--layers"})))
        if (is_layer_name(line)) layers.push_back(line);
    std::sort(layers.begin(), layers.end());
    return layers;
}

// The image update's own %pre (ovirt-node-ng.spec.in in oVirt/ovirt-node-ng-image) refuses
// when `find / -xdev -name __DIRECT_IO_TEST__` finds anything: vdsm leaves that file in every
// file-based storage domain it uses, and one on the filesystem of / would be left behind in
// the old layer, with its VMs' disks. Asked here first, so that the refusal comes before
// Maintenance and the package manager.
std::vector<std::string> local_storage_domains(const fs::path& root) {
    fs::path top = root.empty() ? fs::path("/") : root;
    struct stat top_st {};
    if (lstat(top.c_str(), &top_st) != 0) return {};
    std::vector<std::string> found;
    std::error_code ec;
    fs::recursive_directory_iterator it(top, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (lstat(it->path().c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && st.st_dev != top_st.st_dev) {
            it.disable_recursion_pending();  // -xdev: another filesystem (/var, /proc, a mount)
            continue;
        }
        if (it->path().filename() != "__DIRECT_IO_TEST__") continue;
        fs::path dir = it->path().parent_path().lexically_relative(top);
        found.push_back("/" + dir.generic_string());
    }
    std::sort(found.begin(), found.end());
    return found;
}

void node_preflight(const fs::path& root, std::uint64_t image_bytes) {
    auto domains = local_storage_domains(root);
    if (!domains.empty()) {
        std::string list;
        for (const auto& d : domains) list += (list.empty() ? "" : ", ") + d;
        throw ConfigError("local storage domain on the filesystem of / (" + list + "): " + kNodeImageUpdate +
                          " refuses to install over it, and the new layer would leave its VMs behind; move it to "
                          "a logical volume of its own first");
    }
    // The image is written twice into the thin pool: the package puts the squashfs into the
    // running layer, and `imgbase update` extracts it into the new base, at least as large
    // (upstream ships the squashfs uncompressed in the package, so the package's size is the
    // image's). imgbase prints the pool's free space in MiB (plugins/core.py, free_space).
    std::uint64_t need = image_bytes * 2;
    std::string text = imgbase(root, {"layout", "--free-space"});
    auto answer = lines(text);
    char* endp = nullptr;
    double free_mib = answer.empty() ? -1 : std::strtod(answer.back().c_str(), &endp);
    if (answer.empty() || endp == answer.back().c_str() || free_mib < 0)
        throw ConfigError("imgbase layout --free-space does not say how much space the thin pool has");
    auto pool_free = static_cast<std::uint64_t>(free_mib * (1u << 20));
    if (pool_free < need)
        throw ConfigError("not enough free space in the Node's thin pool for the new image: " + mib_free(pool_free) +
                          " free, " + mib(need) + " needed (imgbase layout --free-space)");
    // imgbased keeps /var apart from the layers and syncs the new image's /var into it
    // (plugins/osupdater.py, migrate_var): room for the image's size there too.
    fs::path var = Target(root).path("/var");
    if (free_bytes(var) < image_bytes)
        throw ConfigError("not enough free space in " + var.string() + " for the new image: " +
                          mib_free(free_bytes(var)) + " free, " + mib(image_bytes) + " needed");
}

std::string new_node_layer(const std::vector<std::string>& before, const std::vector<std::string>& after,
                           const std::string& version) {
    // imgbased names a base after the image's NVR, ovirt-node-ng-VERSION-0.DATE.0 (the image's
    // build metadata), and its first layer "+1".
    const std::string prefix = "ovirt-node-ng-" + version + "-";
    for (const auto& layer : after)
        if (layer.compare(0, prefix.size(), prefix) == 0 && !std::count(before.begin(), before.end(), layer))
            return layer;
    std::string listed;
    for (const auto& l : after) listed += (listed.empty() ? "" : ", ") + l;
    throw StepFailed("the update registered no new layer for " + std::string(kNodeImageUpdate) + " " + version +
                     ": imgbase layout --layers lists " + (listed.empty() ? "none" : listed) +
                     " (imgbased logs to /var/log/imgbased.log)");
}

}  // namespace airgap::repo
