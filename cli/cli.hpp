#pragma once
// The one place where both executables turn exceptions into a one-line message and an
// exit code. Commands register themselves on a CLI11 app and throw.
#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace airgap::cli {

/// The other program of the pair: a command typed to the wrong one is answered with where
/// it lives instead of "unknown command".
struct OtherProgram {
    std::string name;
    std::vector<std::string> commands;
};

/// Parses argv, runs the chosen subcommand's callback, prints any error as
/// "PROG: error: ..." on `err` and returns the documented exit code. `PROG help [COMMAND]`
/// prints the help; a misspelt command or option is answered with the closest one and a
/// pointer to --help; every option's --help shows its default.
int run(CLI::App& app, int argc, char** argv, std::ostream& err, const OtherProgram& other = {});

/// Of `candidates`, the one closest to `typed` in edit distance when it is close enough to
/// be a typo of it (at most a third of its letters differ), else "".
std::string closest(const std::string& typed, const std::vector<std::string>& candidates);

/// Parse "KEY=VALUE"; throws ConfigError naming `option` when there is no '='.
std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& option);

}  // namespace airgap::cli
