// RPM signature checks against real rpmbuild/rpmsign/gpg output, compared with `rpmkeys --checksig`.
#include "repo/fetch/rpm_signature.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <memory>

#include "repo/base/error.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/rpm_fixture.hpp"
#include "tests/shared/testkit.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;
using test::must;
using test::read_file;
using test::run_command;
using test::write_file;

// Everything built once per test process: two GPG keys, one package and its variants.
struct World {
    test::TempDir tmp;
    fs::path gnupg, good_key, other_key, unsigned_rpm, signed_rpm, other_rpm, payload_rpm, header_rpm;
    fs::path expired_key, expired_rpm;  // made in 2020 with a key that expired the next day
    std::string other_key_id;           // short key ID as rpm prints it

    World() {
        const fs::path d = tmp.path();
        gnupg = d / "gnupg";
        fs::create_directories(gnupg);
        fs::permissions(gnupg, fs::perms::owner_all);
        setenv("GNUPGHOME", gnupg.c_str(), 1);
        for (const char* who : {"good@example.org", "other@example.org"})
            must({"gpg", "--batch", "--passphrase", "", "--quick-gen-key", std::string("Airgap Test <") + who + ">",
                  "rsa2048", "sign", "never"});
        good_key = d / "RPM-GPG-KEY-good";
        other_key = d / "RPM-GPG-KEY-other";
        write_file(good_key, run_command({"gpg", "--armor", "--export", "good@example.org"}).out);
        write_file(other_key, run_command({"gpg", "--armor", "--export", "other@example.org"}).out);
        // fpr line: "fpr:::::::::FINGERPRINT:"; rpm shows the last 8 hex digits, lower case.
        std::string colons = run_command({"gpg", "--with-colons", "--fingerprint", "other@example.org"}).out;
        auto pos = colons.find("fpr:::::::::");
        std::string fpr = colons.substr(pos + 12, 40);
        other_key_id = fpr.substr(32);
        for (auto& c : other_key_id) c = static_cast<char>(std::tolower(c));

        const fs::path built = test::build_tiny_rpm(
            d,
            {"pkga", "1.0", "", "mkdir -p %{buildroot}/usr/share/pkga\necho hello > %{buildroot}/usr/share/pkga/file\n",
             "/usr/share/pkga/file\n"});
        unsigned_rpm = d / "unsigned.rpm";
        signed_rpm = d / "signed.rpm";
        other_rpm = d / "other.rpm";
        payload_rpm = d / "payload.rpm";
        header_rpm = d / "header.rpm";
        fs::copy_file(built, unsigned_rpm);
        fs::copy_file(built, signed_rpm);
        fs::copy_file(built, other_rpm);
        sign(signed_rpm, "good@example.org");
        sign(other_rpm, "other@example.org");

        // Like oVirt 4.3's key (expired 2021-04-03): a key and signature from the past, in a GPG
        // home whose clock says 2020-01-01.
        const fs::path old_home = d / "gnupg-2020";
        fs::create_directories(old_home);
        fs::permissions(old_home, fs::perms::owner_all);
        // '!' stops that clock: each gpg process starts its own fake clock, so a running one let
        // the signing process see the key as made "1 second in the future" and refuse it.
        write_file(old_home / "gpg.conf", "faked-system-time 20200101T000000!\n");
        setenv("GNUPGHOME", old_home.c_str(), 1);
        must({"gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Airgap Old <old@example.org>", "rsa2048",
              "sign", "1d"});
        expired_key = d / "RPM-GPG-KEY-expired";
        write_file(expired_key, run_command({"gpg", "--armor", "--export", "old@example.org"}).out);
        expired_rpm = d / "expired.rpm";
        fs::copy_file(built, expired_rpm);
        sign(expired_rpm, "old@example.org");
        run_command({"gpgconf", "--kill", "gpg-agent"});
        setenv("GNUPGHOME", gnupg.c_str(), 1);

        // Payload: the last bytes are compressed payload, covered by the payload digest only.
        std::string bytes = read_file(signed_rpm);
        bytes[bytes.size() - 20] = static_cast<char>(bytes[bytes.size() - 20] ^ 0x01);
        write_file(payload_rpm, bytes);
        // Header: the package name in the main header, covered by the header signature.
        bytes = read_file(signed_rpm);
        auto at = bytes.find("pkga", 1024);
        bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
        write_file(header_rpm, bytes);
    }
    ~World() { run_command({"gpgconf", "--kill", "gpg-agent"}); }

    void sign(const fs::path& rpm, const std::string& who) {
        must({"rpmsign", "--define", "%__gpg /usr/bin/gpg", "--define", "_gpg_name " + who, "--addsign", rpm.string()});
    }

    // `rpmkeys --checksig` with only `key` imported into a throw-away rpmdb: what rpm says.
    int rpmkeys_checksig(const fs::path& rpm, const fs::path& key) {
        test::TempDir db;
        must({"rpmkeys", "--dbpath", db.path().string(), "--import", key.string()});
        return run_command({"rpmkeys", "--dbpath", db.path().string(), "--define", "_pkgverify_level all", "--checksig",
                            rpm.string()})
            .exit_code;
    }
};

World& world() {
    static std::unique_ptr<World> w(new World);
    return *w;
}

std::string error_of(const fs::path& rpm, const std::vector<fs::path>& keys) {
    return test::error_of<ConfigError>([&] { check_rpm_signature(rpm, keys); }, 1);
}

