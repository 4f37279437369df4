#include "repo/apply/role_fit_private.hpp"

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/solv/solv_pool.hpp"

extern "C" {
#include <solv/evr.h>
#include <solv/pool.h>
}

namespace airgap::repo {

void require_role_fits(const std::string& role, const BundleManifest& manifest, const std::filesystem::path& root) {
    auto targets = manifest.target_versions.find(role);
    if (targets == manifest.target_versions.end() || targets->second.empty()) return;
    SolvPool pool;
    pool.set_installed_rpmdb(Target(root).root(), false);
    bool any = false;
    for (const auto& p : pool.installed_packages()) {
        auto target = targets->second.find(p.name);
        if (target == targets->second.end()) continue;
        any = true;
        std::string have = p.evr;
        if (auto colon = have.find(':'); colon != std::string::npos) have = have.substr(colon + 1);
        if (pool_evrcmp_str(pool.get(), have.c_str(), target->second.c_str(), EVRCMP_COMPARE) > 0)
            throw ConfigError("installed " + p.name + "-" + have + " is newer than the bundle's " + target->second);
    }
    if (!any)
        throw ConfigError(std::string("this machine is not ") + (role == "engine" ? "an " : "a ") + role +
                          ": none of the bundle's " + role + " packages is installed");
}

}  // namespace airgap::repo
