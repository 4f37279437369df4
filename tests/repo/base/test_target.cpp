// The system a command acts on: this machine or one under --root, and what each means for paths,
// the state dir, the hostname, the kernel and the package manager's arguments.
#include "repo/base/target.hpp"

#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

std::string kernel_hostname() {
    char buf[HOST_NAME_MAX + 1] = {};
    EXPECT_EQ(::gethostname(buf, sizeof buf - 1), 0);
    return buf;
}

TEST(Target, NoRootAndSlashAreThisMachine) {
    for (const fs::path& root : {fs::path(), fs::path("/")}) {
        Target t(root);
        EXPECT_TRUE(t.is_this_system()) << root;
        EXPECT_EQ(t.root(), "/");
        EXPECT_EQ(t.path("/etc/yum.repos.d"), "/etc/yum.repos.d");
        EXPECT_EQ(t.state_dir(), "/var/lib/ovirt-airgap");
        EXPECT_TRUE(t.package_manager_args().empty());
        EXPECT_TRUE(t.rpm_args().empty());
    }
}

TEST(Target, ARootPutsEveryPathAndTheDefaultStateDirUnderIt) {
    Target t("/srv/engine");
    EXPECT_FALSE(t.is_this_system());
    EXPECT_EQ(t.root(), "/srv/engine");
    EXPECT_EQ(t.path("/etc/yum.repos.d"), "/srv/engine/etc/yum.repos.d");
    EXPECT_EQ(t.path("/run/ovirt-airgap.lock"), "/srv/engine/run/ovirt-airgap.lock");
    EXPECT_EQ(t.state_dir(), "/srv/engine/var/lib/ovirt-airgap");
    EXPECT_EQ(t.package_manager_args(), (std::vector<std::string>{"--installroot", "/srv/engine"}));
    EXPECT_EQ(t.rpm_args(), (std::vector<std::string>{"--root", "/srv/engine"}));
}

TEST(Target, AGivenStateDirIsKeptAsGivenWithOrWithoutRoot) {
    EXPECT_EQ(Target("/srv/engine", "/var/tmp/state").state_dir(), "/var/tmp/state");
    EXPECT_EQ(Target("", "state").state_dir(), "state");
    EXPECT_EQ(Target::default_state_dir(), "/var/lib/ovirt-airgap");
}

TEST(Target, HostnameUnderARootIsTheRootsEtcHostnameTrimmed) {
    TempDir root;
    write_file(root.path() / "etc/hostname", "  host7.example.org \r\nsecond line\n");
    EXPECT_EQ(Target(root.path()).hostname(), "host7.example.org");
}

TEST(Target, HostnameFallsBackToTheKernelsWhenTheRootSaysNothing) {
    TempDir root;
    EXPECT_EQ(Target(root.path()).hostname(), kernel_hostname());  // no etc/hostname at all
    write_file(root.path() / "etc/hostname", "\n");
    EXPECT_EQ(Target(root.path()).hostname(), kernel_hostname());
}

TEST(Target, HostnameOfThisMachineIsTheKernelsNotAFile) {
    EXPECT_EQ(Target().hostname(), kernel_hostname());
    EXPECT_FALSE(Target().hostname().empty());
}

TEST(Target, RunningKernelIsUnameRWithOrWithoutRoot) {
    test::CommandResult r = test::run_command({"uname", "-r"});
    ASSERT_EQ(r.exit_code, 0);
    std::string expected = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(Target().running_kernel(), expected);
    // Under a root the kernel is still the one running here: a root has no running kernel.
    EXPECT_EQ(Target("/srv/engine").running_kernel(), expected);
}

// The kernel a root says it runs is its own /proc's (a chroot with /proc mounted, or a
// stand-in); a root without one cannot tell. This machine's is the running kernel.
TEST(Target, BootedKernelIsTheTargetsOwnOsrelease) {
    TempDir t;
    EXPECT_EQ(Target(t.path()).booted_kernel(), std::nullopt);
    write_file(t.path() / "proc/sys/kernel/osrelease", "3.10.0-1160.el7.x86_64\n");
    EXPECT_EQ(Target(t.path()).booted_kernel(), std::optional<std::string>("3.10.0-1160.el7.x86_64"));
    write_file(t.path() / "proc/sys/kernel/osrelease", "");
    EXPECT_EQ(Target(t.path()).booted_kernel(), std::nullopt) << "an empty file says nothing";
    EXPECT_EQ(Target().booted_kernel().value_or(""), Target().running_kernel());
}

}  // namespace
}  // namespace airgap::repo
