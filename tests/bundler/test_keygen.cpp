// `ovirt-bundler keygen`, black box: what it prints, what it writes, what openssl thinks of it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "repo/base/rfc3339.hpp"
#include "repo/sign/signing.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;

using test::openssl;
using test::openssl_fingerprint;
using test::read_file;

namespace {

test::CommandResult bundler(const std::vector<std::string>& args) { return test::run_binary("ovirt-bundler", args); }

TEST(Keygen, DefaultsToEcdsaP384SelfSignedAndSaysWhatItWrote) {
    test::TempDir tmp;
    auto dir = tmp.path() / "keys";
    auto r = bundler({"keygen", "--out", dir.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto key = dir / "signing-key.pem", cert = dir / "signing-cert.pem";
    auto info = repo::read_certificate(cert);
    EXPECT_EQ(r.out, "wrote " + key.string() + " (private key, mode 0600: keep it at the connected site)\n" + "wrote " +
                         cert.string() + " (certificate: give it to the secured site as --trust)\n" +
                         "subject: CN=ovirt-airgap bundle signing\n" + "key: ECDSA P-384, signatures with SHA-384\n" +
                         "sha256 fingerprint: " + openssl_fingerprint(cert) + "\n" +
                         "expires: " + repo::format_rfc3339(info.not_after) + "\n");

    EXPECT_EQ(fs::status(key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    auto pkey = openssl({"pkey", "-in", key.string(), "-noout", "-text"});
    EXPECT_EQ(pkey.exit_code, 0) << pkey.err;
    EXPECT_NE(pkey.out.find("NIST CURVE: P-384"), std::string::npos) << pkey.out;
    auto text = openssl({"x509", "-in", cert.string(), "-noout", "-text"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("ecdsa-with-SHA384"), std::string::npos);
    EXPECT_NE(text.out.find("CA:TRUE"), std::string::npos);
    // Default validity: two years.
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(info.not_after - info.not_before).count(), 730 * 24);
}

TEST(Keygen, RefusesToOverwriteWithOneLineAndExit1) {
    test::TempDir tmp;
    auto dir = tmp.path() / "keys";
    ASSERT_EQ(bundler({"keygen", "--out", dir.string()}).exit_code, 0);
    auto before = read_file(dir / "signing-key.pem");
    auto r = bundler({"keygen", "--out", dir.string(), "--type", "rsa3072"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: " + (dir / "signing-key.pem").string() +
                         " already exists: refusing to overwrite it\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_file(dir / "signing-key.pem"), before);
}

TEST(Keygen, TypeSubjectAndDays) {
    test::TempDir tmp;
    auto dir = tmp.path() / "keys";
    auto r =
        bundler({"keygen", "--out", dir.string(), "--type", "rsa3072", "--subject", "Site A bundles", "--days", "30"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("key: RSA 3072, signatures with SHA-256\n"), std::string::npos) << r.out;
    auto text = openssl({"x509", "-in", (dir / "signing-cert.pem").string(), "-noout", "-text"});
    EXPECT_NE(text.out.find("Public-Key: (3072 bit)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Subject: CN = Site A bundles"), std::string::npos) << text.out;
    auto info = repo::read_certificate(dir / "signing-cert.pem");
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(info.not_after - info.not_before).count(), 30 * 24);
}

TEST(Keygen, Ed25519OnlyWhereOpensslCmsCanUseIt) {
    test::TempDir tmp;
    auto dir = tmp.path() / "keys";
    auto r = bundler({"keygen", "--out", dir.string(), "--type", "ed25519"});
    if (repo::ed25519_cms_supported()) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("key: Ed25519"), std::string::npos) << r.out;
    } else {
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_EQ(r.err.rfind("ovirt-bundler: error: Ed25519 cannot sign CMS with the linked OpenSSL ", 0), 0u)
            << r.err;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
        EXPECT_FALSE(fs::exists(dir / "signing-key.pem"));
    }
}

TEST(Keygen, BadArgumentsAreUsageErrors) {
    test::TempDir tmp;
    auto dir = tmp.path() / "keys";
    auto r = bundler({"keygen", "--out", dir.string(), "--type", "dsa"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err,
              "ovirt-bundler: error: unknown key type 'dsa' (expected ecdsa-p384, ecdsa-p256, rsa3072, rsa4096 or "
              "ed25519)\n");
    r = bundler({"keygen", "--out", dir.string(), "--days", "0"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: validity must be 1 to 36500 days, got 0\n");
    r = bundler({"keygen"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