// We refuse `rpm` (trusting the good key) with `message`, and so does rpm itself.
void expect_refused_as_rpm_does(const fs::path& rpm, const std::string& message) {
    auto& w = world();
    EXPECT_EQ(error_of(rpm, {w.good_key}), message);
    EXPECT_NE(w.rpmkeys_checksig(rpm, w.good_key), 0);
}

TEST(RpmSignature, GoodSignatureIsAccepted) {
    auto& w = world();
    EXPECT_NO_THROW(check_rpm_signature(w.signed_rpm, {w.good_key}));
    EXPECT_NO_THROW(check_rpm_signature(w.signed_rpm, {w.other_key, w.good_key}));
    EXPECT_EQ(w.rpmkeys_checksig(w.signed_rpm, w.good_key), 0);
}

// rpm (and EL7's yum) accept signatures made while a key was valid after it expired; so do we.
TEST(RpmSignature, KeyThatHasExpiredSinceStillVerifies) {
    auto& w = world();
    EXPECT_NO_THROW(check_rpm_signature(w.expired_rpm, {w.expired_key}));
    EXPECT_EQ(w.rpmkeys_checksig(w.expired_rpm, w.expired_key), 0);
}

TEST(RpmSignature, UnsignedPackageIsRefused) {
    expect_refused_as_rpm_does(world().unsigned_rpm, "package unsigned.rpm: not signed");
}

TEST(RpmSignature, PackageSignedWithAnotherKeyIsRefused) {
    auto& w = world();
    expect_refused_as_rpm_does(w.other_rpm, "package other.rpm: signed with unknown key ID " + w.other_key_id);
    EXPECT_EQ(error_of(w.other_rpm, {}), "package other.rpm: signed with unknown key ID " + w.other_key_id);
}

TEST(RpmSignature, TamperedPayloadIsRefused) {
    expect_refused_as_rpm_does(world().payload_rpm, "package payload.rpm: digest mismatch");
}

TEST(RpmSignature, TamperedHeaderIsRefused) {
    expect_refused_as_rpm_does(world().header_rpm, "package header.rpm: bad signature");
}

TEST(RpmSignature, NotAnRpmIsRefused) {
    auto& w = world();
    const fs::path junk = w.tmp.path() / "junk.rpm";
    write_file(junk, "this is not an rpm\n");
    expect_refused_as_rpm_does(junk, "package junk.rpm: not a readable RPM package");
    const fs::path cut = w.tmp.path() / "cut.rpm";
    write_file(cut, read_file(w.signed_rpm).substr(0, 3000));
    std::string what = error_of(cut, {w.good_key});
    EXPECT_EQ(what.rfind("package cut.rpm: not a readable RPM package (", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(w.rpmkeys_checksig(cut, w.good_key), 0);
}

TEST(RpmSignature, BadKeyFileIsRefused) {
    auto& w = world();
    const fs::path junk = w.tmp.path() / "RPM-GPG-KEY-junk";
    write_file(junk, "not a key\n");
    EXPECT_EQ(error_of(w.signed_rpm, {junk}), "key " + junk.string() + ": not an armored PGP public key");
}

TEST(RpmSignature, KeyFileWithSeveralKeys) {
    auto& w = world();
    const fs::path both = w.tmp.path() / "RPM-GPG-KEY-both";
    write_file(both, read_file(w.other_key) + read_file(w.good_key));
    EXPECT_NO_THROW(check_rpm_signature(w.signed_rpm, {both}));
    EXPECT_NO_THROW(check_rpm_signature(w.other_rpm, {both}));
}

TEST(GpgKeys, FetchedFromPathsFileUrlsAndHttp) {
    auto& w = world();
    test::TempDir manifest, out;
    write_file(manifest.path() / "keys" / "RPM-GPG-KEY-local", read_file(w.good_key));
    test::HttpServer server(w.tmp.path());
    RepoConfig repo;
    repo.id = "r";
    repo.gpgkeys = {"keys/RPM-GPG-KEY-local", "file://" + w.other_key.string(), server.url() + "/RPM-GPG-KEY-good"};
    auto keys = fetch_gpg_keys(repo, manifest.path(), out.path() / "keys");
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_EQ(keys[0], out.path() / "keys" / "RPM-GPG-KEY-local");
    EXPECT_EQ(keys[1], out.path() / "keys" / "RPM-GPG-KEY-other");
    EXPECT_EQ(keys[2], out.path() / "keys" / "RPM-GPG-KEY-good");
    EXPECT_EQ(read_file(keys[2]), read_file(w.good_key));
    EXPECT_NO_THROW(check_rpm_signature(w.signed_rpm, keys));
}

TEST(GpgKeys, UnreachableOrBadKeyIsNamed) {
    auto& w = world();
    test::TempDir out;
    test::HttpServer server(w.tmp.path());
    server.fail_with("/RPM-GPG-KEY-good", 404);
    RepoConfig repo;
    repo.id = "r";
    repo.gpgkeys = {server.url() + "/RPM-GPG-KEY-good"};
    try {
        fetch_gpg_keys(repo, w.tmp.path(), out.path());
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("repo r: gpgkey " + repo.gpgkeys[0] + ": cannot download: ", 0), 0u)
            << e.what();
    }
    repo.gpgkeys = {"pkga.spec"};
    try {
        fetch_gpg_keys(repo, w.tmp.path(), out.path());
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "repo r: gpgkey pkga.spec: not an armored PGP public key");
    }
    EXPECT_FALSE(fs::exists(out.path() / "pkga.spec"));
    EXPECT_FALSE(fs::exists(out.path() / "pkga.spec.tmp"));
}

}  // namespace
}  // namespace airgap::repo
