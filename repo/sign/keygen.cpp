#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "repo/base/error.hpp"
#include "repo/sign/openssl_handle_private.hpp"
#include "repo/sign/signing.hpp"
#include "repo/sign/signing_detail_private.hpp"

// Key generation for `ovirt-bundler keygen`: a signing key and its self-signed certificate,
// written so that the key is never readable by others, not even for a moment.

namespace fs = std::filesystem;

namespace airgap::repo {

using ossl::Cert;
using ossl::PKey;
using ossl::PKeyCtx;

namespace {

constexpr int kMaxDays = 36500;
constexpr int kMaxCommonName = 64;  // ub-common-name, RFC 5280

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    // A mutable copy: some OpenSSL 1.1 headers declare the value as `char*`.
    std::string text(value);
    auto ext = ossl::Extension::checked<ConfigError>(X509V3_EXT_conf_nid(nullptr, ctx, nid, text.data()),
                                                     "cannot make certificate extension " + text);
    ossl::check<ConfigError>(X509_add_ext(cert, ext.get(), -1), "cannot add certificate extension " + text);
}

void write_all(int fd, const std::string& text, const fs::path& path) {
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
        p += n;
        left -= static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
}

// O_EXCL: never overwrite, and the key has its final mode from the moment it exists.
void create_file(const fs::path& path, const std::string& text, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) throw ConfigError(path.string() + " already exists: refusing to overwrite it");
        throw ConfigError("cannot create " + path.string() + ": " + std::strerror(errno));
    }
    try {
        write_all(fd, text, path);
    } catch (...) {
        ::close(fd);
        ::unlink(path.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        ::unlink(path.c_str());
        throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
    }
}

}  // namespace

namespace detail {

PKey new_key(KeyType type) {
    int id = EVP_PKEY_EC;
    if (type == KeyType::rsa3072 || type == KeyType::rsa4096) id = EVP_PKEY_RSA;
    if (type == KeyType::ed25519) id = EVP_PKEY_ED25519;
    const std::string what = "cannot generate a " + key_type_name(type) + " key";
    auto ctx = PKeyCtx::checked<ConfigError>(EVP_PKEY_CTX_new_id(id, nullptr), what);
    ossl::check<ConfigError>(EVP_PKEY_keygen_init(ctx.get()), what);
    switch (type) {
        case KeyType::ecdsa_p384:
        case KeyType::ecdsa_p256:
            ossl::check<ConfigError>(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(
                                         ctx.get(), type == KeyType::ecdsa_p384 ? NID_secp384r1 : NID_X9_62_prime256v1),
                                     what);
            // Named curve, not explicit parameters: what every verifier accepts.
            ossl::check<ConfigError>(EVP_PKEY_CTX_set_ec_param_enc(ctx.get(), OPENSSL_EC_NAMED_CURVE), what);
            break;
        case KeyType::rsa3072:
        case KeyType::rsa4096:
            ossl::check<ConfigError>(
                EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), type == KeyType::rsa3072 ? 3072 : 4096), what);
            break;
        case KeyType::ed25519:
            break;
    }
    EVP_PKEY* raw = nullptr;
    ossl::check<ConfigError>(EVP_PKEY_keygen(ctx.get(), &raw), what);
    return PKey(raw);
}

Cert self_signed_cert(EVP_PKEY* key, const std::string& subject_cn, int days) {
    const std::string what = "cannot make the signing certificate";
    auto cert = Cert::checked<ConfigError>(X509_new(), what);
    ossl::check<ConfigError>(X509_set_version(cert.get(), 2), what);  // v3

    // Positive and at most 20 octets (RFC 5280): 159 random bits.
    auto bn = ossl::BigNum::checked<ConfigError>(BN_new(), what);
    ossl::check<ConfigError>(BN_rand(bn.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), what);
    auto serial = ossl::Asn1Integer::checked<ConfigError>(BN_to_ASN1_INTEGER(bn.get(), nullptr), what);
    ossl::check<ConfigError>(X509_set_serialNumber(cert.get(), serial.get()), what);

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr))
        ossl::raise<ConfigError>(what);

    X509_NAME* name = X509_get_subject_name(cert.get());
    ossl::check<ConfigError>(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                        reinterpret_cast<const unsigned char*>(subject_cn.c_str()),
                                                        static_cast<int>(subject_cn.size()), -1, 0),
                             "invalid subject CN '" + subject_cn + "'");
    ossl::check<ConfigError>(X509_set_issuer_name(cert.get(), name), what);
    ossl::check<ConfigError>(X509_set_pubkey(cert.get(), key), what);

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign");
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");

    ossl::check<ConfigError>(X509_sign(cert.get(), key, digest_for(key)), "cannot sign the certificate");
    return cert;
}

}  // namespace detail

using namespace detail;

namespace {
// The command-line names, one list for both directions.
constexpr std::pair<KeyType, const char*> kKeyTypeNames[] = {
    {KeyType::ecdsa_p384, "ecdsa-p384"}, {KeyType::ecdsa_p256, "ecdsa-p256"}, {KeyType::rsa3072, "rsa3072"},
    {KeyType::rsa4096, "rsa4096"},       {KeyType::ed25519, "ed25519"},
};
}  // namespace

KeyType parse_key_type(const std::string& name) {
    for (const auto& [type, word] : kKeyTypeNames)
        if (name == word) return type;
    throw ConfigError("unknown key type '" + name + "' (expected ecdsa-p384, ecdsa-p256, rsa3072, rsa4096 or ed25519)");
}

std::string key_type_name(KeyType type) {
    for (const auto& [t, word] : kKeyTypeNames)
        if (t == type) return word;
    return "?";
}

KeyPair generate_key(KeyType type, const std::string& subject_cn, int days) {
    ERR_clear_error();
    if (subject_cn.empty() || subject_cn.size() > kMaxCommonName)
        throw ConfigError("subject CN must have 1 to " + std::to_string(kMaxCommonName) + " characters");
    if (days < 1 || days > kMaxDays)
        throw ConfigError("validity must be 1 to " + std::to_string(kMaxDays) + " days, got " + std::to_string(days));
    if (type == KeyType::ed25519 && !ed25519_cms_supported()) refuse_ed25519();

    auto key = new_key(type);
    auto cert = self_signed_cert(key.get(), subject_cn, days);

    KeyPair pair;
    auto key_bio = new_mem_bio();
    ossl::check<ConfigError>(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
                             "cannot encode the private key");
    pair.key_pem = bio_text(key_bio.get());
    auto cert_bio = new_mem_bio();
    ossl::check<ConfigError>(PEM_write_bio_X509(cert_bio.get(), cert.get()), "cannot encode the certificate");
    pair.cert_pem = bio_text(cert_bio.get());
    pair.cert = info_of(cert.get());
    return pair;
}

KeyPairFiles write_key_pair(const fs::path& dir, const KeyPair& pair) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("cannot create " + dir.string() + ": " + ec.message());
    KeyPairFiles files{dir / "signing-key.pem", dir / "signing-cert.pem"};
    // Check both first, so that a refusal leaves nothing half-written.
    for (const auto& path : {files.key, files.cert})
        if (fs::symlink_status(path, ec).type() != fs::file_type::not_found)
            throw ConfigError(path.string() + " already exists: refusing to overwrite it");
    create_file(files.key, pair.key_pem, 0600);
    try {
        create_file(files.cert, pair.cert_pem, 0644);
    } catch (...) {
        ::unlink(files.key.c_str());
        throw;
    }
    return files;
}

}  // namespace airgap::repo
