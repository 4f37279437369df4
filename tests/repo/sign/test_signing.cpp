// Signing and verification against the real peer: the openssl CLI, both ways.
#include "repo/sign/signing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;
using repo::KeyType;
using test::openssl;
using test::openssl_fingerprint;
using test::read_file;
using test::write_file;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The check a security officer runs by hand (docs/bundle-format.md).
test::CommandResult openssl_verify(const fs::path& content, const fs::path& p7s, const fs::path& ca) {
    return openssl({"cms", "-verify", "-binary", "-inform", "DER", "-content", content.string(), "-in", p7s.string(),
                    "-CAfile", ca.string(), "-purpose", "any", "-out", "/dev/null"});
}

class Signing : public ::testing::Test {
protected:
    test::TempDir tmp;
    fs::path content = tmp.path() / "bundle.json";
    fs::path p7s = tmp.path() / "bundle.json.p7s";

    void SetUp() override { write_file(content, "{\"format\": \"ovirt-airgap-bundle/1\"}\n"); }

    repo::KeyPairFiles keygen(const std::string& name, KeyType type = KeyType::ecdsa_p256) {
        return repo::write_key_pair(tmp.path() / name, repo::generate_key(type, name, 10));
    }

    // A P-384 key and self-signed certificate made by the openssl CLI.
    std::pair<fs::path, fs::path> cli_self_signed(const std::string& name) {
        fs::path key = tmp.path() / (name + ".key"), cert = tmp.path() / (name + ".pem");
        auto r = openssl({"req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
                          "-keyout", key.string(), "-out", cert.string(), "-subj", "/CN=" + name, "-days", "3"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return {key, cert};
    }
};

struct KeyCase {
    KeyType type;
    std::vector<std::string> text;  // in `openssl x509 -noout -text`
    std::string digest;             // in `openssl cms -cmsout -print`
};

// Readable ctest names instead of a byte dump.
void PrintTo(const KeyCase& c, std::ostream* os) { *os << repo::key_type_name(c.type); }

class SigningPerType : public Signing, public ::testing::WithParamInterface<KeyCase> {};

TEST_P(SigningPerType, KeygenOutputIsAcceptedByOpenssl) {
    auto pair = repo::generate_key(GetParam().type, "test signer", 10);
    auto files = repo::write_key_pair(tmp.path() / "keys", pair);
    EXPECT_EQ(files.key, tmp.path() / "keys" / "signing-key.pem");
    EXPECT_EQ(files.cert, tmp.path() / "keys" / "signing-cert.pem");

    auto text = openssl({"x509", "-in", files.cert.string(), "-noout", "-text"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("Version: 3 (0x2)"));
    EXPECT_THAT(text.out, HasSubstr("Subject: CN = test signer"));
    EXPECT_THAT(text.out, HasSubstr("Issuer: CN = test signer"));
    EXPECT_THAT(text.out, HasSubstr("CA:TRUE"));
    EXPECT_THAT(text.out, HasSubstr("Digital Signature, Certificate Sign"));
    for (const auto& s : GetParam().text) EXPECT_THAT(text.out, HasSubstr(s));
    // Self-signed and usable as its own trust anchor.
    auto self = openssl({"verify", "-CAfile", files.cert.string(), files.cert.string()});
    EXPECT_EQ(self.exit_code, 0) << self.out << self.err;

    auto pkey = openssl({"pkey", "-in", files.key.string(), "-noout"});
    EXPECT_EQ(pkey.exit_code, 0) << pkey.err;
    EXPECT_EQ(fs::status(files.key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

    EXPECT_EQ(pair.cert.fingerprint_sha256, openssl_fingerprint(files.cert));
    EXPECT_EQ(pair.cert.subject, "CN=test signer");
    auto days = std::chrono::duration_cast<std::chrono::hours>(pair.cert.not_after - pair.cert.not_before).count() / 24;
    EXPECT_EQ(days, 10);
}

TEST_P(SigningPerType, OurSignatureVerifiesWithOpensslAndUs) {
    auto files = repo::write_key_pair(tmp.path() / "keys", repo::generate_key(GetParam().type, "test signer", 10));
    write_bytes(p7s, repo::sign_detached(content, files.key, files.cert));

    auto r = openssl_verify(content, p7s, files.cert);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Verification successful"));
    auto print = openssl({"cms", "-cmsout", "-print", "-inform", "DER", "-in", p7s.string()});
    EXPECT_THAT(print.out, HasSubstr("eContent: <ABSENT>"));  // detached
    EXPECT_THAT(print.out, HasSubstr("algorithm: " + GetParam().digest));

    auto signer = repo::verify_detached(content, p7s, files.cert);
    EXPECT_EQ(signer.subject, "CN=test signer");
    EXPECT_EQ(signer.fingerprint_sha256, openssl_fingerprint(files.cert));
    EXPECT_EQ(repo::read_signer(p7s).fingerprint_sha256, signer.fingerprint_sha256);
}

INSTANTIATE_TEST_SUITE_P(
    KeyTypes, SigningPerType,
    ::testing::Values(KeyCase{KeyType::ecdsa_p384, {"NIST CURVE: P-384", "ecdsa-with-SHA384"}, "sha384"},
                      KeyCase{KeyType::ecdsa_p256, {"NIST CURVE: P-256", "ecdsa-with-SHA256"}, "sha256"},
                      KeyCase{KeyType::rsa3072, {"Public-Key: (3072 bit)", "sha256WithRSAEncryption"}, "sha256"}),
    [](const auto& info) {
        std::string name = repo::key_type_name(info.param.type);
        name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
        return name;
    });

TEST_F(Signing, OpensslSignatureVerifiesWithUs) {
    auto [key, cert] = cli_self_signed("cli signer");
    auto r = openssl({"cms", "-sign", "-binary", "-outform", "DER", "-in", content.string(), "-signer", cert.string(),
                      "-inkey", key.string(), "-out", p7s.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto signer = repo::verify_detached(content, p7s, cert);
    EXPECT_EQ(signer.subject, "CN=cli signer");
    EXPECT_EQ(signer.key_description, "ECDSA P-384");
    EXPECT_EQ(signer.fingerprint_sha256, openssl_fingerprint(cert));
}

TEST_F(Signing, WriteKeyPairNeverOverwrites) {
    auto files = keygen("keys");
    auto before = read_file(files.key);
    auto msg = test::error_of<ConfigError>(
        [&] { repo::write_key_pair(tmp.path() / "keys", repo::generate_key(KeyType::ecdsa_p256, "x", 1)); });
    EXPECT_EQ(msg, files.key.string() + " already exists: refusing to overwrite it");
    EXPECT_EQ(read_file(files.key), before);

    // Only a certificate there: refused too, and no key is left behind.
    fs::create_directories(tmp.path() / "half");
    write_file(tmp.path() / "half" / "signing-cert.pem", "x");
    msg = test::error_of<ConfigError>(
        [&] { repo::write_key_pair(tmp.path() / "half", repo::generate_key(KeyType::ecdsa_p256, "x", 1)); });
    EXPECT_EQ(msg, (tmp.path() / "half" / "signing-cert.pem").string() + " already exists: refusing to overwrite it");
    EXPECT_FALSE(fs::exists(tmp.path() / "half" / "signing-key.pem"));
}

TEST_F(Signing, BadKeygenArgumentsAreConfigErrors) {
    EXPECT_EQ(test::error_of<ConfigError>([] { repo::generate_key(KeyType::ecdsa_p384, "", 10); }),
              "subject CN must have 1 to 64 characters");
    EXPECT_EQ(test::error_of<ConfigError>([] { repo::generate_key(KeyType::ecdsa_p384, "x", 0); }),
              "validity must be 1 to 36500 days, got 0");
    EXPECT_EQ(test::error_of<ConfigError>([] { repo::parse_key_type("dsa"); }),
              "unknown key type 'dsa' (expected ecdsa-p384, ecdsa-p256, rsa3072, rsa4096 or ed25519)");
    EXPECT_EQ(repo::parse_key_type("rsa4096"), KeyType::rsa4096);
}

TEST_F(Signing, TamperedContentIsRefused) {
    auto files = keygen("keys");
    write_bytes(p7s, repo::sign_detached(content, files.key, files.cert));
    write_file(content, "{\"format\": \"ovirt-airgap-bundle/1\", \"serial\": 9}\n");
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); });
    EXPECT_THAT(msg,
                StartsWith("signature " + p7s.string() + " does not verify against " + files.cert.string() + ": "));
    EXPECT_THAT(msg, HasSubstr(": " + content.string() + " is not what was signed: "));
    EXPECT_THAT(msg, HasSubstr("content verify error"));
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(openssl_verify(content, p7s, files.cert).exit_code, 0);
}

TEST_F(Signing, CorruptSignatureValueIsRefused) {
    auto files = keygen("keys");
    auto der = repo::sign_detached(content, files.key, files.cert);
    der[der.size() - 3] ^= 1;  // inside the ECDSA signature value, the last field of the DER
    write_bytes(p7s, der);
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); });
    EXPECT_THAT(msg, StartsWith("signature " + p7s.string() + " does not verify against " + files.cert.string() +
                                ": the signature value is invalid: "));
    EXPECT_NE(openssl_verify(content, p7s, files.cert).exit_code, 0);
}

TEST_F(Signing, AnotherSignersCertificateAsTrustIsRefused) {
    auto files = keygen("keys");
    auto other = keygen("other");
    write_bytes(p7s, repo::sign_detached(content, files.key, files.cert));
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, other.cert); });
    EXPECT_THAT(msg,
                StartsWith("signature " + p7s.string() + " does not verify against " + other.cert.string() + ": "));
    // Both fingerprints, as `openssl x509 -fingerprint -sha256` prints them for each file.
    EXPECT_THAT(msg, HasSubstr(": signer certificate 'CN=keys' (SHA-256 " + test::openssl_fingerprint(files.cert) +
                               ") is rejected by the trusted 'CN=other' (SHA-256 " +
                               test::openssl_fingerprint(other.cert) + "): certificate verify error"));
    EXPECT_NE(openssl_verify(content, p7s, other.cert).exit_code, 0);
}

