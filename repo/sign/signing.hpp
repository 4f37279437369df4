#pragma once
// Signing and verification of bundles (docs/bundle-format.md): a detached CMS SignedData in DER
// with the signer's certificate inside, the same thing `openssl cms -sign -binary -outform DER`
// makes, so that a security officer can check a bundle by hand with `openssl cms -verify`.
// OpenSSL stays behind this header; only OpenSSL 1.1.1 APIs are used (EL7).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace airgap::repo {

/// Kinds of signing key `generate_key` makes. Digests: SHA-384 for ECDSA P-384, SHA-256 for
/// ECDSA P-256 and RSA 3072, SHA-384 for RSA 4096 (the digest follows the key's strength);
/// Ed25519 signs with its own hash.
enum class KeyType { ecdsa_p384, ecdsa_p256, rsa3072, rsa4096, ed25519 };

/// Parses a command-line name ("ecdsa-p384", "ecdsa-p256", "rsa3072", "rsa4096", "ed25519");
/// anything else is a ConfigError listing the valid names.
KeyType parse_key_type(const std::string& name);

/// The command-line name of `type`.
std::string key_type_name(KeyType type);

/// What a person checks about a certificate.
struct CertificateInfo {
    std::string subject;             ///< RFC 2253, e.g. "CN=ovirt-airgap bundle signing"
    std::string issuer;              ///< RFC 2253; equal to subject when self-signed
    std::string fingerprint_sha256;  ///< SHA-256 of the DER as `openssl x509 -fingerprint -sha256` prints it
    std::string key_description;     ///< "ECDSA P-384", "RSA 3072", "Ed25519"
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
};

/// What `verify_detached` proved: who signed.
using SignerInfo = CertificateInfo;

/// A new private key (PKCS#8 PEM, unencrypted) and its self-signed certificate (PEM). It holds a
/// secret: write it with `write_key_pair` and let it go.
struct KeyPair {
    std::string key_pem;
    std::string cert_pem;
    CertificateInfo cert;
};

/// Makes a key of `type` and a self-signed X.509 v3 certificate for it: subject CN=`subject_cn`,
/// random 159-bit serial, valid from now for `days` days, basicConstraints CA:TRUE (so that it
/// can be its own trust anchor), keyUsage digitalSignature+keyCertSign.
/// ConfigError for an empty or over-long CN (1-64 characters), days outside 1..36500, or
/// Ed25519 where the linked OpenSSL cannot sign and verify it in CMS.
KeyPair generate_key(KeyType type, const std::string& subject_cn, int days);

/// The files `write_key_pair` wrote.
struct KeyPairFiles {
    std::filesystem::path key;   ///< DIR/signing-key.pem, mode 0600 from its creation
    std::filesystem::path cert;  ///< DIR/signing-cert.pem, mode 0644
};

/// Writes `pair` into `dir` (created if missing) as signing-key.pem and signing-cert.pem.
/// Never overwrites: ConfigError if either exists, and nothing is written then.
KeyPairFiles write_key_pair(const std::filesystem::path& dir, const KeyPair& pair);

/// Whether the linked OpenSSL can both sign and verify CMS with Ed25519 (3.2 and later can;
/// Debian 12's 3.0 cannot). Found out once by trying, in memory.
bool ed25519_cms_supported();

/// Signs the file `content` with the PEM key and certificate: returns a detached CMS SignedData
/// (DER, binary content, signer certificate embedded). The content is streamed, never loaded.
/// ConfigError (one line, naming the file) for an unreadable key, certificate or content, a key
/// that does not match the certificate, an expired certificate, a weak or unsupported key
/// (RSA below 3072 bits, DSA, Ed25519 where `ed25519_cms_supported()` is false). A key
/// protected by a passphrase needs `passphrase`; without one it is refused, never prompted for.
std::vector<std::uint8_t> sign_detached(const std::filesystem::path& content, const std::filesystem::path& key_pem,
                                        const std::filesystem::path& cert_pem, const std::string& passphrase = "");

/// Verifies the detached DER CMS signature `signature` of the file `content` (streamed) against
/// the certificate(s) in the PEM file `trust` - a CA, or the signer's own self-signed
/// certificate - with purpose "any", as `openssl cms -verify -binary -purpose any` does.
/// Returns the signer. BundleRefused (one line that says what went wrong) for a missing,
/// empty, truncated or non-CMS signature, a missing content file, tampered content, a signer
/// the trust does not vouch for, or an expired certificate. ConfigError when `trust` itself
/// cannot be read or holds no certificate (the operator's input, not the bundle).
SignerInfo verify_detached(const std::filesystem::path& content, const std::filesystem::path& signature,
                           const std::filesystem::path& trust);

/// What refusals call the two halves of a signature checked in memory.
struct SignatureNames {
    std::string content = "the signed content";  ///< e.g. "/media/bundle/bundle.json"
    std::string signature = "the signature";     ///< e.g. "signature /media/bundle/bundle.json.p7s"
};

/// verify_detached() over bytes already in memory: `content` and the DER `signature`, so that a
/// caller checks exactly the bytes it goes on to use, with no copy on disk. The same checks and
/// refusals, the two halves named by `names` (required: without it a call with two strings
/// would be the file overload's as well).
SignerInfo verify_detached(std::string_view content, std::string_view signature, const std::filesystem::path& trust,
                           const SignatureNames& names);

/// The signer certificate embedded in `signature`, NOT verified: for display only (inspect).
/// BundleRefused when the file is not a CMS signature with a signer certificate inside.
CertificateInfo read_signer(const std::filesystem::path& signature);

/// The first certificate in the PEM file `cert_pem`; ConfigError naming the file otherwise.
CertificateInfo read_certificate(const std::filesystem::path& cert_pem);

}  // namespace airgap::repo
