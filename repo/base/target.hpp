#pragma once
// The system a command acts on: this machine, or one installed under a directory (`--root`).
// What that choice means (where its files are, its state dir, its name, its kernel, what the
// package manager and rpm are told) is decided here once; everything else asks a Target.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace airgap::repo {

class Target {
public:
    /// `root` empty or "/": this machine. `state_dir` empty: /var/lib/ovirt-airgap inside the root.
    explicit Target(std::filesystem::path root = {}, std::filesystem::path state_dir = {});

    /// "/var/lib/ovirt-airgap", the state dir of this machine when none is given.
    static const std::filesystem::path& default_state_dir();

    /// No --root, or --root /: the machine this process runs on.
    bool is_this_system() const noexcept { return this_system_; }
    /// The directory the target is installed under: "/" for this machine, else --root as given.
    const std::filesystem::path& root() const noexcept { return root_; }
    /// `inside`, a path as the target itself names it ("/etc/yum.repos.d"), as this process
    /// reaches it: below the root, or unchanged for this machine.
    std::filesystem::path path(const std::filesystem::path& inside) const;
    /// The applier's state dir: as given, else the default inside the root.
    const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

    /// The target's name: under a root the first line of its etc/hostname; for this machine, or
    /// when that file says nothing, the kernel's hostname. Empty when neither tells.
    std::string hostname() const;
    /// The kernel running now, as `uname -r` prints it ("3.10.0-1160.el7.x86_64"). Under a root
    /// that is the kernel of the machine holding the root, not one of the root's. Empty when
    /// uname fails.
    std::string running_kernel() const;
    /// The kernel the target itself says it runs, from its /proc/sys/kernel/osrelease: for this
    /// machine the running kernel; under a root the root's own file (a chroot with /proc
    /// mounted, or a stand-in), else nullopt: another system's running kernel cannot be seen.
    std::optional<std::string> booted_kernel() const;

    /// What yum and dnf are told to act on the target: `--installroot ROOT` under a root,
    /// nothing for this machine.
    std::vector<std::string> package_manager_args() const;
    /// What rpm is told: `--root ROOT` under a root, nothing for this machine.
    std::vector<std::string> rpm_args() const;

private:
    std::filesystem::path root_;
    std::filesystem::path state_dir_;
    bool this_system_ = true;
};

}  // namespace airgap::repo
