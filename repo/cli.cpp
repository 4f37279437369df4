#include "repo/cli.hpp"

#include <ostream>

#include "repo/error.hpp"

namespace airgap::cli {

int run(CLI::App& app, int argc, char** argv, std::ostream& err) {
    app.require_subcommand(1);
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
        err << app.get_name() << ": error: " << e.what() << "\n";
        return EXIT_USAGE;
    } catch (const ResolveProblem& e) {
        err << app.get_name() << ": error: " << describe(e) << "\n";
        for (const auto& p : e.problems()) err << p << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        err << app.get_name() << ": error: " << describe(e) << "\n";
        return exit_code_of(e);
    }
}

std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& option) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError(option + " expects ID=VALUE, got '" + text + "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace airgap::cli
