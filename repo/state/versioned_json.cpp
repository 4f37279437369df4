#include "repo/state/versioned_json.hpp"

#include <system_error>

#include "repo/base/text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace airgap::repo {

namespace {

std::string named(const fs::path& file, const VersionedJsonFile& format) { return format.what + " " + file.string(); }

}  // namespace

std::optional<json> read_versioned_json(const fs::path& file, const VersionedJsonFile& format) {
    auto content = read_file(file);
    if (!content) {
        std::error_code ec;
        if (!fs::exists(file, ec) && !ec) return std::nullopt;
        throw ConfigError("cannot read " + file.string());
    }
    json j;
    try {
        j = json::parse(*content);
    } catch (const json::exception&) {
        throw damaged_versioned_json(file, format, "not valid JSON");
    }
    // Only an integer is a version: "1" or 1.5 are no more a version than a missing key.
    auto version = j.is_object() ? j.find(format.version_key) : j.end();
    if (!j.is_object() || version == j.end() || !version->is_number_integer())
        throw ConfigError(named(file, format) + " has no " + format.version_key + ": " + format.advice);
    if (version->get<long long>() != format.version)
        throw ConfigError(named(file, format) + " has " + format.version_key + " " + version->dump() +
                          ", but this ovirt-applier knows only " + std::to_string(format.version) + ": " +
                          (format.other_version_advice.empty() ? format.advice : format.other_version_advice));
    return j;
}

ConfigError damaged_versioned_json(const fs::path& file, const VersionedJsonFile& format, const std::string& why) {
    std::string detail = format.names_the_damage && !why.empty() ? " (" + why + ")" : std::string();
    return ConfigError(named(file, format) + " is damaged" + detail + ": " + format.advice);
}

std::string string_or_empty(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? std::string() : it->get<std::string>();
}

}  // namespace airgap::repo
