#include "repo/apply/bundle_verify.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include "repo/archive/archive.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "repo/state/journal.hpp"
#include "tests/shared/small_bundle.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
using namespace airgap::test;
namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::system_clock;

namespace {

// A stand-in target: some /etc, a repo file, an "rpmdb" file. Listing with contents.
fs::path make_root(const fs::path& dir) {
    write_file(dir / "etc/yum.repos.d/CentOS-Base.repo", "[base]\nname=Base\nmirrorlist=http://x/\n");
    write_file(dir / "etc/os-release", "NAME=\"CentOS Linux\"\n");
    write_file(dir / "var/lib/rpm/Packages", "rpmdb");
    return dir;
}

std::string listing(const fs::path& root) {
    std::string out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        out += fs::relative(e.path(), root).string();
        if (e.is_regular_file()) out += " " + hash_file(e.path()).sha256;
        out += "\n";
    }
    return out;
}

struct Refusal {
    int exit_code;
    std::string err;
};

// Runs `ovirt-applier verify` and `ovirt-applier engine` on the bundle against a stand-in root
// and checks both refuse alike and leave the root as it was.
Refusal refuse(const fs::path& bundle, const fs::path& work, const std::string& trust = "good") {
    fs::path root = make_root(work / "root");
    fs::path state = work / "state";
    std::string before = listing(root);
    CommandResult v = run_command({binary("ovirt-applier").string(), "verify", bundle.string(), "--trust",
                                   test_signer(trust).cert.string(), "--state-dir", state.string()});
    CommandResult e = run_command({binary("ovirt-applier").string(), "engine", bundle.string(), "--trust",
                                   test_signer(trust).cert.string(), "--root", root.string(), "--state-dir",
                                   state.string(), "--package-manager", "false"});
    EXPECT_EQ(v.exit_code, e.exit_code) << e.err;
    EXPECT_EQ(v.err, e.err);
    EXPECT_EQ(listing(root), before);
    EXPECT_FALSE(fs::exists(Journal::journal_file(state)));
    EXPECT_FALSE(fs::exists(Journal::lock_file(state))) << "a refused bundle leaves no trace";
    return {v.exit_code, v.err};
}

}  // namespace

TEST(BundleVerify, AcceptsAGoodDirectoryTarAndIso) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_tar(dir, t.path() / "b.tar");
    write_iso(dir, t.path() / "b.iso", "TEST");
    for (const fs::path& b : {dir, t.path() / "b.tar", t.path() / "b.iso"}) {
        CommandResult r = run_command(
            {binary("ovirt-applier").string(), "verify", b.string(), "--trust", test_signer("good").cert.string()});
        EXPECT_EQ(r.exit_code, 0) << b << r.err;
        EXPECT_NE(r.out.find(") verified\nsigned by CN=test good"), std::string::npos) << r.out;
    }
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    VerifiedBundle v = verify_bundle(t.path() / "b.tar", o);
    EXPECT_EQ(v.kind, BundleKind::tar);
    EXPECT_EQ(v.manifest.files.size(), 3u);
}

// The bundle's name is read as build's -o reads it: "B.ISO" and "B.TAR" are archives too.
TEST(BundleVerify, AnUpperCaseExtensionNamesAnArchive) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_iso(dir, t.path() / "B.ISO", "TEST");
    write_tar(dir, t.path() / "B.TAR");
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    EXPECT_EQ(verify_bundle(t.path() / "B.ISO", o).kind, BundleKind::iso);
    EXPECT_EQ(verify_bundle(t.path() / "B.TAR", o).kind, BundleKind::tar);
    CommandResult r = run_command({binary("ovirt-applier").string(), "verify", (t.path() / "B.ISO").string(), "--trust",
                                   test_signer("good").cert.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    write_file(t.path() / "b.zip", "not a bundle");
    EXPECT_THROW(bundle_kind(t.path() / "b.zip"), ConfigError);
}

TEST(BundleVerify, RefusesATamperedFileInADirectoryAndATar) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_file(dir / "repos/r1/Packages/a-1-1.noarch.rpm", std::string(9999, 'a') + "b");
    Refusal r = refuse(dir, t.path() / "w1");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: checksum mismatch for 'repos/r1/Packages/a-1-1.noarch.rpm'\n");
    write_tar(dir, t.path() / "b.tar");
    r = refuse(t.path() / "b.tar", t.path() / "w2");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: checksum mismatch for 'repos/r1/Packages/a-1-1.noarch.rpm'\n");
}

