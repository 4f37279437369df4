#pragma once
// The one place where both executables turn exceptions into a one-line message and an
// exit code (STYLE.md 5). Commands register themselves on a CLI11 app and throw.
#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>

namespace airgap::cli {

/// Parses argv, runs the chosen subcommand's callback, prints any error as
/// "PROG: error: ..." on `err` and returns the documented exit code.
int run(CLI::App& app, int argc, char** argv, std::ostream& err);

/// Parse "KEY=VALUE"; throws ConfigError naming `option` when there is no '='.
std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& option);

}  // namespace airgap::cli
