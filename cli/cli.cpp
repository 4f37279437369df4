#include "cli/cli.hpp"

#include <algorithm>
#include <iostream>
#include <ostream>

#include "repo/base/error.hpp"

namespace airgap::cli {

namespace {

// Edit distance counting a swap of two neighbouring letters as one edit ("biuld" is one from
// "build"): how typos are made.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

std::vector<CLI::App*> commands_of(CLI::App& app) {
    return app.get_subcommands([](CLI::App*) { return true; });
}

std::vector<std::string> command_names(CLI::App& app) {
    std::vector<std::string> names;
    for (auto* sub : commands_of(app)) names.push_back(sub->get_name());
    return names;
}

// "a, b, c and d", the way a sentence lists commands.
std::string listed(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return out;
}

// Every option's --help shows its default, taken from the variable the option fills, so that
// help and behaviour cannot disagree. Flags (off unless given) and empty values show nothing.
void show_defaults(CLI::App& app) {
    for (auto* sub : commands_of(app))
        for (auto* option : sub->get_options()) {
            if (option->get_expected_min() == 0 || option->get_positional() || !option->get_default_str().empty())
                continue;
            option->capture_default_str();
            const std::string shown = option->get_default_str();
            if (shown == "[]" || shown == "\"\"") option->default_str("");
        }
}

// The options `command` knows, as typed: "--role", "-m".
std::vector<std::string> option_names(CLI::App& command) {
    std::vector<std::string> names;
    for (const auto* option : command.get_options()) {
        for (const auto& n : option->get_lnames()) names.push_back("--" + n);
        for (const auto& n : option->get_snames()) names.push_back("-" + n);
    }
    return names;
}

// The first argument after the command that looks like an option `command` does not have:
// the likely reason CLI11 refused the line ("--rol" rather than "arguments were not expected").
std::string unknown_option(CLI::App& command, int argc, char** argv, int first) {
    const auto known = option_names(command);
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") break;
        if (arg.size() < 2 || arg[0] != '-' || std::isdigit(static_cast<unsigned char>(arg[1]))) continue;
        std::string name = arg.rfind("--", 0) == 0 ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
        if (std::find(known.begin(), known.end(), name) == known.end()) return name;
    }
    return "";
}

// The first argument is not one of our commands: say what it is closest to, or where it lives.
int unknown_command(CLI::App& app, const std::string& typed, std::ostream& err, const OtherProgram& other) {
    const std::string prog = app.get_name();
    const auto names = command_names(app);
    if (std::find(other.commands.begin(), other.commands.end(), typed) != other.commands.end()) {
        err << prog << ": error: " << typed << " is an " << other.name << " command; " << prog << "'s commands are "
            << listed(names) << " (see " << prog << " --help)\n";
        return EXIT_USAGE;
    }
    std::string guess = closest(typed, names);
    err << prog << ": error: unknown command '" << typed << "'";
    if (!guess.empty())
        err << "; did you mean " << guess << "?";
    else
        err << "; the commands are " << listed(names);
    err << " (see " << prog << " --help)\n";
    return EXIT_USAGE;
}

}  // namespace

std::string closest(const std::string& typed, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(typed.size() / 3, 1) + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(typed, c);
        // A prefix ("--rol" for "--role") is as good as a one-letter typo.
        if (c.size() > typed.size() && c.compare(0, typed.size(), typed) == 0 && typed.size() >= 3) d = 1;
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

int run(CLI::App& app, int argc, char** argv, std::ostream& err, const OtherProgram& other) {
    const std::string prog = app.get_name();
    app.require_subcommand(1);
    show_defaults(app);
    CLI::App* command = nullptr;
    if (argc < 2) {
        err << prog << ": error: a command is required; the commands are " << listed(command_names(app)) << " (see "
            << prog << " --help)\n";
        return EXIT_USAGE;
    }
    const std::string first = argv[1];
    if (first == "help") {
        if (argc < 3) {
            std::cout << app.help();
            return EXIT_DONE;
        }
        try {
            std::cout << app.get_subcommand(argv[2])->help(prog);
            return EXIT_DONE;
        } catch (const CLI::OptionNotFound&) {
            return unknown_command(app, argv[2], err, other);
        }
    }
    if (first[0] != '-') {
        try {
            command = app.get_subcommand(first);
        } catch (const CLI::OptionNotFound&) {
            return unknown_command(app, first, err, other);
        }
    }
    try {
        app.parse(argc, argv);
        return EXIT_DONE;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        const std::string see = " (see " + prog + (command ? " " + command->get_name() : "") + " --help)";
        const std::string option = command ? unknown_option(*command, argc, argv, 2) : "";
        if (option.empty()) {
            err << prog << ": error: " << e.what() << see << "\n";
        } else {
            std::string guess = closest(option, option_names(*command));
            err << prog << ": error: unknown option " << option;
            if (!guess.empty()) err << "; did you mean " << guess << "?";
            err << see << "\n";
        }
        return EXIT_USAGE;
    } catch (const ResolveProblem& e) {
        err << prog << ": error: " << describe(e) << "\n";
        for (const auto& p : e.problems()) err << p << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        err << prog << ": error: " << describe(e) << "\n";
        return exit_code_of(e);
    }
}

std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& option) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError(option + " expects ID=VALUE, got '" + text + "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace airgap::cli
