#include "repo/apply/rpmdb_duplicates_private.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "repo/base/target.hpp"
#include "repo/solv/solv_pool.hpp"

extern "C" {
#include <solv/evr.h>
#include <solv/pool.h>
}

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

// Two archs one name cannot have side by side (yum-utils' isDuplicate): each of these groups
// holds archs that replace each other.
bool replace_each_other(const std::string& a, const std::string& b) {
    static const std::set<std::string> single_lib{"i386", "i486", "i586", "i686", "noarch"};
    static const std::set<std::string> multi_lib{"x86_64", "noarch"};
    if (a == b) return true;
    return (single_lib.count(a) && single_lib.count(b)) || (multi_lib.count(a) && multi_lib.count(b));
}

}  // namespace

std::vector<std::string> older_duplicates(const fs::path& root) {
    SolvPool pool;
    pool.set_installed_rpmdb(Target(root).root(), false);
    std::map<std::string, std::vector<PoolPackage>> by_name;
    for (const auto& p : pool.installed_packages())
        if (p.name.rfind("kernel", 0) != 0 && p.name != "gpg-pubkey") by_name[p.name].push_back(p);
    std::vector<std::string> older;
    for (const auto& [name, copies] : by_name) {
        if (copies.size() < 2) continue;
        bool duplicate = false;
        for (std::size_t i = 0; i < copies.size() && !duplicate; ++i)
            for (std::size_t j = i + 1; j < copies.size() && !duplicate; ++j)
                duplicate = replace_each_other(copies[i].arch, copies[j].arch);
        if (!duplicate) continue;  // e.g. glibc.i686 beside glibc.x86_64: multilib, as intended
        auto newest = std::max_element(copies.begin(), copies.end(), [&](const PoolPackage& a, const PoolPackage& b) {
            return pool_evrcmp_str(pool.get(), a.evr.c_str(), b.evr.c_str(), EVRCMP_COMPARE) < 0;
        });
        for (auto it = copies.begin(); it != copies.end(); ++it)
            if (it != newest && replace_each_other(it->arch, newest->arch)) older.push_back(it->nevra());
    }
    std::sort(older.begin(), older.end());
    return older;
}

std::vector<fs::path> unfinished_yum_transactions(const fs::path& root) {
    std::vector<fs::path> files;
    fs::path dir = Target(root).path("/var/lib/yum");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind("transaction-all.", 0) == 0 || name.rfind("transaction-done.", 0) == 0)
            files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace airgap::repo
