#include "repo/sign/signing.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <system_error>

#include "repo/base/error.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/base/text.hpp"
#include "repo/sign/openssl_handle_private.hpp"
#include "repo/sign/signing_detail_private.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace ossl {

std::string drain_errors() {
    std::string out;
    std::string last;
    const char* file = nullptr;
    const char* data = nullptr;
    int line = 0;
    int flags = 0;
    while (unsigned long code = ERR_get_error_line_data(&file, &line, &data, &flags)) {
        const char* reason = ERR_reason_error_string(code);
        std::string item;
        if (reason) {
            item = reason;
        } else {
            char buf[256];
            ERR_error_string_n(code, buf, sizeof buf);
            item = buf;
        }
        if (data && (flags & ERR_TXT_STRING) && *data) item += std::string(" (") + data + ")";
        // OpenSSL often stacks the same reason at several levels: say it once.
        if (item == last) continue;
        if (!out.empty()) out += "; ";
        out += item;
        last = item;
    }
    if (out.empty()) out = "unknown OpenSSL error";
    for (auto& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

}  // namespace ossl

using ossl::Bio;
using ossl::Cert;
using ossl::CertStore;
using ossl::Cms;
using ossl::PKey;

namespace {

// A detached signature holds a few certificates at most; a bigger file is not one.
constexpr std::uintmax_t kMaxSignatureBytes = 1 << 20;

// Opens a file ourselves so that a missing file is reported with errno's words, not
// OpenSSL's "system library" entry.
template <typename E>
Bio open_file(const fs::path& path, const std::string& what) {
    ERR_clear_error();
    FILE* fp = std::fopen(path.c_str(), "rbe");
    if (!fp) throw E("cannot read " + what + " " + path.string() + ": " + std::strerror(errno));
    BIO* bio = BIO_new_fp(fp, BIO_CLOSE);
    if (!bio) {
        std::fclose(fp);
        ossl::raise<E>("cannot read " + what + " " + path.string());
    }
    return Bio(bio);
}

}  // namespace

namespace detail {

std::string bio_text(BIO* mem) {
    char* data = nullptr;
    long len = BIO_get_mem_data(mem, &data);
    return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

Bio new_mem_bio() { return Bio::checked<std::runtime_error>(BIO_new(BIO_s_mem()), "BIO_new"); }

// Non-const: OpenSSL 1.1.1 takes a mutable X509_NAME here.
std::string name_text(X509_NAME* name) {
    auto mem = new_mem_bio();
    // RFC 2253 order and escaping, but UTF-8 left readable.
    X509_NAME_print_ex(mem.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(mem.get());
}

std::chrono::system_clock::time_point time_point_of(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string curve_name(const EVP_PKEY* key) {
    const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(const_cast<EVP_PKEY*>(key));
    if (!ec) return "?";
    int nid = EC_GROUP_get_curve_name(EC_KEY_get0_group(ec));
    if (const char* nist = EC_curve_nid2nist(nid)) return nist;
    const char* sn = OBJ_nid2sn(nid);
    return sn ? sn : "unnamed curve";
}

std::string describe_key(const EVP_PKEY* key) {
    switch (EVP_PKEY_id(key)) {
        case EVP_PKEY_RSA:
            return "RSA " + std::to_string(EVP_PKEY_bits(key));
        case EVP_PKEY_EC:
            return "ECDSA " + curve_name(key);
        case EVP_PKEY_ED25519:
            return "Ed25519";
        case EVP_PKEY_ED448:
            return "Ed448";
        case EVP_PKEY_DSA:
            return "DSA " + std::to_string(EVP_PKEY_bits(key));
        default:
            return "unknown key type";
    }
}

CertificateInfo info_of(X509* cert) {
    CertificateInfo info;
    info.subject = name_text(X509_get_subject_name(cert));
    info.issuer = name_text(X509_get_issuer_name(cert));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
        static const char hex[] = "0123456789ABCDEF";
        for (unsigned int i = 0; i < len; ++i) {
            if (i) info.fingerprint_sha256 += ':';
            info.fingerprint_sha256 += hex[md[i] >> 4];
            info.fingerprint_sha256 += hex[md[i] & 0xf];
        }
    }
    if (EVP_PKEY* key = X509_get0_pubkey(cert)) info.key_description = describe_key(key);
    info.not_before = time_point_of(X509_get0_notBefore(cert));
    info.not_after = time_point_of(X509_get0_notAfter(cert));
    ERR_clear_error();
    return info;
}

// The digest follows the key's strength; null lets Ed25519 use its own.
const EVP_MD* digest_for(const EVP_PKEY* key) {
    int bits = EVP_PKEY_bits(key);
    switch (EVP_PKEY_id(key)) {
        case EVP_PKEY_EC:
            return bits >= 512 ? EVP_sha512() : bits >= 384 ? EVP_sha384() : EVP_sha256();
        case EVP_PKEY_RSA:
            return bits >= 4096 ? EVP_sha384() : EVP_sha256();
        default:
            return nullptr;
    }
}

[[noreturn]] void refuse_ed25519() {
    throw ConfigError(std::string("Ed25519 cannot sign CMS with the linked ") + OpenSSL_version(OPENSSL_VERSION) +
                      " (3.2 or later needed): use an ECDSA P-384, P-256 or RSA 3072+ key");
}

}  // namespace detail

using namespace detail;

namespace {

// No prompt ever: an encrypted key is an error, not a question on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

// The passphrase given with the key (`u`, a std::string); none is no prompt either.
int given_passphrase(char* buf, int size, int, void* u) {
    const auto* passphrase = static_cast<const std::string*>(u);
    if (passphrase->empty() || passphrase->size() > static_cast<std::size_t>(size)) return -1;
    // OpenSSL takes the returned length, not a terminating NUL.
    std::copy(passphrase->begin(), passphrase->end(), buf);
    return static_cast<int>(passphrase->size());
}

template <typename E>
PKey read_private_key(const fs::path& path, const std::string& passphrase) {
    auto bio = open_file<E>(path, "signing key");
    EVP_PKEY* key =
        PEM_read_bio_PrivateKey(bio.get(), nullptr, given_passphrase, const_cast<std::string*>(&passphrase));
    if (!key && passphrase.empty() && read_file(path).value_or("").find("ENCRYPTED") != std::string::npos) {
        ERR_clear_error();
        throw E("signing key " + path.string() + " is protected by a passphrase: give it with --sign-pass-file");
    }
    return PKey::checked<E>(key, passphrase.empty()
                                     ? "signing key " + path.string() + " is not an unencrypted PEM private key"
                                     : "signing key " + path.string() +
                                           " cannot be read with the passphrase given (or is no PEM private key)");
}

template <typename E>
Cert read_cert(const fs::path& path, const std::string& what) {
    auto bio = open_file<E>(path, what);
    return Cert::checked<E>(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr),
                            what + " " + path.string() + " is not a PEM X.509 certificate");
}

// The CMS core on BIOs, shared by sign_detached and the Ed25519 probe.
std::vector<std::uint8_t> sign_bio(BIO* content, X509* cert, EVP_PKEY* key, const std::string& what) {
    const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;
    auto cms = Cms::checked<ConfigError>(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags), what);
    if (!CMS_add1_signer(cms.get(), cert, key, digest_for(key), 0)) ossl::raise<ConfigError>(what);
    // Streams the content through the digest; nothing is held in memory.
    ossl::check<ConfigError>(CMS_final(cms.get(), content, nullptr, flags), what);
    auto out = new_mem_bio();
    ossl::check<ConfigError>(i2d_CMS_bio(out.get(), cms.get()), what);
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    return std::vector<std::uint8_t>(data, data + (len > 0 ? len : 0));
}

// The certificate of the first signer among those the CMS carries; null if it has none.
Cert embedded_signer(CMS_ContentInfo* cms) {
    auto certs = ossl::CertStack(CMS_get1_certs(cms));
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (!certs || !infos || sk_CMS_SignerInfo_num(infos) < 1) return Cert();
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
        X509* cert = sk_X509_value(certs.get(), i);
        if (CMS_SignerInfo_cert_cmp(si, cert) == 0) {
            X509_up_ref(cert);
            return Cert(cert);
        }
    }
    return Cert();
}

// Returns the signer certificate, or throws BundleRefused starting with `refusal`; `trusted`
// describes the trust certificates for a signer they reject.
Cert verify_bio(CMS_ContentInfo* cms, BIO* content, const std::string& content_name, X509_STORE* store,
                const std::string& refusal, const std::string& trusted = "") {
    // Described before verifying: reading a certificate afterwards would disturb the error
    // queue that says why it was rejected.
    std::string signer_text = "the signer certificate";
    if (auto signer = embedded_signer(cms))
        signer_text = "signer certificate '" + name_text(X509_get_subject_name(signer.get())) + "' (SHA-256 " +
                      info_of(signer.get()).fingerprint_sha256 + ")";
    ERR_clear_error();
    if (CMS_verify(cms, nullptr, store, content, nullptr, CMS_BINARY) != 1) {
        // Say in words which of the two checks failed; OpenSSL's reasons follow.
        unsigned long last = ERR_peek_last_error();
        std::string words;
        if (ERR_GET_LIB(last) == ERR_LIB_CMS && ERR_GET_REASON(last) == CMS_R_CERTIFICATE_VERIFY_ERROR) {
            // Both fingerprints: what an officer compares with `openssl x509 -fingerprint -sha256`.
            words = ": " + signer_text + " is rejected";
            if (!trusted.empty()) words += " by the trusted " + trusted;
        } else if (ERR_GET_LIB(last) == ERR_LIB_CMS && ERR_GET_REASON(last) == CMS_R_CONTENT_VERIFY_ERROR) {
            words = ": " + content_name + " is not what was signed";
        } else if (ERR_GET_LIB(last) == ERR_LIB_CMS && ERR_GET_REASON(last) == CMS_R_VERIFICATION_FAILURE) {
            words = ": the signature value is invalid";
        }
        ossl::raise<BundleRefused>(refusal + words);
    }
    auto signers = ossl::CertRefStack::checked<BundleRefused>(CMS_get0_signers(cms), refusal);
    if (sk_X509_num(signers.get()) < 1) throw BundleRefused(refusal + ": no signer");
    X509* signer = sk_X509_value(signers.get(), 0);
    X509_up_ref(signer);
    return Cert(signer);
}

// What may sign a bundle beyond a chain to the trust anchor: a digest stronger than SHA-1, an
// RSA or DSA key of 2048 bits or more, and a certificate meant for signing. A TLS server
// certificate the site's CA issued chains just as well, but it is not a bundle signer.
void check_signer_policy(CMS_ContentInfo* cms, X509* signer, const std::string& refusal) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    for (int i = 0; i < sk_CMS_SignerInfo_num(infos); ++i) {
        X509_ALGOR* digest = nullptr;
        CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, i), nullptr, nullptr, &digest, nullptr);
        int nid = digest ? OBJ_obj2nid(digest->algorithm) : NID_undef;
        if (nid == NID_undef || nid == NID_sha1 || nid == NID_md5 || nid == NID_sha224)
            throw BundleRefused(refusal + ": its digest " + OBJ_nid2sn(nid) +
                                " is too weak (SHA-256 or stronger needed)");
    }
    EVP_PKEY* key = X509_get0_pubkey(signer);
    int type = key ? EVP_PKEY_base_id(key) : NID_undef;
    if ((type == EVP_PKEY_RSA || type == EVP_PKEY_DSA) && EVP_PKEY_bits(key) < 2048)
        throw BundleRefused(refusal + ": the signer's " + (type == EVP_PKEY_RSA ? "RSA" : "DSA") + " key has " +
                            std::to_string(EVP_PKEY_bits(key)) + " bits (2048 or more needed)");
    const std::string who = "signer certificate '" + name_text(X509_get_subject_name(signer)) + "'";
    std::uint32_t flags = X509_get_extension_flags(signer);
    if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE))
        throw BundleRefused(refusal + ": " + who + " is not for signing (key usage without digitalSignature)");
    if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(signer) & (XKU_CODE_SIGN | XKU_SMIME | XKU_ANYEKU)))
        throw BundleRefused(refusal + ": " + who +
                            " is not for signing (its extended key usage is for TLS or another purpose)");
}