TEST(BundleVerify, RefusesAWrongSigner) {
    TempDir t;
    fs::path dir = make_small_bundle(
        t.path() / "b", BundleSpec{100, system_clock::now() - hours(1), system_clock::now() + hours(48), "intruder"});
    Refusal r = refuse(dir, t.path() / "w");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("ovirt-applier: error: "), std::string::npos);
    EXPECT_NE(r.err.find("signature"), std::string::npos) << r.err;
}

TEST(BundleVerify, RefusesAnUnsignedBundle) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    fs::remove(dir / "bundle.json.p7s");
    Refusal r = refuse(dir, t.path() / "w1");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: bundle is not signed: bundle.json.p7s not found in " + dir.string() + "\n");
    write_tar(dir, t.path() / "b.tar");
    r = refuse(t.path() / "b.tar", t.path() / "w2");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: bundle is not signed: bundle.json.p7s not found in " +
                         (t.path() / "b.tar").string() + "\n");
}

TEST(BundleVerify, RefusesADotDotEntry) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_file(t.path() / "evil", "x");
    fs::path tar = t.path() / "evil.tar";
    CommandResult py = run_command({"python3", "-c",
                                    "import sys, tarfile\n"
                                    "with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:\n"
                                    "    for n in ('bundle.json', 'bundle.json.p7s', 'keys', 'repos'):\n"
                                    "        t.add(sys.argv[2] + '/' + n, arcname=n)\n"
                                    "    t.add(sys.argv[3], arcname='../evil')\n",
                                    tar.string(), dir.string(), (t.path() / "evil").string()});
    ASSERT_EQ(py.exit_code, 0) << py.err;
    Refusal r = refuse(tar, t.path() / "w");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("ovirt-applier: error: unsafe entry in bundle: '../evil'", 0), 0u) << r.err;
}

TEST(BundleVerify, RefusesASymlinkLeavingTheBundle) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    // Same size and name as the signed file would not help: a link is never followed.
    fs::remove(dir / "repos/r1/Packages/a-1-1.noarch.rpm");
    fs::create_symlink("/etc/passwd", dir / "repos/r1/Packages/a-1-1.noarch.rpm");
    Refusal r = refuse(dir, t.path() / "w1");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "ovirt-applier: error: unsafe entry in bundle: 'repos/r1/Packages/a-1-1.noarch.rpm': symbolic link\n");
    // The same in a tar.
    fs::path tar = t.path() / "link.tar";
    CommandResult made = run_command({"tar", "-C", dir.string(), "-cf", tar.string(), "."});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    r = refuse(tar, t.path() / "w2");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unsafe entry in bundle: "), std::string::npos) << r.err;
}

TEST(BundleVerify, RefusesATruncatedIso) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    fs::path iso = t.path() / "b.iso";
    write_iso(dir, iso, "TEST");
    fs::resize_file(iso, fs::file_size(iso) - 40000);
    Refusal r = refuse(iso, t.path() / "w");
    // The truncation itself is named (libarchive's words after the path), not any refusal.
    EXPECT_EQ(r.exit_code, 2);
    const std::string prefix = "ovirt-applier: error: truncated or corrupt archive: " + iso.string() + ": ";
    ASSERT_EQ(r.err.substr(0, prefix.size()), prefix) << r.err;
    EXPECT_TRUE(std::regex_match(r.err.substr(prefix.size()),
                                 std::regex("Truncated input file \\(needed [0-9]+ bytes, only [0-9]+ available\\)\n")))
        << r.err;
}

TEST(BundleVerify, RefusesAnExpiredBundle) {
    TempDir t;
    auto now = system_clock::now();
    fs::path dir = make_small_bundle(t.path() / "b", BundleSpec{100, now - hours(72), now - hours(24), "good"});
    std::string expires = parse_bundle_manifest(read_file(dir / "bundle.json")).expires;
    Refusal r = refuse(dir, t.path() / "w");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: bundle expired on " + expires + "\n");
}

