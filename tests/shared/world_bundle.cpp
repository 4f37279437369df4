#include "tests/shared/world_bundle.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

#include "repo/archive/sha256.hpp"
#include "repo/base/rfc3339.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/bundle_manifest.hpp"

namespace fs = std::filesystem;
using namespace airgap::repo;

namespace airgap::test {

namespace {

std::string rpm_query(const fs::path& rpm, const std::string& format) {
    CommandResult r = run_command({"rpm", "-qp", "--nosignature", "--qf", format, rpm.string()});
    if (r.exit_code != 0) throw std::runtime_error("rpm -qp " + rpm.string() + ": " + r.err);
    return r.out;
}

}  // namespace

std::unique_ptr<WorldBundle> make_world_bundle(const std::vector<std::string>& leave_out,
                                               std::chrono::seconds valid_for) {
    auto made = std::make_unique<WorldBundle>();
    WorldBundle& w = *made;
    KeyPairFiles keys = write_key_pair(w.dir.path() / "keys", generate_key(KeyType::ecdsa_p256, "e2e bundle", 30));
    w.cert = keys.cert;
    w.key = keys.key;
    w.bundle = w.dir.path() / "bundle";
    const std::map<std::string, std::vector<std::string>> repos = {
        {"centos-base", {}},
        {"centos-updates", {}},
        {"ovirt-4.3", {}},
        {"ovirt-4.3-epel", {"ansible", "ansible-doc", "epel-release", "nbdkit*"}}};
    BundleManifest m;
    m.id = new_bundle_id();
    m.serial = 1000;
    auto now = std::chrono::system_clock::now();
    m.created = format_rfc3339(now - std::chrono::hours(1));
    m.expires = format_rfc3339(now + valid_for);
    m.source_manifest = "airgap-world-4.3-el7";
    m.roles = {"engine", "host"};
    m.target_versions = {{"engine", {{"ovirt-engine", "4.3.10.4-1.el7"}, {"ovirt-engine-setup", "4.3.10.4-1.el7"}}},
                         {"host", {{"vdsm", "4.30.46-1.el7"}}}};
    fs::create_directories(w.bundle / "keys");
    fs::copy_file(world_dir() / "keys/RPM-GPG-KEY-airgap-world", w.bundle / "keys/RPM-GPG-KEY-airgap-world");
    for (const auto& [id, include] : repos) {
        fs::path to = w.bundle / "repos" / id;
        fs::create_directories(to / "Packages");
        for (const auto& e : fs::directory_iterator(world_dir() / "repos" / id / "Packages")) {
            std::string name = rpm_query(e.path(), "%{name}");
            bool ok = include.empty() || std::any_of(include.begin(), include.end(), [&](const std::string& g) {
                          return fnmatch(g.c_str(), name.c_str(), 0) == 0;
                      });
            std::string nvr = rpm_query(e.path(), "%{name}-%{version}-%{release}");
            auto left_out = [&](const std::string& what) { return what == name || what == nvr; };
            if (!ok || std::any_of(leave_out.begin(), leave_out.end(), left_out)) continue;
            fs::copy_file(e.path(), to / "Packages" / e.path().filename());
            m.packages.push_back({"repos/" + id + "/Packages/" + e.path().filename().string(),
                                  rpm_query(e.path(), "%{nevra}"), id, "update"});
        }
        CommandResult cr = run_command({"createrepo_c", "--quiet", to.string()});
        if (cr.exit_code != 0) throw std::runtime_error("createrepo_c: " + cr.err);
        m.repos.push_back({id, id + " (bundle)", "repos/" + id, {"keys/RPM-GPG-KEY-airgap-world"}});
    }
    for (const auto& e : fs::recursive_directory_iterator(w.bundle)) {
        if (!e.is_regular_file()) continue;
        FileDigest d = hash_file(e.path());
        m.files.push_back({fs::relative(e.path(), w.bundle).string(), d.size, d.sha256});
    }
    write_file(w.bundle / "bundle.json", serialize_bundle_manifest(m));
    auto sig = sign_detached(w.bundle / "bundle.json", w.key, w.cert);
    std::ofstream(w.bundle / "bundle.json.p7s", std::ios::binary)
        .write(reinterpret_cast<const char*>(sig.data()), static_cast<std::streamsize>(sig.size()));
    return made;
}

std::string rewrite_as_engine_only(const fs::path& bundle, const WorldBundle& signer) {
    BundleManifest m = parse_bundle_manifest(read_file(bundle / "bundle.json"));
    m.id = new_bundle_id();
    m.roles = {"engine"};
    m.target_versions.erase("host");
    write_file(bundle / "bundle.json", serialize_bundle_manifest(m));
    auto sig = sign_detached(bundle / "bundle.json", signer.key, signer.cert);
    write_file(bundle / "bundle.json.p7s", std::string(sig.begin(), sig.end()));
    return m.id;
}

}  // namespace airgap::test
