#include "repo/archive/archive.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <string>

#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
namespace fs = std::filesystem;
using test::write_file;
using test::write_random_file;

namespace {

const std::string kLongName = "ovirt-engine-extension-aaa-ldap-setup-with-a-deliberately-long-name-for-joliet-and-rr-" +
                              std::string(60, 'x') + "-1.3.10-1.el7.noarch.rpm";
const std::string kDeepDir =
    "deep/level-01-abcdefghijklmnopqrst/level-02-abcdefghijklmnopqrst/"
    "level-03-abcdefghijklmnopqrst/level-04-abcdefghijklmnopqrst/"
    "level-05-abcdefghijklmnopqrst/level-06-abcdefghijklmnopqrst/"
    "level-07-abcdefghijklmnopqrst/level-08-abcdefghijklmnopqrst/"
    "level-09-abcdefghijklmnopqrst/level-10-abcdefghijklmnopqrst";

// A bundle-like tree: long names, directories deeper than ISO 9660's 8 levels and paths longer
// than 255 characters, empty and identical files, and one large file of `big` bytes.
void make_tree(const fs::path& root, std::size_t big) {
    write_file(root / "bundle.json", "{\"format\": \"ovirt-airgap-bundle/1\"}\n");
    write_file(root / "bundle.json.p7s", std::string("\x30\x82\x01\x00signature", 13));
    write_random_file(root / "repos/ovirt-4.3/Packages" / kLongName, 100000, 1);
    write_file(root / "repos/ovirt-4.3/repodata/repomd.xml", "<repomd/>\n");
    write_file(root / kDeepDir / "deep.txt", "deep\n");
    write_file(root / "x/empty1", "");
    write_file(root / "x/empty2", "");
    write_file(root / "x/same1", "same\n");
    write_file(root / "x/same2", "same\n");
    write_file(root / "x/Mixed Case (1).txt", "mixed\n");
    write_random_file(root / "repos/big/Packages/big-1.0-1.el7.x86_64.rpm", big, 2);
}

// path -> "dir" or "size sha256": what a byte-for-byte comparison of two trees needs.
std::map<std::string, std::string> tree_content(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const ArchiveEntry& e : scan_tree(root)) {
        if (e.type == ArchiveEntry::Type::directory) {
            out[e.path] = "dir";
        } else {
            FileDigest d = hash_file(root / e.path);
            out[e.path] = std::to_string(d.size) + " " + d.sha256;
        }
    }
    return out;
}

ExpectedFiles expected_of(const fs::path& root) {
    ExpectedFiles expected;
    for (const ArchiveEntry& e : scan_tree(root))
        if (e.type == ArchiveEntry::Type::file) expected[e.path] = hash_file(root / e.path);
    return expected;
}