TEST(BundleVerify, RefusesAnOlderSerialAfterANewerOneWasApplied) {
    TempDir t;
    fs::path dir = make_small_bundle(
        t.path() / "b", BundleSpec{100, system_clock::now() - hours(1), system_clock::now() + hours(48), "good"});
    fs::path work = t.path() / "w";
    fs::create_directories(work / "state");
    write_applied(work / "state",
                  AppliedRecord{"11111111-2222-4333-8444-555555555555", 200, "engine", "2026-11-01T00:00:00Z"});
    Refusal r = refuse(dir, work);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "ovirt-applier: error: bundle serial 100 is not newer than the last applied serial 200 (rollback "
              "refused)\n");
}

TEST(BundleVerify, AnUnreadableTrustIsAUsageError) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    CommandResult r = run_command(
        {binary("ovirt-applier").string(), "verify", dir.string(), "--trust", (t.path() / "missing.pem").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
}

TEST(BundleVerify, StagesATarByExtractingOnlyListedFilesAndUnstages) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_file(dir / "unlisted.txt", "never used");
    write_tar(dir, t.path() / "b.tar");
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    VerifiedBundle v = verify_bundle(t.path() / "b.tar", o);
    // What a killed extraction left: the temporary directory beside the staging.
    fs::path leftover = t.path() / "staged" / ("." + v.manifest.id + ".tmp-Ab12Cd");
    write_file(leftover / "repos/r1/Packages/a-1-1.noarch.rpm", "half");
    StagedBundle s = stage_bundle(v, t.path() / "staged");
    EXPECT_EQ(s.dir, t.path() / "staged" / v.manifest.id);
    EXPECT_FALSE(fs::exists(leftover));
    EXPECT_EQ(read_file(s.dir / "repos/r1/repodata/repomd.xml"), "<repomd/>\n");
    EXPECT_FALSE(fs::exists(s.dir / "unlisted.txt"));
    unstage_bundle(s);
    EXPECT_FALSE(fs::exists(s.dir));
}

// `dir` verified against the "good" signer.
VerifiedBundle verified(const fs::path& dir) {
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    return verify_bundle(dir, o);
}

// A directory medium changed after verify, in the same run: the staged copy is what was signed,
// or nothing is staged at all.
TEST(BundleVerify, ADirectoryIsCopiedWhileHashedNeverUsedInPlace) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_file(dir / "unlisted.txt", "never used");
    VerifiedBundle v = verified(dir);
    StagedBundle s = stage_bundle(v, t.path() / "staged");
    EXPECT_EQ(s.dir, t.path() / "staged" / v.manifest.id);
    EXPECT_EQ(read_file(s.dir / "repos/r1/Packages/a-1-1.noarch.rpm"), std::string(10000, 'a'));
    EXPECT_FALSE(fs::exists(s.dir / "unlisted.txt"));
    EXPECT_EQ(fs::status(t.path() / "staged").permissions(), fs::perms::owner_all) << "private to root";
    // The medium changes now: the staged copy does not.
    write_file(dir / "repos/r1/Packages/a-1-1.noarch.rpm", std::string(10000, 'x'));
    EXPECT_EQ(read_file(s.dir / "repos/r1/Packages/a-1-1.noarch.rpm"), std::string(10000, 'a'));
    unstage_bundle(s);
    // Staging after the change: refused, nothing staged.
    EXPECT_EQ(error_of<BundleRefused>([&] { stage_bundle(v, t.path() / "staged"); }),
              "checksum mismatch for 'repos/r1/Packages/a-1-1.noarch.rpm'");
    EXPECT_TRUE(fs::is_empty(t.path() / "staged"));
}

// A resumed run hashes the staged copy again: a changed file, an added one or a missing one is
// refused before the copy is used.
TEST(BundleVerify, TheStagedCopyIsCheckedAgainAgainstTheSignedManifest) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    VerifiedBundle v = verified(dir);
    StagedBundle s = stage_bundle(v, t.path() / "staged");
    EXPECT_NO_THROW(check_staged(v, s.dir));
    write_file(s.dir / "repos/r1/repodata/extra.xml.gz", "added");
    EXPECT_EQ(
        error_of<BundleRefused>([&] { check_staged(v, s.dir); }),
        "staged copy " + s.dir.string() + " holds 'repos/r1/repodata/extra.xml.gz', which the bundle does not list");
    fs::remove(s.dir / "repos/r1/repodata/extra.xml.gz");
    write_file(s.dir / "keys/RPM-GPG-KEY-test", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nattacker\n");
    EXPECT_THROW(check_staged(v, s.dir), BundleRefused);
    fs::remove(s.dir / "keys/RPM-GPG-KEY-test");
    EXPECT_EQ(error_of<BundleRefused>([&] { check_staged(v, s.dir); }), "missing from bundle: 'keys/RPM-GPG-KEY-test'");
}

