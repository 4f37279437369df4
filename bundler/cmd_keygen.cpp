// ovirt-bundler keygen: a signing key and its self-signed certificate (docs/bundle-format.md).
#include <iostream>
#include <memory>

#include "bundler/commands.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/sign/signing.hpp"

namespace airgap::bundler {

namespace {

struct KeygenOptions {
    std::string out;
    std::string subject = "ovirt-airgap bundle signing";
    int days = 730;
    std::string type = "ecdsa-p384";
};

std::string digest_note(repo::KeyType type) {
    switch (type) {
        case repo::KeyType::ecdsa_p384:
        case repo::KeyType::rsa4096:
            return "SHA-384";
        case repo::KeyType::ecdsa_p256:
        case repo::KeyType::rsa3072:
            return "SHA-256";
        case repo::KeyType::ed25519:
            return "Ed25519";
    }
    return "?";
}

void run_keygen(const KeygenOptions& opt, std::ostream& out) {
    auto type = repo::parse_key_type(opt.type);
    auto pair = repo::generate_key(type, opt.subject, opt.days);
    auto files = repo::write_key_pair(opt.out, pair);
    out << "wrote " << files.key.string() << " (private key, mode 0600: keep it at the connected site)\n"
        << "wrote " << files.cert.string() << " (certificate: give it to the secured site as --trust)\n"
        << "subject: " << pair.cert.subject << "\n"
        << "key: " << pair.cert.key_description << ", signatures with " << digest_note(type) << "\n"
        << "sha256 fingerprint: " << pair.cert.fingerprint_sha256 << "\n"
        << "expires: " << repo::format_rfc3339(pair.cert.not_after) << "\n";
}

}  // namespace

void add_keygen_command(CLI::App& app) {
    auto opt = std::make_shared<KeygenOptions>();
    auto* cmd = app.add_subcommand("keygen", "Make a bundle signing key and its self-signed certificate");
    cmd->add_option("--out", opt->out, "Directory for signing-key.pem and signing-cert.pem (never overwritten)")
        ->required();
    cmd->add_option("--subject", opt->subject, "Common name of the certificate")->capture_default_str();
    cmd->add_option("--days", opt->days, "Validity of the certificate in days")->capture_default_str();
    cmd->add_option("--type", opt->type, "ecdsa-p384, ecdsa-p256, rsa3072, rsa4096 or ed25519")->capture_default_str();
    cmd->callback([opt] { run_keygen(*opt, std::cout); });
}

}  // namespace airgap::bundler