TEST_F(Signing, BrokenSignatureFilesAreRefused) {
    auto files = keygen("keys");
    auto der = repo::sign_detached(content, files.key, files.cert);

    write_bytes(p7s, std::vector<std::uint8_t>(der.begin(), der.begin() + static_cast<long>(der.size() / 2)));
    EXPECT_THAT(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); }),
                StartsWith("signature " + p7s.string() + " is not a DER CMS signature: "));

    write_file(p7s, "this is not a signature\n");
    EXPECT_THAT(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); }),
                StartsWith("signature " + p7s.string() + " is not a DER CMS signature: "));

    write_file(p7s, "");
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); }),
              "signature " + p7s.string() + " is empty");

    fs::remove(p7s);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); }),
              "cannot read signature " + p7s.string() + ": No such file or directory");
}

TEST_F(Signing, MissingContentIsRefused) {
    auto files = keygen("keys");
    write_bytes(p7s, repo::sign_detached(content, files.key, files.cert));
    fs::remove(content);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, files.cert); }),
              "cannot read signed file " + content.string() + ": No such file or directory");
}

TEST_F(Signing, SignatureWithEmbeddedContentIsRefused) {
    auto [key, cert] = cli_self_signed("cli signer");
    auto r = openssl({"cms", "-sign", "-nodetach", "-binary", "-outform", "DER", "-in", content.string(), "-signer",
                      cert.string(), "-inkey", key.string(), "-out", p7s.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, cert); }),
              "signature " + p7s.string() + " embeds its content; a detached signature is expected");
}

