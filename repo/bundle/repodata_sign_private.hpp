#pragma once
// Signing the bundle repos' metadata with GnuPG (`ovirt-bundler build --sign-repodata KEYFILE`):
// repodata/repomd.xml.asc beside each repomd.xml, an armored detached signature, which is what
// yum's repo_gpgcheck fetches and checks against the keys of the repo's gpgkey list (yum 3.4.3,
// yum/yumRepo.py _checkRepoXML: <baseurl>/repodata/repomd.xml.asc, at most 100 KiB, checked in
// the repo's own keyring that getKeyForRepo fills from `gpgkey`). A host that reaches the
// bundle over a network (a web server on the engine) then trusts the metadata without trusting
// the server.
//
// The key comes as an exported secret key file (`gpg --export-secret-keys`), not as a key id in
// a GnuPG home: a site that keeps its signing key offline carries that one file to the build
// machine, and nothing of it stays there. The file is imported into a private GnuPG home that
// lives only as long as the signer; the file and the site's own keyrings are only read.
#include <filesystem>
#include <string>

namespace airgap::repo {

/// File name under which the bundle carries the public half (keys/NAME), listed among every
/// repo's gpgkeys so that yum imports it for repo_gpgcheck.
inline constexpr const char* kRepodataKeyName = "RPM-GPG-KEY-ovirt-airgap-repodata";

class RepodataSigner {
public:
    /// Imports `secret_key_file` into a private GnuPG home created at `home` (must not exist),
    /// then proves with a probe signature that it signs as an EL7 host can verify. ConfigError
    /// in one line, naming the file, when it cannot be read, holds no secret key or several,
    /// cannot sign (expired, revoked, passphrase-protected, no signing subkey), or signs with an
    /// algorithm EL7's GnuPG 2.0 does not know (anything but RSA and DSA).
    RepodataSigner(const std::filesystem::path& secret_key_file, const std::filesystem::path& home);
    /// Stops the private home's gpg-agent; the caller removes the home.
    ~RepodataSigner();
    RepodataSigner(const RepodataSigner&) = delete;
    RepodataSigner& operator=(const RepodataSigner&) = delete;

    /// Writes REPO/repodata/repomd.xml.asc for REPO/repodata/repomd.xml. ConfigError on failure.
    void sign_repo(const std::filesystem::path& repo_dir) const;

    /// The armored public key, in a file named kRepodataKeyName inside the private home's parent.
    const std::filesystem::path& public_key_file() const noexcept { return public_key_; }
    /// The signing key's fingerprint, 40 upper-case hex digits.
    const std::string& fingerprint() const noexcept { return fingerprint_; }

private:
    std::filesystem::path home_;
    std::filesystem::path public_key_;
    std::string fingerprint_;
    std::string what_;  // "--sign-repodata FILE", the start of every error line
};

}  // namespace airgap::repo
