#include "repo/bundle/applier_rpm_private.hpp"

#include <array>
#include <fstream>
#include <system_error>

#include "repo/base/error.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

std::string applier_rpm_path(const fs::path& rpm) { return "applier/" + rpm.filename().string(); }

void check_applier_rpm(const fs::path& rpm) {
    const std::string what = "--with-applier " + rpm.string();
    std::error_code ec;
    if (!fs::is_regular_file(rpm, ec)) throw ConfigError(what + ": no such file");
    if (rpm.extension() != ".rpm") throw ConfigError(what + ": not an .rpm file");
    // An RPM begins with its 96-byte lead: magic ED AB EE DB, format 3.0, type 0 (binary).
    std::array<unsigned char, 8> lead{};
    std::ifstream in(rpm, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(lead.data()), lead.size()))
        throw ConfigError(what + ": cannot read it, or it is too short for an RPM");
    if (lead[0] != 0xed || lead[1] != 0xab || lead[2] != 0xee || lead[3] != 0xdb)
        throw ConfigError(what + ": not an RPM package");
    if (lead[6] != 0 || lead[7] != 0) throw ConfigError(what + ": a source RPM, not the applier's binary package");
}

std::string carry_applier_rpm(const fs::path& rpm, const fs::path& root) {
    std::string rel = applier_rpm_path(rpm);
    std::error_code ec;
    fs::create_directories(root / "applier", ec);
    if (!ec) fs::copy_file(rpm, root / rel, fs::copy_options::overwrite_existing, ec);
    if (ec) throw ConfigError("cannot copy " + rpm.string() + " into the bundle: " + ec.message());
    return rel;
}

}  // namespace airgap::repo