TEST_F(Signing, UnusableTrustFileIsAConfigError) {
    auto files = keygen("keys");
    write_bytes(p7s, repo::sign_detached(content, files.key, files.cert));
    auto trust = tmp.path() / "trust.pem";
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::verify_detached(content, p7s, trust); }),
              "cannot read trust certificate " + trust.string() + ": No such file or directory");
    write_file(trust, "no certificate here\n");
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::verify_detached(content, p7s, trust); }),
              "trust file " + trust.string() + " holds no PEM X.509 certificate");
}

TEST_F(Signing, ExpiredCertificateIsRefusedForSigningAndVerifying) {
    // `openssl ca` is the CLI that sets explicit dates: a self-signed certificate of 2020.
    auto ca_dir = tmp.path() / "ca";
    fs::create_directories(ca_dir);
    write_file(ca_dir / "index.txt", "");
    write_file(ca_dir / "serial", "01\n");
    write_file(ca_dir / "ca.cnf", "[ca]\ndefault_ca = test\n[test]\ndatabase = " + (ca_dir / "index.txt").string() +
                                      "\nnew_certs_dir = " + ca_dir.string() +
                                      "\nserial = " + (ca_dir / "serial").string() +
                                      "\ndefault_md = sha256\npolicy = any\nx509_extensions = ext\n"
                                      "[any]\ncommonName = supplied\n[ext]\nbasicConstraints = critical,CA:TRUE\n"
                                      "keyUsage = critical,digitalSignature,keyCertSign\n");
    fs::path key = tmp.path() / "old.key", csr = tmp.path() / "old.csr", cert = tmp.path() / "old.pem";
    auto r = openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      key.string(), "-out", csr.string(), "-subj", "/CN=old signer"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = openssl({"ca", "-batch", "-config", (ca_dir / "ca.cnf").string(), "-selfsign", "-keyfile", key.string(), "-in",
                 csr.string(), "-out", cert.string(), "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
                 "-notext"});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(content, key, cert); }),
              "signing certificate " + cert.string() + " expired on 2020-01-02T00:00:00Z");

    // The openssl CLI signs with it anyway; such a signature is refused.
    r = openssl({"cms", "-sign", "-binary", "-outform", "DER", "-in", content.string(), "-signer", cert.string(),
                 "-inkey", key.string(), "-out", p7s.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, cert); });
    EXPECT_THAT(msg, StartsWith("signature " + p7s.string() + " does not verify against " + cert.string() +
                                ": signer certificate 'CN=old signer' (SHA-256 " + test::openssl_fingerprint(cert) +
                                ") is rejected by the trusted 'CN=old signer' (SHA-256 " +
                                test::openssl_fingerprint(cert) + "): "));
    EXPECT_THAT(msg, HasSubstr("certificate has expired"));
    EXPECT_NE(openssl_verify(content, p7s, cert).exit_code, 0);
}

