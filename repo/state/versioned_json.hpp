#pragma once
// Reading the applier's versioned state files (journal.json's "state_version", history.json's
// "history_version"): one JSON object whose format version sits under a key of its own. A file
// this ovirt-applier cannot read is refused in one line that names it and says what to do, the
// same way for every such file (docs/journal.md).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "repo/base/error.hpp"

namespace airgap::repo {

/// What a versioned state file is called and what a user is told to do about it.
struct VersionedJsonFile {
    std::string what;         ///< how the error lines name it: "the journal"
    std::string version_key;  ///< "state_version"
    int version = 1;          ///< the only version this ovirt-applier reads and writes
    /// What to do with a damaged file or one without the version key, e.g. "move it aside".
    std::string advice;
    /// What to do with a file of another version; empty: `advice`.
    std::string other_version_advice = {};
    /// A damaged file's line says what is wrong with it ("is damaged (not valid JSON)");
    /// false: only "is damaged".
    bool names_the_damage = true;
};

/// The file's JSON object; nullopt when the file does not exist. ConfigError, one line, when it
/// cannot be read ("cannot read FILE"), is not JSON ("WHAT FILE is damaged (not valid JSON):
/// ADVICE"), is not an object with an integer version key ("WHAT FILE has no KEY: ADVICE"), or
/// has another version ("WHAT FILE has KEY 2, but this ovirt-applier knows only 1: ADVICE").
std::optional<nlohmann::json> read_versioned_json(const std::filesystem::path& file, const VersionedJsonFile& format);

/// The refusal of a file read_versioned_json() accepted whose content is still wrong (`why`, e.g.
/// "unknown step status \"x\""), worded as its own: "WHAT FILE is damaged (WHY): ADVICE".
ConfigError damaged_versioned_json(const std::filesystem::path& file, const VersionedJsonFile& format,
                                   const std::string& why);

/// An optional string member of a state file's object: empty when it is absent or null; a
/// member of another type throws as nlohmann's get<std::string>() does (the file is damaged).
std::string string_or_empty(const nlohmann::json& object, const char* key);

}  // namespace airgap::repo