// A listed file swapped for a FIFO, a symbolic link to /dev/zero or a file that keeps growing
// after the path check: refused at once, never waited on or read without end.
TEST(BundleVerify, AFifoASymlinkOrAnEndlessFileIsRefusedWithoutHanging) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    VerifiedBundle v = verified(dir);
    const fs::path rpm = dir / "repos/r1/Packages/a-1-1.noarch.rpm";
    const std::string name = "repos/r1/Packages/a-1-1.noarch.rpm";
    auto stage_within_seconds = [&] {
        // Run in a child: a hang must fail the test, not block it.
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20);
            try {
                stage_bundle(v, t.path() / "staged");
            } catch (const BundleRefused& e) {
                std::ofstream(t.path() / "why") << e.what();
                _exit(2);
            } catch (...) {
                _exit(3);
            }
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? read_file(t.path() / "why")
                                 : std::string("killed by signal ") + std::to_string(WTERMSIG(status));
    };
    fs::remove(rpm);
    ASSERT_EQ(mkfifo(rpm.c_str(), 0644), 0);
    EXPECT_EQ(stage_within_seconds(), "bundle file '" + name + "' is not a regular file");
    fs::remove(rpm);
    fs::create_symlink("/dev/zero", rpm);
    EXPECT_EQ(stage_within_seconds(), "unsafe entry in bundle: '" + name + "': symbolic link");
    fs::remove(rpm);
    fs::rename(dir / "repos/r1/Packages", dir / "repos/r1/Packages.real");
    fs::create_directory_symlink("Packages.real", dir / "repos/r1/Packages");
    write_file(dir / "repos/r1/Packages.real/a-1-1.noarch.rpm", std::string(10000, 'a'));
    EXPECT_EQ(stage_within_seconds(), "unsafe entry in bundle: '" + name + "': symbolic link");
    // Longer than listed (a file still being written, or one that never ends): read one byte
    // past its size, no further.
    fs::remove(dir / "repos/r1/Packages");
    fs::rename(dir / "repos/r1/Packages.real", dir / "repos/r1/Packages");
    write_file(rpm, std::string(10000, 'a') + std::string(1 << 20, 'z'));
    EXPECT_EQ(stage_within_seconds(), "size mismatch for '" + name + "': expected 10000, found more");
    EXPECT_TRUE(fs::is_empty(t.path() / "staged"));
}

TEST(BundleVerify, StagingTheMetadataLeavesThePackagesOnTheMedium) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    write_tar(dir, t.path() / "b.tar");
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    VerifiedBundle v = verify_bundle(t.path() / "b.tar", o);
    StagedBundle s = stage_metadata(v, t.path() / "staged");
    EXPECT_EQ(read_file(s.dir / "repos/r1/repodata/repomd.xml"), "<repomd/>\n");
    EXPECT_TRUE(fs::exists(s.dir / "keys/RPM-GPG-KEY-test"));
    EXPECT_FALSE(fs::exists(s.dir / "repos/r1/Packages/a-1-1.noarch.rpm"));
    unstage_bundle(s);
    EXPECT_FALSE(fs::exists(s.dir));
    // A directory's metadata are copied too: a dry run resolves against what was signed.
    StagedBundle copied = stage_metadata(verify_bundle(dir, o), t.path() / "staged");
    EXPECT_EQ(read_file(copied.dir / "repos/r1/repodata/repomd.xml"), "<repomd/>\n");
    EXPECT_FALSE(fs::exists(copied.dir / "repos/r1/Packages/a-1-1.noarch.rpm"));
    EXPECT_NE(copied.dir, fs::absolute(dir).lexically_normal());
}

