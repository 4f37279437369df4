#include "repo/bundle/bundle_inspect.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

#include "repo/archive/archive.hpp"
#include "repo/base/error.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/atomic_file.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

std::string read_bundle_json(const fs::path& bundle) {
    std::error_code ec;
    auto status = fs::status(bundle, ec);
    if (status.type() == fs::file_type::not_found) throw ConfigError("bundle " + bundle.string() + " does not exist");
    if (!fs::is_directory(status)) return read_member(bundle, "bundle.json");
    if (!fs::is_regular_file(bundle / "bundle.json"))
        throw ConfigError(bundle.string() + " is not a bundle: no bundle.json");
    // The limit an archive's bundle.json has: a medium must not make us read gigabytes.
    constexpr std::uintmax_t kMax = 64u << 20;
    auto size = fs::file_size(bundle / "bundle.json", ec);
    if (ec || size > kMax)
        throw BundleRefused("bundle.json in " + bundle.string() + " is too large (" + std::to_string(size) +
                            " bytes, at most " + std::to_string(kMax) + ")");
    std::ifstream in(bundle / "bundle.json", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

BundleSummary inspect_bundle(const fs::path& bundle) {
    BundleSummary summary;
    ScratchDir scratch("ovirt-bundler");
    std::string json = read_bundle_json(bundle);
    fs::path signature;
    if (fs::is_directory(bundle)) {
        signature = bundle / "bundle.json.p7s";
    } else {
        signature = scratch.path() / "bundle.json.p7s";
        try {
            write_file_atomic(signature, read_member(bundle, "bundle.json.p7s", 1u << 20));
        } catch (const BundleRefused& e) {
            summary.signature_problem = e.what();
            signature.clear();
        }
    }
    summary.manifest = parse_bundle_manifest(json);
    if (!signature.empty()) {
        try {
            CertificateInfo signer = read_signer(signature);
            summary.signer_subject = signer.subject;
            summary.signer_fingerprint = signer.fingerprint_sha256;
        } catch (const Error& e) {
            summary.signature_problem = e.what();
        }
    }
    std::map<std::string, std::uint64_t> sizes, base_sizes;
    for (const auto& f : summary.manifest.files) {
        sizes[f.path] = f.size;
        summary.total_bytes += f.size;
    }
    if (summary.manifest.base_bundle)
        for (const auto& f : summary.manifest.base_bundle->files) {
            base_sizes[f.path] = f.size;
            summary.base_bytes += f.size;
        }
    for (const auto& r : summary.manifest.repos) {
        InspectedRepo repo{r.id, r.name, 0, 0, 0};
        for (const auto& p : summary.manifest.packages)
            if (p.repo == r.id) {
                ++repo.packages;
                if (auto b = base_sizes.find(p.path); b != base_sizes.end()) {
                    ++repo.from_base;
                    repo.package_bytes += b->second;
                } else {
                    repo.package_bytes += sizes[p.path];
                }
            }
        summary.repos.push_back(std::move(repo));
    }
    return summary;
}

}  // namespace airgap::repo