// `label` names the signature in refusals: "signature PATH".
Cms cms_of_der(std::string_view der, const std::string& label) {
    if (der.empty()) throw BundleRefused(label + " is empty");
    if (der.size() > kMaxSignatureBytes)
        throw BundleRefused(label + " is too large to be a CMS signature (" + std::to_string(der.size()) + " bytes)");
    auto bio =
        Bio::checked<std::runtime_error>(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())), "BIO_new_mem_buf");
    auto cms = Cms::checked<BundleRefused>(d2i_CMS_bio(bio.get(), nullptr), label + " is not a DER CMS signature");
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
        throw BundleRefused(label + " is a CMS object but not a SignedData signature");
    return cms;
}

Cms read_cms(const fs::path& signature) {
    const std::string label = "signature " + signature.string();
    std::error_code ec;
    auto size = fs::file_size(signature, ec);
    if (ec) throw BundleRefused("cannot read " + label + ": " + ec.message());
    // Checked before reading: a huge file is refused without being loaded.
    if (size > kMaxSignatureBytes)
        throw BundleRefused(label + " is too large to be a CMS signature (" + std::to_string(size) + " bytes)");
    auto der = read_file(signature);
    if (!der) throw BundleRefused("cannot read " + label + ": " + std::strerror(errno));
    return cms_of_der(*der, label);
}

