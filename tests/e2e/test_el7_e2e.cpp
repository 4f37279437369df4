// The applier on CentOS 7, as far as it can be shown here: the RPM scripts/package-el7.sh makes
// (the ctest fixture "el7_rpm" packages the applier this build made) is unpacked with
// rpm2cpio | cpio into an otherwise empty root, and run there with chroot under a seccomp
// filter that fails every system call Linux 3.10 lacks with ENOSYS (tests/el7/seccomp_el7.c).
// Nothing of this Debian machine is visible to it: it runs on what it carries. The rpmdb it
// reads is Berkeley DB laid out as EL7's rpm 4.11 writes it (tests/el7/make-bdb-rpmdb.sh).
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

fs::path el7_rpm() {
    const fs::path dir = fs::path(AIRGAP_BINARY_DIR) / "el7-dist";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".rpm") return e.path();
    return {};
}

fs::path seccomp_el7() { return fs::path(AIRGAP_BINARY_DIR) / "tests" / "seccomp-el7"; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The inventory without its "#root:" line, which names the root as each run saw it.
std::string without_root_line(const std::string& inventory) {
    std::string out;
    for (const auto& line : lines_of(inventory))
        if (line.rfind("#root:", 0) != 0) out += line + "\n";
    return out;
}

class El7Root : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::geteuid(), 0u) << "the EL7-like root needs root (chroot, mknod), as CI runs the tests";
        ASSERT_TRUE(world_is_built());
        rpm_ = el7_rpm();
        ASSERT_FALSE(rpm_.empty()) << "no RPM in el7-dist: the ctest fixture el7_rpm makes it";
        root_ = tmp_.path() / "el7";
        fs::create_directories(root_ / "tmp");
        fs::create_directories(root_ / "dev");
        fs::create_directories(root_ / "work");
        must({"sh", "-c", "cd \"$1\" && rpm2cpio \"$2\" | cpio -idm --quiet", "sh", root_.string(), rpm_.string()});
        // What every EL7 machine has. /dev/random: glibc's arc4random (expat's hash salt, in
        // libsolv's XML parsing) polls it before reading /dev/urandom when getrandom is missing.
        must({"mknod", "-m", "666", (root_ / "dev/null").string(), "c", "1", "3"});
        must({"mknod", "-m", "444", (root_ / "dev/random").string(), "c", "1", "8"});
        must({"mknod", "-m", "444", (root_ / "dev/urandom").string(), "c", "1", "9"});
        fs::permissions(root_ / "tmp", fs::perms::all | fs::perms::sticky_bit);
    }

    // ovirt-applier ARGS inside the root, as EL7's kernel would run it; paths are the root's.
    CommandResult applier_in_root(std::vector<std::string> args) {
        std::vector<std::string> argv = {seccomp_el7().string(), "chroot", root_.string(), "/usr/bin/ovirt-applier"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }

    // A copy of the world's root `name` at ROOT/work/NAME with its rpmdb turned into EL7's
    // Berkeley DB; its path inside the root.
    std::string el7_world_root(const std::string& name) {
        fs::path copy = copy_world_root(name, root_ / "work");
        must({source_path("tests/el7/make-bdb-rpmdb.sh").string(), copy.string()});
        return "/work/" + name;
    }

    // A signed bundle (ISO) of the world's repos for its 4.3.7 engine, carrying the EL7 RPM,
    // built with ovirt-bundler; its certificate is work/signing-cert.pem.
    std::string world_bundle() {
        const fs::path work = root_ / "work";
        must({binary("ovirt-bundler").string(), "keygen", "--out", (tmp_.path() / "keys").string()});
        fs::copy_file(tmp_.path() / "keys/signing-cert.pem", work / "signing-cert.pem");
        const fs::path inventory = tmp_.path() / "engine.inventory";
        must({binary("ovirt-applier").string(), "inventory", "--role", "engine", "--root",
              (world_dir() / "roots/engine-4.3.7").string(), "-o", inventory.string()});
        must({binary("ovirt-bundler").string(), "build", "-m", (world_dir() / "manifest.yaml").string(), "--inventory",
              inventory.string(), "--sign-key", (tmp_.path() / "keys/signing-key.pem").string(), "--sign-cert",
              (tmp_.path() / "keys/signing-cert.pem").string(), "--with-applier", rpm_.string(), "-o",
              (work / "bundle.iso").string()});
        return "/work/bundle.iso";
    }

    TempDir tmp_;
    fs::path rpm_;
    fs::path root_;
};

