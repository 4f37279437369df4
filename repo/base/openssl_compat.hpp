#pragma once
// The OpenSSL 1.1 calls this code makes, spelt with OpenSSL 1.0.2's API (EL7 has 1.0.2k), so
// that the applier builds against either. Nothing is defined for 1.1.0 and later. EL7 cannot
// be built on here: this is written against 1.0.2's headers as documented, not compiled.
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/x509.h>

#include <ctime>

#if OPENSSL_VERSION_NUMBER < 0x10100000L
#include <openssl/ec.h>

inline EVP_MD_CTX* EVP_MD_CTX_new() { return EVP_MD_CTX_create(); }
inline void EVP_MD_CTX_free(EVP_MD_CTX* ctx) { EVP_MD_CTX_destroy(ctx); }

inline const ASN1_TIME* X509_get0_notBefore(const X509* x) { return X509_get_notBefore(x); }
inline const ASN1_TIME* X509_get0_notAfter(const X509* x) { return X509_get_notAfter(x); }
inline ASN1_TIME* X509_getm_notBefore(X509* x) { return X509_get_notBefore(x); }
inline ASN1_TIME* X509_getm_notAfter(X509* x) { return X509_get_notAfter(x); }

// 1.0.2's getters take a reference the caller frees; the certificate (or key) keeps its own,
// so dropping ours at once gives 1.1's borrowed pointer.
inline EVP_PKEY* X509_get0_pubkey(X509* x) {
    EVP_PKEY* key = X509_get_pubkey(x);
    EVP_PKEY_free(key);
    return key;
}
inline const EC_KEY* EVP_PKEY_get0_EC_KEY(EVP_PKEY* key) {
    return EVP_PKEY_id(key) == EVP_PKEY_EC ? static_cast<const EC_KEY*>(EVP_PKEY_get0(key)) : nullptr;
}
inline int EVP_PKEY_bits(const EVP_PKEY* key) { return EVP_PKEY_bits(const_cast<EVP_PKEY*>(key)); }

// ASN1_TIME_to_tm came with 1.1.1: the distance from the epoch, which 1.0.2 computes, instead.
inline int ASN1_TIME_to_tm(const ASN1_TIME* t, std::tm* tm) {
    ASN1_TIME* epoch = ASN1_TIME_set(nullptr, 0);
    int days = 0, seconds = 0;
    int ok = epoch && ASN1_TIME_diff(&days, &seconds, epoch, t);
    ASN1_TIME_free(epoch);
    if (!ok) return 0;
    std::time_t when = static_cast<std::time_t>(days) * 86400 + seconds;
    return gmtime_r(&when, tm) ? 1 : 0;
}

// No Ed25519 or Ed448 in 1.0.2: ids no key has, so generating one fails with OpenSSL's error
// and a key is never described as one.
#define EVP_PKEY_ED25519 (-1)
#define EVP_PKEY_ED448 (-2)
#endif