TEST(BundleVerify, AnIncrementalBundleIsStagedWithWhatItsBaseLendsOrNotAtAll) {
    TempDir t;
    fs::path base = make_small_bundle(t.path() / "a");
    BundleSpec later;
    later.serial = 200;
    fs::path inc = make_small_bundle(t.path() / "b", later, base);
    write_tar(inc, t.path() / "b.tar");
    VerifyOptions o;
    o.trust = test_signer("good").cert;
    o.base = base;
    for (const fs::path& bundle : {inc, t.path() / "b.tar"}) {
        SCOPED_TRACE(bundle);
        VerifiedBundle v = verify_bundle(bundle, o);
        ASSERT_TRUE(v.base);
        StagedBundle s = stage_bundle(v, t.path() / "staged");
        EXPECT_EQ(read_file(s.dir / "repos/r1/Packages/a-1-1.noarch.rpm"), std::string(10000, 'a'));
        EXPECT_EQ(read_file(s.dir / "repos/r1/Packages/b-1-1.noarch.rpm"), std::string(5000, 'b'));
        unstage_bundle(s);
        EXPECT_FALSE(fs::exists(s.dir));
    }

    // Without its base it is verified as far as it goes but not staged.
    VerifyOptions alone = o;
    alone.base.clear();
    VerifiedBundle v = verify_bundle(inc, alone);
    EXPECT_FALSE(v.base);
    EXPECT_THROW(stage_bundle(v, t.path() / "staged"), ConfigError);
    alone.require_complete = true;
    EXPECT_THROW(verify_bundle(inc, alone), ConfigError);
    alone.base = t.path() / "nowhere";
    EXPECT_EQ(error_of<ConfigError>([&] { verify_bundle(inc, alone); }),
              "--base: bundle " + alone.base.string() + " does not exist");

    // The base changed between verify and stage: refused, and nothing half-staged is left.
    v = verify_bundle(inc, o);
    write_file(base / "repos/r1/Packages/a-1-1.noarch.rpm", std::string(9999, 'a') + "x");
    try {
        stage_bundle(v, t.path() / "staged");
        ADD_FAILURE() << "staged a tampered base";
    } catch (const BundleRefused& e) {
        EXPECT_EQ(std::string(e.what()),
                  "base bundle " + base.string() + ": checksum mismatch for 'repos/r1/Packages/a-1-1.noarch.rpm'");
    }
    EXPECT_TRUE(fs::is_empty(t.path() / "staged"));
    EXPECT_THROW(verify_bundle(inc, o), BundleRefused);
}

TEST(BundleVerify, EarlierStagedBundlesAreRemovedAndOthersLeftAlone) {
    TempDir t;
    const std::string old_id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10", new_id = "11111111-2222-4333-8444-555555555555";
    fs::path staged = t.path() / "staged";
    write_file(staged / old_id / "repos/r1/repodata/repomd.xml", "<repomd/>\n");
    write_file(staged / new_id / "repos/r1/repodata/repomd.xml", "<repomd/>\n");
    write_file(staged / ("." + old_id + ".tmp-Ab12Cd") / "half", "x");
    write_file(staged / ("." + new_id + ".tmp-Ef34Gh") / "half", "x");
    write_file(staged / "notes.txt", "the administrator's");
    EXPECT_EQ(unstage_earlier(staged, new_id), std::vector<std::string>{old_id});
    EXPECT_FALSE(fs::exists(staged / old_id));
    EXPECT_FALSE(fs::exists(staged / ("." + old_id + ".tmp-Ab12Cd")));
    EXPECT_TRUE(fs::exists(staged / new_id / "repos/r1/repodata/repomd.xml"));
    EXPECT_TRUE(fs::exists(staged / ("." + new_id + ".tmp-Ef34Gh"))) << "the current bundle's own";
    EXPECT_TRUE(fs::exists(staged / "notes.txt"));
    EXPECT_TRUE(unstage_earlier(t.path() / "nowhere", new_id).empty());
}

TEST(BundleVerify, TheSiteConfigGivesTheTrustAndTheCommandLineWins) {
    TempDir t;
    fs::path dir = make_small_bundle(t.path() / "b");
    fs::path root = t.path() / "root";
    // The config's paths are the target system's: /trust.pem is ROOT/trust.pem.
    fs::create_directories(root);
    fs::copy_file(test_signer("good").cert, root / "trust.pem");
    write_file(root / "etc/ovirt-airgap/applier.conf", "trust = /trust.pem\n");
    auto verify = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv = {binary("ovirt-applier").string(), "verify", dir.string(), "--root",
                                         root.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    };
    CommandResult r = verify({});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(") verified\n"), std::string::npos) << r.out;
    r = verify({"--trust", test_signer("intruder").cert.string()});
    EXPECT_EQ(r.exit_code, 2) << r.out;
}
