#pragma once
// engine-setup's answer files. otopi reads every configuration file into one parser, so when
// two files set the same key the later one wins; the applier writes only what the
// administrator's own answer file leaves unset, so that the administrator's answers hold
// whatever order engine-setup reads the files in.
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

namespace airgap::repo {

/// The keys an otopi answer file sets in any `[environment:*]` section ("KEY=type:value" or
/// "KEY: type:value"; `#` and `;` start comments).
std::set<std::string> otopi_answer_keys(std::string_view text);

/// otopi_answer_keys() of a file; ConfigError when it cannot be read.
std::set<std::string> otopi_answer_file_keys(const std::filesystem::path& file);

/// The engine-setup answers the applier adds: unattended upgrade, engine stopped for it,
/// rollback left enabled; any key in `admin_keys` is left out.
std::string engine_setup_answers(const std::set<std::string>& admin_keys = {});

}  // namespace airgap::repo
