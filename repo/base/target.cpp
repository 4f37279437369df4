#include "repo/base/target.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <fstream>

namespace airgap::repo {

namespace fs = std::filesystem;

Target::Target(fs::path root, fs::path state_dir) {
    this_system_ = root.empty() || root == "/";
    root_ = this_system_ ? fs::path("/") : std::move(root);
    state_dir_ = state_dir.empty() ? path(default_state_dir()) : std::move(state_dir);
}

const fs::path& Target::default_state_dir() {
    static const fs::path dir = "/var/lib/ovirt-airgap";
    return dir;
}

fs::path Target::path(const fs::path& inside) const {
    if (this_system_) return inside;
    return root_ / inside.relative_path();
}

std::string Target::hostname() const {
    if (!this_system_) {
        std::ifstream in(path("/etc/hostname"));
        std::string name;
        std::getline(in, name);
        const auto first = name.find_first_not_of(" \t\r");
        if (first != std::string::npos) return name.substr(first, name.find_last_not_of(" \t\r") - first + 1);
    }
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

std::string Target::running_kernel() const {
    struct utsname u {};
    if (::uname(&u) != 0) return {};
    return u.release;
}

std::optional<std::string> Target::booted_kernel() const {
    std::ifstream in(path("/proc/sys/kernel/osrelease"));
    std::string release;
    if (!std::getline(in, release) || release.empty()) return std::nullopt;
    return release;
}

std::vector<std::string> Target::package_manager_args() const {
    if (this_system_) return {};
    return {"--installroot", root_.string()};
}

std::vector<std::string> Target::rpm_args() const {
    if (this_system_) return {};
    return {"--root", root_.string()};
}

}  // namespace airgap::repo
