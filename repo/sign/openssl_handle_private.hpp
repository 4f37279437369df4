#pragma once
// Move-only owners of OpenSSL handles and the one place where OpenSSL's error
// queue becomes an exception. Private to the library's .cpp files: it pulls OpenSSL headers.
// OpenSSL 1.1.1 API only, so that the applier builds on EL7.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "repo/base/openssl_compat.hpp"

#include <string>
#include <utility>

namespace airgap::repo::ossl {

/// Drains this thread's OpenSSL error queue into one line ("reason (detail); reason");
/// "unknown OpenSSL error" when the queue is empty.
std::string drain_errors();

/// Throws E("what: <error queue>") and leaves the queue empty.
template <typename E>
[[noreturn]] void raise(const std::string& what) {
    throw E(what + ": " + drain_errors());
}

/// Most OpenSSL calls return 1 (some any positive value) on success and 0 or less on failure.
template <typename E>
void check(int rc, const std::string& what) {
    if (rc <= 0) raise<E>(what);
}

/// Owns one `T*`, freed with `Free`. Copy deleted, moves noexcept, `get()` for the raw handle.
template <typename T, void (*Free)(T*)>
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(T* raw) noexcept : raw_(raw) {}
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) reset(std::exchange(other.raw_, nullptr));
        return *this;
    }

    /// Takes what an OpenSSL constructor returned; null means it failed: throws E naming `what`.
    template <typename E>
    static Handle checked(T* raw, const std::string& what) {
        if (!raw) raise<E>(what);
        return Handle(raw);
    }

    T* get() const noexcept { return raw_; }
    T* release() noexcept { return std::exchange(raw_, nullptr); }
    void reset(T* raw = nullptr) noexcept {
        if (raw_) Free(raw_);
        raw_ = raw;
    }
    explicit operator bool() const noexcept { return raw_ != nullptr; }

private:
    T* raw_ = nullptr;
};

// sk_X509_* are macros or inline functions: give them addresses.
inline void free_x509_stack(STACK_OF(X509) * certs) { sk_X509_pop_free(certs, X509_free); }
inline void free_x509_stack_refs(STACK_OF(X509) * certs) { sk_X509_free(certs); }

using Bio = Handle<BIO, BIO_free_all>;
using PKey = Handle<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using Cert = Handle<X509, X509_free>;
using CertStore = Handle<X509_STORE, X509_STORE_free>;
using Extension = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using Cms = Handle<CMS_ContentInfo, CMS_ContentInfo_free>;
using BigNum = Handle<BIGNUM, BN_free>;
using Asn1Integer = Handle<ASN1_INTEGER, ASN1_INTEGER_free>;
/// A stack that owns its certificates.
using CertStack = Handle<STACK_OF(X509), free_x509_stack>;
/// A stack of certificates owned by someone else (e.g. CMS_get0_signers).
using CertRefStack = Handle<STACK_OF(X509), free_x509_stack_refs>;

}  // namespace airgap::repo::ossl