bool probe_ed25519() {
    try {
        auto key = new_key(KeyType::ed25519);
        auto cert = self_signed_cert(key.get(), "ed25519 probe", 1);
        static const char probe[] = "ovirt-airgap ed25519 probe";
        auto in = Bio::checked<ConfigError>(BIO_new_mem_buf(probe, sizeof probe - 1), "BIO_new_mem_buf");
        auto der = sign_bio(in.get(), cert.get(), key.get(), "probe");
        auto der_bio =
            Bio::checked<ConfigError>(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())), "BIO_new_mem_buf");
        auto cms = Cms::checked<ConfigError>(d2i_CMS_bio(der_bio.get(), nullptr), "d2i_CMS_bio");
        auto store = CertStore::checked<ConfigError>(X509_STORE_new(), "X509_STORE_new");
        ossl::check<ConfigError>(X509_STORE_add_cert(store.get(), cert.get()), "X509_STORE_add_cert");
        X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
        auto again = Bio::checked<ConfigError>(BIO_new_mem_buf(probe, sizeof probe - 1), "BIO_new_mem_buf");
        verify_bio(cms.get(), again.get(), "probe", store.get(), "probe");
        return true;
    } catch (const std::exception&) {
        ERR_clear_error();
        return false;
    }
}

// The trusted certificates of `trust` for verifying `cms`, with the words that describe them in
// a refusal. Refuses first a signature that carries its own content: it would "verify" without
// looking at ours.
struct TrustStore {
    CertStore store;
    std::string trusted;  // "'CN=x' (SHA-256 AB:..)", each certificate of the trust file
    X509_STORE* operator*() const { return store.get(); }
};