TEST_F(Signing, MismatchedKeyAndCertificateIsAConfigError) {
    auto files = keygen("keys");
    auto other = keygen("other");
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(content, files.key, other.cert); }),
              "signing key " + files.key.string() + " does not match certificate " + other.cert.string());
}

TEST_F(Signing, UnreadableOrUnusableKeysAreConfigErrors) {
    auto files = keygen("keys");
    auto missing = tmp.path() / "missing.pem";
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(content, missing, files.cert); }),
              "cannot read signing key " + missing.string() + ": No such file or directory");
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(content, files.key, missing); }),
              "cannot read signing certificate " + missing.string() + ": No such file or directory");
    EXPECT_THAT(test::error_of<ConfigError>([&] { repo::sign_detached(content, files.cert, files.cert); }),
                StartsWith("signing key " + files.cert.string() + " is not an unencrypted PEM private key: "));
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(missing, files.key, files.cert); }),
              "cannot read content " + missing.string() + ": No such file or directory");

    // An encrypted key fails at once instead of prompting on the terminal.
    auto encrypted = tmp.path() / "encrypted.pem";
    auto r =
        openssl({"pkey", "-in", files.key.string(), "-aes256", "-passout", "pass:secret", "-out", encrypted.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(test::error_of<ConfigError>([&] { repo::sign_detached(content, encrypted, files.cert); }),
              "signing key " + encrypted.string() + " is protected by a passphrase: give it with --sign-pass-file");
    // With its passphrase it signs, and openssl verifies the result; a wrong one is one line.
    write_bytes(p7s, repo::sign_detached(content, encrypted, files.cert, "secret"));
    EXPECT_EQ(openssl_verify(content, p7s, files.cert).exit_code, 0);
    EXPECT_THAT(test::error_of<ConfigError>([&] { repo::sign_detached(content, encrypted, files.cert, "wrong"); }),
                StartsWith("signing key " + encrypted.string() +
                           " cannot be read with the passphrase given (or is no PEM private key): "));

    // RSA below 3072 bits is refused.
    auto weak_key = tmp.path() / "weak.key", weak_cert = tmp.path() / "weak.pem";
    r = openssl({"req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", weak_key.string(), "-out",
                 weak_cert.string(), "-subj", "/CN=weak", "-days", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(
        test::error_of<ConfigError>([&] { repo::sign_detached(content, weak_key, weak_cert); }),
        "signing key " + weak_key.string() + " is RSA 2048: use RSA (3072 bits or more), ECDSA P-256/P-384 or Ed25519");
}

// Whatever this OpenSSL can do with Ed25519 in CMS, we do the same as `openssl cms -sign`.
TEST_F(Signing, Ed25519FollowsWhatTheLinkedOpensslCanDo) {
    fs::path key = tmp.path() / "ed.key", cert = tmp.path() / "ed.pem";
    ASSERT_EQ(openssl({"genpkey", "-algorithm", "ed25519", "-out", key.string()}).exit_code, 0);
    ASSERT_EQ(
        openssl({"req", "-x509", "-new", "-key", key.string(), "-subj", "/CN=ed", "-days", "3", "-out", cert.string()})
            .exit_code,
        0);
    auto cli = openssl({"cms", "-sign", "-binary", "-outform", "DER", "-in", content.string(), "-signer", cert.string(),
                        "-inkey", key.string(), "-out", (tmp.path() / "cli.p7s").string()});
    bool cli_can = cli.exit_code == 0;
    EXPECT_EQ(repo::ed25519_cms_supported(), cli_can) << cli.err;

    if (!cli_can) {
        auto msg = test::error_of<ConfigError>([&] { repo::sign_detached(content, key, cert); });
        EXPECT_THAT(msg, StartsWith("Ed25519 cannot sign CMS with the linked OpenSSL "));
        EXPECT_THAT(msg, HasSubstr("(3.2 or later needed)"));
        EXPECT_EQ(test::error_of<ConfigError>([] { repo::generate_key(KeyType::ed25519, "ed", 10); }), msg);
    } else {
        write_bytes(p7s, repo::sign_detached(content, key, cert));
        EXPECT_EQ(openssl_verify(content, p7s, cert).exit_code, 0);
        EXPECT_EQ(repo::verify_detached(content, p7s, cert).key_description, "Ed25519");
        EXPECT_EQ(repo::generate_key(KeyType::ed25519, "ed", 10).cert.key_description, "Ed25519");
    }
}

TEST_F(Signing, CaSignedSignerVerifiesWithTheCaAsTrust) {
    auto [ca_key, ca] = std::pair<fs::path, fs::path>{tmp.path() / "ca.key", tmp.path() / "ca.pem"};
    auto r = openssl({"req",
                      "-x509",
                      "-new",
                      "-newkey",
                      "ec",
                      "-pkeyopt",
                      "ec_paramgen_curve:P-384",
                      "-nodes",
                      "-keyout",
                      ca_key.string(),
                      "-out",
                      ca.string(),
                      "-subj",
                      "/CN=test ca",
                      "-days",
                      "3",
                      "-addext",
                      "basicConstraints=critical,CA:TRUE",
                      "-addext",
                      "keyUsage=critical,keyCertSign"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path leaf_key = tmp.path() / "leaf.key", csr = tmp.path() / "leaf.csr", leaf = tmp.path() / "leaf.pem";
    r = openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 leaf_key.string(), "-out", csr.string(), "-subj", "/CN=site signer"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path ext = tmp.path() / "leaf.ext";
    write_file(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n");
    r = openssl({"x509", "-req", "-in", csr.string(), "-CA", ca.string(), "-CAkey", ca_key.string(), "-set_serial",
                 "4242", "-days", "2", "-extfile", ext.string(), "-out", leaf.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    write_bytes(p7s, repo::sign_detached(content, leaf_key, leaf));
    auto signer = repo::verify_detached(content, p7s, ca);
    EXPECT_EQ(signer.subject, "CN=site signer");
    EXPECT_EQ(signer.issuer, "CN=test ca");
    EXPECT_EQ(openssl_verify(content, p7s, ca).exit_code, 0);

    // A trust file with several certificates: any of them may vouch.
    auto other = keygen("other");
    auto bundle = tmp.path() / "trust-bundle.pem";
    write_file(bundle, read_file(other.cert) + read_file(ca));
    EXPECT_EQ(repo::verify_detached(content, p7s, bundle).subject, "CN=site signer");

    // The signer's own certificate as trust works too although a CA issued it (a partial
    // chain), as openssl agrees with -partial_chain.
    EXPECT_EQ(repo::verify_detached(content, p7s, leaf).subject, "CN=site signer");
    EXPECT_EQ(openssl({"cms", "-verify", "-binary", "-inform", "DER", "-content", content.string(), "-in", p7s.string(),
                       "-CAfile", leaf.string(), "-purpose", "any", "-partial_chain", "-out", "/dev/null"})
                  .exit_code,
              0);

    // Without the CA, the leaf alone proves nothing.
    EXPECT_THAT(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, other.cert); }),
                HasSubstr("certificate verify error"));
}

}  // namespace

namespace {

// Signs `content` with the openssl CLI: `key`/`cert` as signer, `md` as digest.
void cli_sign(const fs::path& content, const fs::path& key, const fs::path& cert, const std::string& md,
              const fs::path& out) {
    auto r = openssl({"cms", "-sign", "-binary", "-outform", "DER", "-in", content.string(), "-signer", cert.string(),
                      "-inkey", key.string(), "-out", out.string(), "-md", md});
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace

// Chains to the trust anchor but is no bundle signer: a SHA-1 digest, an RSA-1024 key, a TLS
// server certificate the site's CA issued.
TEST_F(Signing, WeakDigestsSmallKeysAndTlsServerCertificatesAreRefused) {
    auto [key, cert] = cli_self_signed("signer");
    cli_sign(content, key, cert, "sha1", p7s);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, cert); }),
              "signature " + p7s.string() + " is refused: its digest SHA1 is too weak (SHA-256 or stronger needed)");
    cli_sign(content, key, cert, "sha256", p7s);
    EXPECT_NO_THROW(repo::verify_detached(content, p7s, cert));

    fs::path weak_key = tmp.path() / "weak.key", weak = tmp.path() / "weak.pem";
    auto r = openssl({"req", "-x509", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", weak_key.string(), "-out",
                      weak.string(), "-subj", "/CN=weak", "-days", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cli_sign(content, weak_key, weak, "sha256", p7s);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, weak); }),
              "signature " + p7s.string() + " is refused: the signer's RSA key has 1024 bits (2048 or more needed)");

    fs::path tls_key = tmp.path() / "tls.key", csr = tmp.path() / "tls.csr", tls = tmp.path() / "tls.pem";
    r = openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 tls_key.string(), "-out", csr.string(), "-subj", "/CN=engine.example"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path ext = tmp.path() / "tls.ext";
    write_file(ext,
               "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
               "extendedKeyUsage=serverAuth\n");
    r = openssl({"x509", "-req", "-in", csr.string(), "-CA", cert.string(), "-CAkey", key.string(), "-set_serial", "77",
                 "-days", "2", "-extfile", ext.string(), "-out", tls.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cli_sign(content, tls_key, tls, "sha256", p7s);
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(content, p7s, cert); }),
              "signature " + p7s.string() +
                  " is refused: signer certificate 'CN=engine.example' is not for signing (its extended key usage is "
                  "for TLS or another purpose)");
}

