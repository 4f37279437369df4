// `cmake --install` as a packager runs it (into a DESTDIR), and the man pages checked against
// what the programs' --help prints: every command and option documented, every exit code.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;

namespace {

const char* const kPrograms[] = {"ovirt-bundler", "ovirt-applier"};

// The commands `PROG --help` lists under "Subcommands:".
std::vector<std::string> commands_of(const std::string& prog) {
    std::string help = run_binary(prog, {"--help"}).out;
    std::vector<std::string> commands;
    auto at = help.find("Subcommands:");
    EXPECT_NE(at, std::string::npos) << help;
    std::regex line("\n  ([a-z]+) ");
    for (std::sregex_iterator it(help.begin() + static_cast<long>(at), help.end(), line), end; it != end; ++it)
        commands.push_back((*it)[1]);
    return commands;
}

// The long options `PROG COMMAND --help` prints ("  -m,--manifest TEXT" gives "--manifest").
std::set<std::string> options_of(const std::string& prog, const std::string& command) {
    std::string help = run_binary(prog, {command, "--help"}).out;
    std::set<std::string> options;
    std::regex line("\n  (-[a-z],)?(--[a-z][a-z-]*)");
    for (std::sregex_iterator it(help.begin(), help.end(), line), end; it != end; ++it) options.insert((*it)[2]);
    EXPECT_FALSE(options.empty()) << help;
    return options;
}

// The man page source as text: roff's "\-" is "-", font changes dropped.
std::string man_text(const fs::path& page) {
    std::string text = read_file(page);
    text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
    return std::regex_replace(text, std::regex(R"(\\-)"), "-");
}

TEST(Install, ManPagesDocumentEveryCommandOptionAndExitCode) {
    for (const std::string prog : kPrograms) {
        std::string man = man_text(source_path("docs/man/" + prog + ".8"));
        ASSERT_FALSE(man.empty()) << prog;
        std::vector<std::string> commands = commands_of(prog);
        EXPECT_GE(commands.size(), 4u) << prog;
        for (const auto& command : commands) {
            EXPECT_NE(man.find("\n.SS " + command + "\n"), std::string::npos) << prog << " " << command;
            for (const auto& option : options_of(prog, command)) {
                if (option == "--help") continue;
                std::regex documented("[ \"]" + option + "[ \",\n]");
                EXPECT_TRUE(std::regex_search(man, documented)) << prog << " " << command << " " << option;
            }
        }
        std::string exits = man.substr(man.find(".SH EXIT STATUS"));
        for (const char* code : {"0", "1", "2", "3", "4", "130"})
            EXPECT_NE(exits.find("\n.B " + std::string(code) + "\n"), std::string::npos) << prog << " exit " << code;
        // groff's own check: no warnings about the markup.
        CommandResult groff = run_command({"groff", "-man", "-ww", "-z", source_path("docs/man/" + prog + ".8")});
        EXPECT_EQ(groff.exit_code, 0);
        EXPECT_EQ(groff.err, "") << prog;
    }
}

TEST(Install, CmakeInstallPutsProgramsManPagesCompletionAndManifestsInPlace) {
    TempDir dest;
    CommandResult r = run_command(
        {"env", "DESTDIR=" + dest.path().string(), "cmake", "--install", AIRGAP_BINARY_DIR, "--prefix", "/usr"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    fs::path usr = dest.path() / "usr";
    for (const std::string prog : kPrograms) {
        CommandResult help = run_command({(usr / "bin" / prog).string(), "--help"});
        EXPECT_EQ(help.exit_code, 0) << prog << help.err;
        // man finds the installed page by name, as `man 8 PROG` would.
        CommandResult page = run_command({"man", "-M", (usr / "share/man").string(), "-P", "cat", "8", prog});
        EXPECT_EQ(page.exit_code, 0) << page.err;
        EXPECT_NE(page.out.find("EXIT STATUS"), std::string::npos) << page.out;
        EXPECT_TRUE(fs::is_regular_file(usr / "share/bash-completion/completions" / prog)) << prog;
    }
    for (const char* manifest : {"ovirt-4.3-el7.yaml", "centos7-sig-vault.repo"})
        EXPECT_EQ(read_file(usr / "share/ovirt-airgap/manifests" / manifest),
                  read_file(source_path("manifests") / manifest))
            << manifest;
    // Nothing else: the tests, benchmarks and libraries stay in the build tree.
    std::set<std::string> bins;
    for (const auto& e : fs::directory_iterator(usr / "bin")) bins.insert(e.path().filename().string());
    EXPECT_EQ(bins, (std::set<std::string>{"ovirt-applier", "ovirt-bundler"}));
    EXPECT_FALSE(fs::exists(usr / "lib")) << "static libraries are not installed";

    // The installed completion, loaded the way bash-completion loads it, completes from the
    // installed programs.
    auto complete = [&](const std::string& prog, const std::string& line) {
        std::string script = "source " + (usr / "share/bash-completion/completions" / prog).string() +
                             "; read -ra COMP_WORDS <<< \"$1\"; [[ $1 == *' ' ]] && COMP_WORDS+=('');"
                             " COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ovirt_airgap; echo \"${COMPREPLY[*]}\"";
        CommandResult c = run_command(
            {"env", "PATH=" + (usr / "bin").string() + ":/usr/bin:/bin", "bash", "-c", script, "complete", line});
        EXPECT_EQ(c.exit_code, 0) << c.err;
        return c.out;
    };
    EXPECT_EQ(complete("ovirt-bundler", "ovirt-bundler bu"), "build\n");
    EXPECT_EQ(complete("ovirt-bundler", "ovirt-bundler "), "help resolve keygen build inspect\n");
    EXPECT_EQ(complete("ovirt-applier", "ovirt-applier hosts --clu"), "--cluster\n");
    EXPECT_EQ(complete("ovirt-applier", "ovirt-applier inventory --role h"), "host\n");
    EXPECT_EQ(complete("ovirt-applier", "ovirt-applier help sta"), "status\n");
}

}  // namespace