TrustStore trust_store(CMS_ContentInfo* cms, const SignatureNames& names, const fs::path& trust) {
    ASN1_OCTET_STRING** embedded = CMS_get0_content(cms);
    if (embedded && *embedded)
        throw BundleRefused(names.signature + " embeds its content; a detached signature is expected");

    TrustStore out{CertStore::checked<ConfigError>(X509_STORE_new(), "X509_STORE_new"), {}};
    auto bio = open_file<ConfigError>(trust, "trust certificate");
    int count = 0;
    while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
        Cert cert(raw);
        ossl::check<ConfigError>(X509_STORE_add_cert(out.store.get(), cert.get()),
                                 "cannot use trust certificate " + trust.string());
        CertificateInfo info = info_of(cert.get());
        out.trusted += (count ? ", '" : "'") + info.subject + "' (SHA-256 " + info.fingerprint_sha256 + ")";
        ++count;
    }
    // The loop ends on "no start line" at the end of the file: expected, not an error.
    ERR_clear_error();
    if (count == 0) throw ConfigError("trust file " + trust.string() + " holds no PEM X.509 certificate");
    X509_STORE_set_purpose(out.store.get(), X509_PURPOSE_ANY);
    // The signer's own certificate is a trust anchor even when a CA issued it: the site may
    // trust one signer without trusting everything its CA signs.
    X509_STORE_set_flags(out.store.get(), X509_V_FLAG_PARTIAL_CHAIN);
    return out;
}