std::vector<std::string> dir_names(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// Expects extract_verified() to refuse with a message starting with `message`, leaving no
// destination and nothing else (no staging directory) beside it.
void expect_refused(const fs::path& archive, const ExpectedFiles& expected, const std::string& message) {
    test::TempDir out;
    fs::path dest = out.path() / "staged";
    try {
        extract_verified(archive, dest, expected);
        ADD_FAILURE() << "not refused: " << archive;
    } catch (const BundleRefused& e) {
        EXPECT_EQ(std::string(e.what()).substr(0, message.size()), message) << e.what();
        EXPECT_EQ(exit_code_of(e), 2);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_TRUE(dir_names(out.path()).empty());
}

// Crafts a tar the way an attacker would, with Python's tarfile module: bundle.json, then one
// entry of `kind`, then a listed package.
const char* kCraftTar = R"(
import io, sys, tarfile
kind, out = sys.argv[1], sys.argv[2]
t = tarfile.open(out, 'w', format=tarfile.PAX_FORMAT)
def add(name, data=b'', type=tarfile.REGTYPE, link='', major=0, minor=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.devmajor, ti.devminor = type, link, major, minor
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
add('bundle.json', b'{}')
if kind == 'dotdot': add('../evil', b'evil')
if kind == 'inner-dotdot': add('repos/../../evil', b'evil')
if kind == 'absolute': add('/etc/evil', b'evil')
if kind == 'symlink': add('repos/etc', type=tarfile.SYMTYPE, link='/etc')
if kind == 'hardlink': add('repos/passwd', type=tarfile.LNKTYPE, link='/etc/passwd')
if kind == 'device': add('repos/null', type=tarfile.CHRTYPE, major=1, minor=3)
if kind == 'fifo': add('repos/fifo', type=tarfile.FIFOTYPE)
if kind == 'duplicate': add('bundle.json', b'{"evil": 1}')
add('repos/a.rpm', b'rpm')
t.close()
)";

fs::path craft_tar(const fs::path& dir, const std::string& kind) {
    fs::path out = dir / (kind + ".tar");
    auto r = test::run_command({"python3", "-c", kCraftTar, kind, out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
}

const ExpectedFiles kCraftedExpected = {{"bundle.json", {2, sha256_hex("{}")}},
                                        {"repos/a.rpm", {3, sha256_hex("rpm")}}};

class AbortAfter : public Reporter {
public:
    explicit AbortAfter(std::uint64_t limit) : limit_(limit) {}
    void progress(const Progress& p) override { done_ = p.done; }
    bool cancelled() override { return done_ >= limit_; }

private:
    std::uint64_t limit_;
    std::uint64_t done_ = 0;
};

}  // namespace

TEST(ArchiveNames, FormatFollowsTheExtension) {
    EXPECT_EQ(archive_format_for("out/b.iso"), ArchiveFormat::iso);
    EXPECT_EQ(archive_format_for("b.ISO"), ArchiveFormat::iso);
    EXPECT_EQ(archive_format_for("b.tar"), ArchiveFormat::tar);
    EXPECT_THROW(archive_format_for("b.zip"), ConfigError);
    EXPECT_THROW(archive_format_for("b"), ConfigError);
    test::TempDir dir;
    EXPECT_THROW(pack(dir.path(), dir.path() / "b.tar.gz", "X"), ConfigError);
}

TEST(ArchiveNames, VolumeLabelIsSanitised) {
    EXPECT_EQ(iso_volume_label("ovirt-4.3-el7 4.3.10"), "OVIRT_4_3_EL7_4_3_10");
    EXPECT_EQ(iso_volume_label(std::string(40, 'a')), std::string(32, 'A'));
    EXPECT_EQ(iso_volume_label(""), "OVIRT_AIRGAP");
    EXPECT_EQ(iso_volume_label("\xc3\xa9"), "OVIRT_AIRGAP");
}

TEST(ArchiveWrite, TreeWithASymlinkIsNotPacked) {
    test::TempDir dir;
    write_file(dir.path() / "tree/a", "a");
    fs::create_symlink("/etc", dir.path() / "tree/etc");
    EXPECT_THROW(write_tar(dir.path() / "tree", dir.path() / "out.tar"), ConfigError);
    EXPECT_THROW(write_iso(dir.path() / "tree", dir.path() / "out.iso", "X"), ConfigError);
    EXPECT_FALSE(fs::exists(dir.path() / "out.tar"));
    EXPECT_FALSE(fs::exists(dir.path() / "out.iso"));
}

TEST(ArchiveWrite, IsoIsReadByXorrisoAndBsdtarByteForByte) {
    test::TempDir dir;
    fs::path tree = dir.path() / "tree", iso = dir.path() / "bundle.iso";
    make_tree(tree, 50u << 20);
    write_iso(tree, iso, "ovirt-4.3-el7 4.3.10");
    auto source = tree_content(tree);

    auto find = test::run_command({"xorriso", "-indev", iso.string(), "-find", "/", "-type", "f"});
    ASSERT_EQ(find.exit_code, 0) << find.err;
    EXPECT_NE(find.out.find("'/repos/ovirt-4.3/Packages/" + kLongName + "'"), std::string::npos) << find.out;
    EXPECT_NE(find.out.find("'/" + kDeepDir + "/deep.txt'"), std::string::npos) << find.out;

    fs::path by_xorriso = dir.path() / "xorriso";
    auto x =
        test::run_command({"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/", by_xorriso.string()});
    ASSERT_EQ(x.exit_code, 0) << x.err;
    EXPECT_EQ(tree_content(by_xorriso), source);

    fs::path by_bsdtar = dir.path() / "bsdtar";
    fs::create_directories(by_bsdtar);
    auto b = test::run_command({"bsdtar", "-xf", iso.string(), "-C", by_bsdtar.string()});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(tree_content(by_bsdtar), source);
}

TEST(ArchiveWrite, IsoHasVolumeIdRockRidgeAndJoliet) {
    test::TempDir dir;
    fs::path tree = dir.path() / "tree", iso = dir.path() / "bundle.iso";
    make_tree(tree, 1000);
    write_iso(tree, iso, "ovirt-4.3-el7 4.3.10");

    auto pvd = test::run_command({"xorriso", "-indev", iso.string(), "-pvd_info"});
    ASSERT_EQ(pvd.exit_code, 0) << pvd.err;
    EXPECT_NE(pvd.out.find("Volume Id    : OVIRT_4_3_EL7_4_3_10"), std::string::npos) << pvd.out;
    auto toc = test::run_command({"xorriso", "-indev", iso.string(), "-toc"});
    ASSERT_EQ(toc.exit_code, 0) << toc.err;
    EXPECT_NE(toc.out.find("ISO offers   : Rock_Ridge Joliet\n"), std::string::npos) << toc.out;
    EXPECT_NE(toc.out.find("ISO loaded   : Rock_Ridge\n"), std::string::npos) << toc.out;

    // Joliet: a supplementary volume descriptor with a UCS-2 escape sequence ("%/@", "%/C" or
    // "%/E"), and bsdtar reading mixed-case names from it with Rock Ridge switched off.
    std::ifstream in(iso, std::ios::binary);
    bool joliet = false;
    for (int sector = 16; sector < 32 && !joliet; ++sector) {
        std::string vd(2048, '\0');
        in.seekg(sector * 2048);
        in.read(vd.data(), 2048);
        if (static_cast<unsigned char>(vd[0]) == 255) break;
        joliet = vd[0] == 2 && vd.substr(1, 5) == "CD001" && vd.substr(88, 2) == "%/";
    }
    EXPECT_TRUE(joliet);
    // Rock Ridge carries root ownership and modes 0755/0644, whoever built the tree.
    auto v = test::run_command({"bsdtar", "-tvf", iso.string()});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_TRUE(
        std::regex_search(v.out, std::regex("\\n-rw-r--r-- +1 0 +0 +10 .* ./repos/ovirt-4.3/repodata/repomd.xml\\n")))
        << v.out;
    EXPECT_TRUE(std::regex_search(v.out, std::regex("\\ndrwxr-xr-x +[0-9]+ 0 +0 .* ./x\\n"))) << v.out;

    auto j = test::run_command({"bsdtar", "--options", "!rockridge", "-tf", iso.string()});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    EXPECT_NE(j.out.find("x/Mixed Case (1).txt"), std::string::npos) << j.out;
}

TEST(ArchiveWrite, TarIsReadByBsdtarAndGnuTar) {
    test::TempDir dir;
    fs::path tree = dir.path() / "tree", tar = dir.path() / "bundle.tar";
    make_tree(tree, 3u << 20);
    write_tar(tree, tar);

    auto v = test::run_command({"bsdtar", "-tvf", tar.string()});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_TRUE(std::regex_search(
        v.out, std::regex("\\n-rw-r--r-- +0 root +root +3145728 .* repos/big/Packages/big-1.0-1.el7.x86_64.rpm\\n")))
        << v.out;
    auto t = test::run_command({"tar", "-tf", tar.string()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    std::string listing;
    for (const ArchiveEntry& e : scan_tree(tree))
        listing += e.path + (e.type == ArchiveEntry::Type::directory ? "/\n" : "\n");
    EXPECT_EQ(t.out, listing);  // scan_tree() order: bundle.json first, for read_member()

    fs::path by_tar = dir.path() / "tar";
    fs::create_directories(by_tar);
    auto x = test::run_command({"tar", "-xf", tar.string(), "-C", by_tar.string()});
    ASSERT_EQ(x.exit_code, 0) << x.err;
    EXPECT_EQ(tree_content(by_tar), tree_content(tree));
}

TEST(ArchiveWrite, SameTreeGivesTheSameTar) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 1000);
    pack(dir.path() / "tree", dir.path() / "a.tar", "X");
    pack(dir.path() / "tree", dir.path() / "b.tar", "X");
    EXPECT_EQ(hash_file(dir.path() / "a.tar"), hash_file(dir.path() / "b.tar"));
}

TEST(ArchiveWrite, AbortRemovesThePartialOutput) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 4u << 20);
    AbortAfter abort(1u << 20);
    EXPECT_THROW(write_iso(dir.path() / "tree", dir.path() / "a.iso", "X", &abort), Interrupted);
    EXPECT_THROW(write_tar(dir.path() / "tree", dir.path() / "a.tar", &abort), Interrupted);
    EXPECT_EQ(dir_names(dir.path()), std::vector<std::string>{"tree"});
}

TEST(ArchiveRead, OwnIsoAndTarRoundTrip) {
    test::TempDir dir;
    fs::path tree = dir.path() / "tree";
    make_tree(tree, 3u << 20);
    auto source = scan_tree(tree);
    ExpectedFiles expected = expected_of(tree);
    for (const char* name : {"b.iso", "b.tar"}) {
        SCOPED_TRACE(name);
        fs::path archive = dir.path() / name;
        pack(tree, archive, "X");
        auto listed = list_archive(archive);
        std::map<std::string, std::uint64_t> got, want;
        for (const auto& e : listed) got[e.path] = e.type == ArchiveEntry::Type::directory ? ~0ull : e.size;
        for (const auto& e : source) want[e.path] = e.type == ArchiveEntry::Type::directory ? ~0ull : e.size;
        EXPECT_EQ(got, want);

        EXPECT_EQ(read_member(archive, "bundle.json"), "{\"format\": \"ovirt-airgap-bundle/1\"}\n");
        verify_archive(archive, expected);
        fs::path dest = dir.path() / (std::string(name) + ".staged");
        extract_verified(archive, dest, expected);
        EXPECT_EQ(tree_content(dest), tree_content(tree));
    }
}

TEST(ArchiveRead, UnlistedFilesAreNeverWritten) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 1000);
    write_tar(dir.path() / "tree", dir.path() / "b.tar");
    ExpectedFiles expected = expected_of(dir.path() / "tree");
    expected.erase("x/same2");
    expected.erase("bundle.json.p7s");
    extract_verified(dir.path() / "b.tar", dir.path() / "staged", expected);
    EXPECT_TRUE(fs::exists(dir.path() / "staged/x/same1"));
    EXPECT_FALSE(fs::exists(dir.path() / "staged/x/same2"));
    EXPECT_FALSE(fs::exists(dir.path() / "staged/bundle.json.p7s"));
}