// The same check over bytes held in memory: what the applier verifies is exactly what it parses
// next, with no copy on disk, and refusals name the two halves as the caller says.
TEST_F(Signing, BytesInMemoryVerifyAndTamperedBytesAreRefused) {
    auto files = keygen("keys");
    std::vector<std::uint8_t> der = repo::sign_detached(content, files.key, files.cert);
    const std::string signature(der.begin(), der.end());
    const std::string bytes = read_file(content);
    const repo::SignatureNames names{"/media/b/bundle.json", "signature /media/b/bundle.json.p7s"};

    EXPECT_EQ(repo::verify_detached(std::string_view(bytes), signature, files.cert, names).subject, "CN=keys");

    std::string tampered = bytes;
    tampered[tampered.size() - 2] ^= 1;
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(tampered, signature, files.cert, names); });
    EXPECT_THAT(msg, StartsWith("signature /media/b/bundle.json.p7s does not verify against " + files.cert.string() +
                                ": /media/b/bundle.json is not what was signed: "));
    EXPECT_EQ(msg.find(content.string()), std::string::npos) << "only the names given: " << msg;
}

TEST_F(Signing, BytesInMemoryAgainstTheWrongTrustAreRefused) {
    auto files = keygen("keys");
    auto other = keygen("other");
    std::vector<std::uint8_t> der = repo::sign_detached(content, files.key, files.cert);
    const std::string signature(der.begin(), der.end());
    const std::string bytes = read_file(content);
    const repo::SignatureNames names{"bundle.json", "signature bundle.json.p7s"};
    auto msg = test::error_of<BundleRefused>([&] { repo::verify_detached(bytes, signature, other.cert, names); });
    EXPECT_THAT(msg, StartsWith("signature bundle.json.p7s does not verify against " + other.cert.string() +
                                ": signer certificate 'CN=keys' (SHA-256 " + test::openssl_fingerprint(files.cert) +
                                ") is rejected by the trusted 'CN=other'"));
    EXPECT_EQ(test::error_of<BundleRefused>([&] { repo::verify_detached(bytes, "", files.cert, names); }),
              "signature bundle.json.p7s is empty");
    EXPECT_EQ(test::error_of<BundleRefused>([&] {
                  repo::verify_detached(bytes, "not DER", files.cert, names);
              }).rfind("signature bundle.json.p7s is not a DER CMS signature", 0),
              0u);
    EXPECT_THAT(test::error_of<ConfigError>(
                    [&] { repo::verify_detached(bytes, signature, tmp.path() / "missing.pem", names); }),
                StartsWith("cannot read trust certificate " + (tmp.path() / "missing.pem").string()));
}
