// Stages a signed directory bundle the way the applier does (every listed file copied into a
// private directory while hashed, repo/apply/bundle_verify.hpp) and reports the time the staging took,
// for comparison with `cp -r` followed by `sha256sum` of the copy. Not a test.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "repo/apply/bundle_verify.hpp"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s BUNDLE_DIR TRUST.pem STAGING_ROOT\n", argv[0]);
        return 1;
    }
    try {
        airgap::repo::VerifyOptions o;
        o.trust = argv[2];
        o.check_files = false;  // the signature only: staging hashes every file itself
        airgap::repo::VerifiedBundle v = airgap::repo::verify_bundle(argv[1], o);
        auto start = std::chrono::steady_clock::now();
        airgap::repo::StagedBundle s = airgap::repo::stage_bundle(v, argv[3]);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("staged %zu files in %.3f s at %s\n", v.manifest.files.size(), secs, s.dir.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_stage: %s\n", e.what());
        return 1;
    }
    return 0;
}