TEST(ArchiveRead, ReadMemberIsBoundedAndMustExist) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 1000);
    write_iso(dir.path() / "tree", dir.path() / "b.iso", "X");
    EXPECT_THROW(read_member(dir.path() / "b.iso", "bundle.json", 10), BundleRefused);
    EXPECT_THROW(read_member(dir.path() / "b.iso", "nothing.json"), BundleRefused);
    EXPECT_THROW(read_member(dir.path() / "b.iso", "x"), BundleRefused);  // a directory
    EXPECT_THROW(read_member(dir.path() / "missing.iso", "bundle.json"), ConfigError);
}

TEST(ArchiveRead, UnsafeTarEntriesAreRefusedBeforeAnythingIsWritten) {
    test::TempDir dir;
    const std::map<std::string, std::string> cases = {
        {"dotdot", "unsafe entry in bundle: '../evil': path leaves the bundle"},
        {"inner-dotdot", "unsafe entry in bundle: 'repos/../../evil': path leaves the bundle"},
        {"absolute", "unsafe entry in bundle: '/etc/evil': absolute path"},
        {"symlink", "unsafe entry in bundle: 'repos/etc': symbolic link"},
        {"hardlink", "unsafe entry in bundle: 'repos/passwd': hard link"},
        {"device", "unsafe entry in bundle: 'repos/null': device node"},
        {"fifo", "unsafe entry in bundle: 'repos/fifo': fifo"},
        {"duplicate", "unsafe entry in bundle: 'bundle.json': duplicate entry"},
    };
    for (const auto& [kind, message] : cases) {
        SCOPED_TRACE(kind);
        fs::path tar = craft_tar(dir.path(), kind);
        expect_refused(tar, kCraftedExpected, message);
        EXPECT_THROW(verify_archive(tar, kCraftedExpected), BundleRefused);
        EXPECT_THROW(list_archive(tar), BundleRefused);
    }
    // The control case: the same tar without the bad entry is accepted.
    fs::path good = craft_tar(dir.path(), "none");
    extract_verified(good, dir.path() / "staged", kCraftedExpected);
    EXPECT_EQ(tree_content(dir.path() / "staged").size(), 3u);  // bundle.json, repos, repos/a.rpm
}