TEST(El7Kernel, TheFilterFailsEveryCallNewerThanLinux310) {
    // Without this the other tests would prove nothing about EL7's kernel.
    CommandResult r = run_command({seccomp_el7().string(), "--probe"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "getrandom: ENOSYS\nrenameat2: ENOSYS\nstatx: ENOSYS\n");
}

TEST(El7Package, NeedsNoSharedLibraryFromTheSystem) {
    fs::path rpm = el7_rpm();
    ASSERT_FALSE(rpm.empty());
    CommandResult r = run_command({"rpm", "-qp", "--nosignature", "--requires", rpm.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& line : lines_of(r.out)) {
        EXPECT_EQ(line.find(".so"), std::string::npos) << "requires a shared library: " << line;
        EXPECT_EQ(line.rfind("rpmlib(", 0), 0u) << "requires more than rpm itself: " << line;
    }
    r = run_command({"rpm", "-qp", "--nosignature", "--provides", rpm.string()});
    EXPECT_EQ(r.out.find(".so"), std::string::npos) << "offers its private libraries to the system:\n" << r.out;
}

TEST(El7Package, IsNamedGzippedSha256AndSignedAsRpm411Reads) {
    fs::path rpm = el7_rpm();
    ASSERT_FALSE(rpm.empty());
    CommandResult v = run_binary("ovirt-applier", {"--version"});
    std::string version = v.out.substr(v.out.find(' ') + 1);
    version = version.substr(0, version.find_first_of(" \n"));
    EXPECT_EQ(rpm.filename().string(), "ovirt-airgap-applier-" + version + "-0.test.el7.x86_64.rpm");
    CommandResult r = run_command({"rpm", "-qp", "--nosignature", "--qf", "%{PAYLOADCOMPRESSOR} %{FILEDIGESTALGO}",
                                   rpm.string()});
    EXPECT_EQ(r.out, "gzip 8");  // 8: SHA-256
    // The world's key made the signature: rpm, given only that key, checks it.
    TempDir keyring;
    must({"rpmkeys", "--dbpath", keyring.path().string(), "--import",
          (world_dir() / "keys/RPM-GPG-KEY-airgap-world").string()});
    r = run_command({"rpmkeys", "--dbpath", keyring.path().string(), "-K", rpm.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("signatures OK"), std::string::npos) << r.out;
}

TEST(El7Package, BundlerRefusesAnythingButAnRpmAsTheApplier) {
    ASSERT_TRUE(world_is_built());
    TempDir t;
    must({binary("ovirt-bundler").string(), "keygen", "--out", (t.path() / "keys").string()});
    write_file(t.path() / "not-a-package.rpm", "#!/bin/sh\n");
    for (const auto& [given, says] :
         std::vector<std::pair<std::string, std::string>>{{(t.path() / "missing.rpm").string(), ": no such file"},
                                                          {source_path("README.md").string(), ": not an .rpm file"},
                                                          {(t.path() / "not-a-package.rpm").string(), ": not an RPM package"}}) {
        const fs::path out = t.path() / "bundle.iso";
        CommandResult r = run_binary("ovirt-bundler", {"build", "-m", (world_dir() / "manifest.yaml").string(), "--role",
                                                       "engine", "--sign-key", (t.path() / "keys/signing-key.pem").string(),
                                                       "--sign-cert", (t.path() / "keys/signing-cert.pem").string(),
                                                       "--with-applier", given, "-o", out.string()});
        EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
        EXPECT_EQ(r.err, "ovirt-bundler: error: --with-applier " + given + says + "\n");
        EXPECT_FALSE(fs::exists(out));
    }
}

TEST_F(El7Root, CarriesTheApplierWithItsLoaderAndNoBundlerLibrary) {
    const fs::path bin = root_ / "usr/bin/ovirt-applier";
    ASSERT_TRUE(fs::is_regular_file(bin));
    CommandResult r = run_command({"readelf", "-l", "-d", bin.string()});
    EXPECT_NE(r.out.find("[Requesting program interpreter: /usr/lib64/ovirt-airgap/ld-linux-x86-64.so.2]"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("(RPATH)              Library rpath: [/usr/lib64/ovirt-airgap]"), std::string::npos) << r.out;
    for (const char* lib : {"librpm", "libisofs", "yaml-cpp"})
        EXPECT_EQ(r.out.find(std::string("[") + lib), std::string::npos) << "the applier links " << lib;
    // Stripped, its debug info beside the RPM and named by the binary's debuglink.
    CommandResult sections = run_command({"readelf", "-S", "-W", bin.string()});
    EXPECT_EQ(sections.out.find(".debug_info"), std::string::npos);
    EXPECT_NE(sections.out.find(".gnu_debuglink"), std::string::npos);
    std::string debug_name = "ovirt-applier" + rpm_.stem().string().substr(std::string("ovirt-airgap-applier").size());
    debug_name = debug_name.substr(0, debug_name.size() - std::string(".el7.x86_64").size()) + ".debug";
    CommandResult debug = run_command({"readelf", "-S", "-W", (rpm_.parent_path() / debug_name).string()});
    EXPECT_NE(debug.out.find(".debug_info"), std::string::npos) << debug_name << ": " << debug.err;
    for (const auto& e : fs::directory_iterator(root_ / "usr/lib64/ovirt-airgap")) {
        const std::string name = e.path().filename().string();
        EXPECT_TRUE(name.rfind("libisofs", 0) != 0 && name.rfind("libyaml-cpp", 0) != 0) << "carries " << name;
    }
    EXPECT_TRUE(fs::is_regular_file(root_ / "usr/share/doc/ovirt-airgap-applier/README.md"));
    // The man page an administrator reads on the engine, compressed as EL7 keeps them.
    EXPECT_TRUE(fs::is_regular_file(root_ / "usr/share/man/man8/ovirt-applier.8.gz"));
}

TEST_F(El7Root, PrintsItsVersion) {
    CommandResult r = applier_in_root({"--version"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, run_binary("ovirt-applier", {"--version"}).out);
    EXPECT_EQ(r.out.rfind("ovirt-applier ", 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");
}

TEST_F(El7Root, VerifiesARealBundleAndRefusesATamperedApplier) {
    std::string bundle = world_bundle();
    CommandResult r = applier_in_root({"verify", bundle, "--trust", "/work/signing-cert.pem"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(first_line(r.out).find(" verified"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");

    // The RPM on the medium is checked like every file: one byte changed, the bundle refused.
    const fs::path dir = root_ / "work/bundle-dir";
    fs::create_directories(dir);
    must({"bsdtar", "-xf", (root_ / "work/bundle.iso").string(), "-C", dir.string()});
    fs::path carried = dir / "applier" / rpm_.filename();
    ASSERT_TRUE(fs::is_regular_file(carried));
    EXPECT_EQ(sha256sum(carried), sha256sum(rpm_));
    fs::permissions(carried, fs::perms::owner_write, fs::perm_options::add);
    std::string bytes = read_file(carried);
    bytes[bytes.size() / 2] ^= 0x01;
    write_file(carried, bytes);
    r = applier_in_root({"verify", "/work/bundle-dir", "--trust", "/work/signing-cert.pem"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("applier/" + rpm_.filename().string()), std::string::npos) << r.err;
}

TEST_F(El7Root, EngineDryRunPlansWhatTheNativeBuildPlans) {
    std::string bundle = world_bundle();
    std::string engine = el7_world_root("engine-4.3.7");
    // The hosted-engine check asks the engine's database with the root's psql, a script the
    // empty root has no interpreter for: the operator's confirmation stands in for it, in both runs.
    CommandResult r = applier_in_root({"engine", bundle, "--trust", "/work/signing-cert.pem", "--root", engine,
                                       "--state-dir", "/work/state", "--dry-run", "--he-global-maintenance-confirmed"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
    CommandResult native = run_binary(
        "ovirt-applier", {"engine", (root_ / "work/bundle.iso").string(), "--trust",
                          (root_ / "work/signing-cert.pem").string(), "--root", (world_dir() / "roots/engine-4.3.7").string(),
                          "--state-dir", (tmp_.path() / "native-state").string(), "--dry-run",
                          "--he-global-maintenance-confirmed"});
    ASSERT_EQ(native.exit_code, 0) << native.out << native.err;
    EXPECT_EQ(r.out, native.out);
    EXPECT_NE(r.out.find("package: ovirt-engine-4.3.10.4-1.el7.noarch (update"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(root_ / "work/state/journal.json"));
}

TEST_F(El7Root, TheWholeEngineSequenceNeedsNoCallNewerThanLinux310) {
    // The real update runs the host's package manager, which the empty root lacks: the same
    // applier runs here outside the chroot, under the filter, with the world's dnf as yum.
    std::string bundle = world_bundle();
    fs::path engine = copy_world_root("engine-4.3.7", tmp_.path());
    CommandResult r = run_command({seccomp_el7().string(), binary("ovirt-applier").string(), "engine",
                                   (root_ / "work/bundle.iso").string(), "--trust",
                                   (root_ / "work/signing-cert.pem").string(), "--root", engine.string(), "--state-dir",
                                   (tmp_.path() / "state").string(), "--package-manager",
                                   (world_dir() / "bin/dnf").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("step unstage: done"), std::string::npos) << r.out;
    auto installed = installed_nevras(engine);
    EXPECT_NE(std::find(installed.begin(), installed.end(), "ovirt-engine-4.3.10.4-1.el7.noarch"), installed.end());
}

TEST_F(El7Root, InventoryOfABerkeleyDbRpmdbEqualsTheSqliteOneWithoutWarnings) {
    std::string engine = el7_world_root("engine-4.3.7");
    ASSERT_FALSE(fs::exists(root_ / "work/engine-4.3.7/var/lib/rpm/rpmdb.sqlite"));
    ASSERT_TRUE(fs::exists(root_ / "work/engine-4.3.7/var/lib/rpm/Packages"));
    CommandResult r = applier_in_root({"inventory", "--role", "engine", "--root", engine, "-o", "/work/el7.inventory"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "") << "librpm's noise reached the user";

    const fs::path sqlite_inventory = tmp_.path() / "sqlite.inventory";
    CommandResult native = run_binary("ovirt-applier", {"inventory", "--role", "engine", "--root",
                                                        (world_dir() / "roots/engine-4.3.7").string(), "-o",
                                                        sqlite_inventory.string()});
    ASSERT_EQ(native.exit_code, 0) << native.err;
    std::string el7 = read_file(root_ / "work/el7.inventory");
    EXPECT_EQ(without_root_line(el7), without_root_line(read_file(sqlite_inventory)));
    EXPECT_NE(el7.find("=Pkg: ovirt-engine 4.3.7.2 1.el7 noarch"), std::string::npos) << el7;

    // The native build reads the same Berkeley DB just as quietly.
    native = run_binary("ovirt-applier", {"inventory", "--role", "engine", "--root",
                                          (root_ / "work/engine-4.3.7").string(), "-o",
                                          (tmp_.path() / "native-bdb.inventory").string()});
    ASSERT_EQ(native.exit_code, 0) << native.err;
    EXPECT_EQ(native.err, "");
}

TEST_F(El7Root, ABrokenRpmdbIsStillAnError) {
    // Silencing librpm's expected EL7 warnings must not hide a database that cannot be read.
    std::string engine = el7_world_root("engine-4.3.7");
    write_file(root_ / "work/engine-4.3.7/var/lib/rpm/Packages", std::string(4096, 'x'));
    CommandResult r = applier_in_root({"inventory", "--role", "engine", "--root", engine, "-o", "/work/inv"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("not a berkeley db hash/btree database"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("ovirt-applier: error: cannot read the rpm database in /work/engine-4.3.7/var/lib/rpm"),
              std::string::npos)
        << r.err;
}

}  // namespace