SignerInfo verify_signer(CMS_ContentInfo* cms, BIO* content, const SignatureNames& names, const TrustStore& store,
                         const fs::path& trust) {
    const std::string refusal = names.signature + " does not verify against " + trust.string();
    auto signer = verify_bio(cms, content, names.content, *store, refusal, store.trusted);
    check_signer_policy(cms, signer.get(), names.signature + " is refused");
    return info_of(signer.get());
}

}  // namespace

bool ed25519_cms_supported() {
    static const bool supported = probe_ed25519();
    return supported;
}

std::vector<std::uint8_t> sign_detached(const fs::path& content, const fs::path& key_pem, const fs::path& cert_pem,
                                        const std::string& passphrase) {
    ERR_clear_error();
    auto key = read_private_key<ConfigError>(key_pem, passphrase);
    auto cert = read_cert<ConfigError>(cert_pem, "signing certificate");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw ConfigError("signing key " + key_pem.string() + " does not match certificate " + cert_pem.string());
    }

    const std::string kind = describe_key(key.get());
    const std::string weak = "signing key " + key_pem.string() + " is " + kind +
                             ": use RSA (3072 bits or more), ECDSA P-256/P-384 or Ed25519";
    switch (EVP_PKEY_id(key.get())) {
        case EVP_PKEY_RSA:
            if (EVP_PKEY_bits(key.get()) < 3072) throw ConfigError(weak);
            break;
        case EVP_PKEY_EC:
            if (EVP_PKEY_bits(key.get()) < 256) throw ConfigError(weak);
            break;
        case EVP_PKEY_ED25519:
            if (!ed25519_cms_supported()) refuse_ed25519();
            break;
        default:
            throw ConfigError(weak);
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0)
        throw ConfigError("signing certificate " + cert_pem.string() + " expired on " +
                          format_rfc3339(time_point_of(X509_get0_notAfter(cert.get()))));

    auto in = open_file<ConfigError>(content, "content");
    return sign_bio(in.get(), cert.get(), key.get(), "cannot sign " + content.string());
}

SignerInfo verify_detached(const fs::path& content, const fs::path& signature, const fs::path& trust) {
    ERR_clear_error();
    auto cms = read_cms(signature);
    const SignatureNames names{content.string(), "signature " + signature.string()};
    auto store = trust_store(cms.get(), names, trust);
    auto in = open_file<BundleRefused>(content, "signed file");
    return verify_signer(cms.get(), in.get(), names, store, trust);
}

SignerInfo verify_detached(std::string_view content, std::string_view signature, const fs::path& trust,
                           const SignatureNames& names) {
    ERR_clear_error();
    auto cms = cms_of_der(signature, names.signature);
    auto store = trust_store(cms.get(), names, trust);
    auto in = Bio::checked<std::runtime_error>(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())),
                                               "BIO_new_mem_buf");
    return verify_signer(cms.get(), in.get(), names, store, trust);
}

CertificateInfo read_signer(const fs::path& signature) {
    ERR_clear_error();
    auto cms = read_cms(signature);
    auto signer = embedded_signer(cms.get());
    ERR_clear_error();
    if (!signer) throw BundleRefused("signature " + signature.string() + " does not carry its signer's certificate");
    return info_of(signer.get());
}

CertificateInfo read_certificate(const fs::path& cert_pem) {
    ERR_clear_error();
    auto cert = read_cert<ConfigError>(cert_pem, "certificate");
    return info_of(cert.get());
}

}  // namespace airgap::repo