TEST(ArchiveRead, SymlinkInAnIsoIsRefused) {
    test::TempDir dir;
    write_file(dir.path() / "tree/bundle.json", "{}");
    write_file(dir.path() / "tree/repos/a.rpm", "rpm");
    fs::create_symlink("/etc", dir.path() / "tree/repos/etc");
    fs::path iso = dir.path() / "evil.iso";
    auto r = test::run_command(
        {"xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", iso.string(), (dir.path() / "tree").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_refused(iso, kCraftedExpected, "unsafe entry in bundle: 'repos/etc': symbolic link");
}

TEST(ArchiveRead, TruncatedTarIsRefused) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 2u << 20);
    fs::path tar = dir.path() / "b.tar";
    write_tar(dir.path() / "tree", tar);
    ExpectedFiles expected = expected_of(dir.path() / "tree");
    auto size = fs::file_size(tar);
    for (std::uintmax_t cut : {size / 2, size - 4096, std::uintmax_t{700}}) {
        SCOPED_TRACE(cut);
        fs::path cut_tar = dir.path() / ("cut-" + std::to_string(cut) + ".tar");
        fs::copy_file(tar, cut_tar);
        fs::resize_file(cut_tar, cut);
        expect_refused(cut_tar, expected, "truncated or corrupt archive: " + cut_tar.string() + ": ");
        EXPECT_THROW(verify_archive(cut_tar, expected), BundleRefused);
    }
}

