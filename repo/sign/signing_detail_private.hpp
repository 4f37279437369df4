#pragma once
// What signing.cpp and keygen.cpp share beneath the public signing.hpp: OpenSSL-level helpers.
// Private to those two files: it pulls OpenSSL headers.
#include <string>

#include "repo/sign/openssl_handle_private.hpp"
#include "repo/sign/signing.hpp"

namespace airgap::repo::detail {

/// The bytes a memory BIO holds.
std::string bio_text(BIO* mem);
/// An empty memory BIO; std::runtime_error when OpenSSL has no memory.
ossl::Bio new_mem_bio();
/// "ECDSA P-384", "RSA 3072", "Ed25519", ...
std::string describe_key(const EVP_PKEY* key);
/// What a person checks about `cert`.
CertificateInfo info_of(X509* cert);
/// The digest a key of this strength signs with; null for Ed25519 (its own hash).
const EVP_MD* digest_for(const EVP_PKEY* key);
/// ConfigError: the linked OpenSSL cannot sign CMS with Ed25519.
[[noreturn]] void refuse_ed25519();

/// A new key of `type` (keygen.cpp). ConfigError when OpenSSL cannot make it.
ossl::PKey new_key(KeyType type);
/// A self-signed CA certificate for `key`: CN=`subject_cn`, valid `days` days (keygen.cpp).
ossl::Cert self_signed_cert(EVP_PKEY* key, const std::string& subject_cn, int days);

}  // namespace airgap::repo::detail
