#include "tests/shared/small_bundle.hpp"

#include <fstream>
#include <map>

#include "repo/archive/sha256.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/state/bundle_manifest.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::repo;

namespace airgap::test {

const KeyPairFiles& test_signer(const std::string& name) {
    static TempDir dir;
    static std::map<std::string, KeyPairFiles> made;
    auto it = made.find(name);
    if (it != made.end()) return it->second;
    return made[name] = write_key_pair(dir.path() / name, generate_key(KeyType::ecdsa_p256, "test " + name, 30));
}

fs::path make_small_bundle(const fs::path& dir, const BundleSpec& spec, const fs::path& base) {
    const std::string a = "repos/r1/Packages/a-1-1.noarch.rpm", b = "repos/r1/Packages/b-1-1.noarch.rpm";
    const std::string carried = base.empty() ? a : b;
    write_file(dir / carried, base.empty() ? spec.package : std::string(5000, 'b'));
    write_file(dir / "repos/r1/repodata/repomd.xml", "<repomd/>\n");
    write_file(dir / "keys/RPM-GPG-KEY-test", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
    BundleManifest m;
    m.id = new_bundle_id();
    m.serial = spec.serial;
    m.created = format_rfc3339(spec.created);
    m.expires = format_rfc3339(spec.expires);
    m.source_manifest = "test";
    m.roles = spec.roles;
    for (const auto& role : spec.roles) m.target_versions[role] = {{"a", "1-1"}};
    m.repos = {{"r1", "Repo one", "repos/r1", {"keys/RPM-GPG-KEY-test"}}};
    for (const std::string& f :
         {std::string("keys/RPM-GPG-KEY-test"), carried, std::string("repos/r1/repodata/repomd.xml")}) {
        FileDigest d = hash_file(dir / f);
        m.files.push_back({f, d.size, d.sha256});
    }
    m.packages = {{a, "a-1-1.noarch", "r1", "update"}};
    if (!base.empty()) {
        BundleManifest bm = parse_bundle_manifest(read_file(base / "bundle.json"));
        FileDigest d = hash_file(base / a);
        m.base_bundle =
            BaseBundle{bm.id, bm.serial, sha256_hex(read_file(base / "bundle.json")), {{a, d.size, d.sha256}}};
        m.packages.push_back({b, "b-1-1.noarch", "r1", "update"});
    }
    write_file(dir / "bundle.json", serialize_bundle_manifest(m));
    const KeyPairFiles& signer = test_signer(spec.signer);
    auto sig = sign_detached(dir / "bundle.json", signer.key, signer.cert);
    std::ofstream(dir / "bundle.json.p7s", std::ios::binary)
        .write(reinterpret_cast<const char*>(sig.data()), static_cast<std::streamsize>(sig.size()));
    return dir;
}

}  // namespace airgap::test