TEST(ArchiveRead, TruncatedIsoIsRefused) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 4u << 20);
    fs::path iso = dir.path() / "b.iso";
    write_iso(dir.path() / "tree", iso, "X");
    ExpectedFiles expected = expected_of(dir.path() / "tree");
    fs::resize_file(iso, fs::file_size(iso) / 2);
    expect_refused(iso, expected, "truncated or corrupt archive: " + iso.string() + ": ");
    fs::resize_file(iso, 20000);  // not even the volume descriptors are left
    expect_refused(iso, expected, "truncated or corrupt archive: " + iso.string() + ": ");
}

TEST(ArchiveRead, NotAnArchiveIsRefused) {
    test::TempDir dir;
    write_random_file(dir.path() / "junk.iso", 100000, 5);
    expect_refused(dir.path() / "junk.iso", kCraftedExpected, "truncated or corrupt archive: ");
}

TEST(ArchiveRead, SizeOrHashMismatchStagesNothing) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 1u << 20);
    for (const char* name : {"b.iso", "b.tar"}) {
        SCOPED_TRACE(name);
        fs::path archive = dir.path() / name;
        pack(dir.path() / "tree", archive, "X");
        ExpectedFiles expected = expected_of(dir.path() / "tree");

        ExpectedFiles wrong_size = expected;
        wrong_size["x/same1"].size += 1;
        expect_refused(archive, wrong_size, "size mismatch for 'x/same1': expected 6 bytes, found 5");

        ExpectedFiles wrong_hash = expected;
        wrong_hash["repos/big/Packages/big-1.0-1.el7.x86_64.rpm"].sha256 = sha256_hex("tampered");
        expect_refused(archive, wrong_hash, "checksum mismatch for 'repos/big/Packages/big-1.0-1.el7.x86_64.rpm'");
        EXPECT_THROW(verify_archive(archive, wrong_hash), BundleRefused);

        ExpectedFiles missing = expected;
        missing["repos/ovirt-4.3/Packages/gone.rpm"] = {1, sha256_hex("g")};
        expect_refused(archive, missing, "missing from bundle: 'repos/ovirt-4.3/Packages/gone.rpm'");

        ExpectedFiles escaping = expected;
        escaping["../outside"] = {1, sha256_hex("g")};
        expect_refused(archive, escaping, "unsafe entry in bundle: '../outside'");
    }
}

