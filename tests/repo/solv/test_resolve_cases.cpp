// Declarative resolution cases: every tests/data/resolve/*.case is one ctest case (the format is
// in tests/data/resolve/README). Each is resolved with our rules, compared with what the case
// expects, and then replayed by libsolv's own `testsolv` from the testcase we write, so that a
// case is also proof that the testcase file a user sends us reproduces the resolution.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "repo/solv/resolve.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using airgap::repo::RepoConfig;
using airgap::repo::Resolution;
using airgap::repo::SolvPool;

namespace {

struct CaseRepo {
    RepoConfig config;
    std::string tags;  // testtags text
};

struct Case {
    std::vector<CaseRepo> repos;
    std::optional<std::string> installed;  // testtags text
    std::optional<std::vector<std::string>> installonly;
    std::vector<std::string> install;  // job install NAMES; empty: job update
    std::set<std::string> expect;      // "nevra repo reason"
    std::set<std::string> replaced;
    std::vector<std::string> problems;  // substrings
};

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

const std::string kTagsHeader = "=Ver: 3.0 addselfprovides\n";

// Parses a case; a line it does not understand fails the test with the file and line.
Case read_case(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    Case c;
    std::string* block = nullptr;  // where indented testtags lines go
    std::string line;
    for (int lineno = 1; std::getline(in, line); ++lineno) {
        const std::string where = file.filename().string() + ":" + std::to_string(lineno) + ": ";
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == ' ') {
            if (!block) throw std::runtime_error(where + "package line outside a repo or installed block");
            *block += line.substr(line.find_first_not_of(' ')) + "\n";
            continue;
        }
        block = nullptr;
        auto w = words(line);
        if (w[0] == "repo" && w.size() >= 2) {
            CaseRepo r;
            r.config.id = w[1];
            for (std::size_t i = 2; i < w.size(); ++i) {
                if (w[i].rfind("include=", 0) == 0)
                    r.config.includepkgs = split_commas(w[i].substr(8));
                else if (w[i].rfind("exclude=", 0) == 0)
                    r.config.excludepkgs = split_commas(w[i].substr(8));
                else
                    throw std::runtime_error(where + "unknown repo option " + w[i]);
            }
            r.tags = kTagsHeader;
            c.repos.push_back(std::move(r));
            block = &c.repos.back().tags;
        } else if (w[0] == "installed" && w.size() == 1) {
            c.installed = kTagsHeader;
            block = &*c.installed;
        } else if (w[0] == "installonly") {
            c.installonly = std::vector<std::string>(w.begin() + 1, w.end());
        } else if (w[0] == "job" && w.size() == 2 && w[1] == "update") {
            c.install.clear();
        } else if (w[0] == "job" && w.size() >= 3 && w[1] == "install") {
            c.install.assign(w.begin() + 2, w.end());
        } else if (w[0] == "expect" && w.size() == 4) {
            c.expect.insert(w[1] + " " + w[2] + " " + w[3]);
        } else if (w[0] == "replaced" && w.size() == 2) {
            c.replaced.insert(w[1]);
        } else if (w[0] == "problem" && w.size() >= 2) {
            c.problems.push_back(line.substr(line.find(w[1])));
        } else {
            throw std::runtime_error(where + "cannot read: " + line);
        }
    }
    if (c.repos.empty()) throw std::runtime_error(file.string() + ": no repo");
    if (c.install.empty() && !c.installed) throw std::runtime_error(file.string() + ": job update needs installed");
    return c;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

Resolution resolve_case(const Case& c, const fs::path& work, const fs::path& debug_dir) {
    SolvPool pool("x86_64");
    for (const auto& r : c.repos) {
        fs::path tags = work / (r.config.id + ".tags");
        write_text(tags, r.tags);
        pool.add_testtags_repo(r.config, tags);
    }
    if (c.installonly) pool.set_installonly(*c.installonly);
    airgap::repo::ResolveOptions options;
    options.debug_dir = debug_dir;
    options.debug_only_on_problems = false;
    if (!c.install.empty()) return airgap::repo::resolve_install(pool, c.install, options);
    write_text(work / "installed.tags", *c.installed);
    pool.set_installed_testtags(work / "installed.tags");
    return airgap::repo::resolve_update(pool, options);
}

std::vector<fs::path> case_files() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(airgap::test::source_path("tests/data/resolve")))
        if (e.path().extension() == ".case") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

class ResolveCase : public ::testing::TestWithParam<fs::path> {};

}  // namespace

TEST_P(ResolveCase, ResolvesAsExpectedAndReplaysInTestsolv) {
    const Case c = read_case(GetParam());
    airgap::test::TempDir tmp;
    const fs::path debug_dir = tmp.path() / "debugdata";
    Resolution r = resolve_case(c, tmp.path(), debug_dir);

    if (!c.problems.empty()) {
        ASSERT_FALSE(r.ok()) << "the case expects a problem; carried " << r.packages.size() << " packages";
        EXPECT_TRUE(r.packages.empty()) << "a problem must never leave a partial result";
        const std::string all = joined(r.problems);
        for (const auto& p : c.problems)
            EXPECT_NE(all.find(p), std::string::npos) << "no problem says: " << p << "\n" << all;
    } else {
        ASSERT_TRUE(r.ok()) << joined(r.problems);
        std::set<std::string> carried, replaced(r.replaced.begin(), r.replaced.end());
        for (const auto& p : r.packages)
            carried.insert(p.nevra + " " + p.repo + " " + std::string(to_string(p.reason)));
        EXPECT_EQ(carried, c.expect);
        EXPECT_EQ(replaced, c.replaced);
    }

    // libsolv's own solver, given only the testcase we wrote, must reach the result recorded in
    // it: testsolv exits 0 and prints nothing when the results agree.
    ASSERT_TRUE(fs::exists(debug_dir / "testcase.t"));
    auto replay = airgap::test::run_command({"testsolv", (debug_dir / "testcase.t").string()});
    EXPECT_EQ(replay.exit_code, 0) << replay.out << replay.err;
    EXPECT_EQ(replay.out, "") << "testsolv found another result than ours";
}

INSTANTIATE_TEST_SUITE_P(Cases, ResolveCase, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                             std::string name = info.param.stem().string();
                             std::replace_if(
                                 name.begin(), name.end(),
                                 [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
                             return name;
                         });