TEST(ArchiveRead, ExistingDestinationIsNotReplaced) {
    test::TempDir dir;
    make_tree(dir.path() / "tree", 1000);
    write_tar(dir.path() / "tree", dir.path() / "b.tar");
    fs::create_directories(dir.path() / "staged");
    EXPECT_THROW(extract_verified(dir.path() / "b.tar", dir.path() / "staged", expected_of(dir.path() / "tree")),
                 ConfigError);
}

TEST(ArchiveWrite, HardLinkedTreeFilesAreStoredAsPlainFiles) {
    // A bundler may hard-link one RPM into two repos; our reader refuses hard links, so the
    // writers must store such files as plain copies.
    test::TempDir dir;
    fs::path tree = dir.path() / "tree";
    write_random_file(tree / "repos/a/Packages/p.rpm", 100000, 9);
    fs::create_directories(tree / "repos/b/Packages");
    fs::create_hard_link(tree / "repos/a/Packages/p.rpm", tree / "repos/b/Packages/p.rpm");
    for (const char* name : {"b.iso", "b.tar"}) {
        SCOPED_TRACE(name);
        fs::path archive = dir.path() / name;
        pack(tree, archive, "X");
        auto v = test::run_command({"bsdtar", "-tvf", archive.string()});
        EXPECT_EQ(v.out.find("link to"), std::string::npos) << v.out;
        fs::path dest = dir.path() / (std::string(name) + ".staged");
        extract_verified(archive, dest, expected_of(tree));
        EXPECT_EQ(tree_content(dest), tree_content(tree));
    }
}

TEST(ArchiveWrite, SourceFileShrinkingWhileWritingFailsTheIso) {
    // libisofs pads a short source file with zeros and only queues a message: that must fail.
    class Truncate : public Reporter {
    public:
        explicit Truncate(fs::path file) : file_(std::move(file)) {}
        void progress(const Progress& p) override {
            if (!p.item.empty()) fs::resize_file(file_, 1000);
        }

    private:
        fs::path file_;
    };
    test::TempDir dir;
    make_tree(dir.path() / "tree", 8u << 20);
    Truncate truncate(dir.path() / "tree/repos/big/Packages/big-1.0-1.el7.x86_64.rpm");
    try {
        write_iso(dir.path() / "tree", dir.path() / "b.iso", "X", &truncate);
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("cannot write " + (dir.path() / "b.iso").string() + ": ", 0), 0u)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.path() / "b.iso"));
}

// One rule for every place that tells an archive by its name: -o of build, the bundle given to
// verify or inspect, pack(). The extension counts in any case.
TEST(ArchiveFormat, TheExtensionInAnyCaseNamesTheFormat) {
    EXPECT_EQ(archive_format_of("out/x.iso"), ArchiveFormat::iso);
    EXPECT_EQ(archive_format_of("x.ISO"), ArchiveFormat::iso);
    EXPECT_EQ(archive_format_of("x.Tar"), ArchiveFormat::tar);
    EXPECT_EQ(archive_format_of("x.tgz"), std::nullopt);
    EXPECT_EQ(archive_format_of("x.iso.gz"), std::nullopt);
    EXPECT_EQ(archive_format_of("iso"), std::nullopt);
    EXPECT_EQ(archive_format_of("dir/"), std::nullopt);
    EXPECT_EQ(archive_format_for("X.TAR"), ArchiveFormat::tar);
    try {
        archive_format_for("x.zip");
        FAIL() << "x.zip accepted";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "unsupported archive type x.zip: the name must end in .iso or .tar");
    }
}
