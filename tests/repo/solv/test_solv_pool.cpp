// Loading rpm-md repos into the pool: compressed metadata, filelists, the .solv cache,
// includepkgs/excludepkgs, and the errors a user sees.
#include "repo/solv/solv_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "repo/base/error.hpp"
#include "repo/solv/resolve.hpp"
#include "tests/shared/repo_configs.hpp"
#include "tests/shared/testkit.hpp"

extern "C" {
#include <solv/knownid.h>
#include <solv/pool.h>
#include <solv/queue.h>
#include <solv/repo.h>
}

namespace fs = std::filesystem;
using airgap::repo::PoolPackage;
using airgap::repo::RepoConfig;
using airgap::repo::RepoMetadata;
using airgap::repo::SolvPool;
using airgap::test::repo_config;

namespace {

fs::path data(const std::string& name) { return airgap::test::source_path("tests/data/testtags/" + name); }

RepoMetadata rpmmd(const fs::path& dir) {
    RepoMetadata md;
    md.repo_id = "test";
    md.dir = dir;
    md.repomd = dir / "repodata/repomd.xml";
    md.primary = dir / "repodata/primary.xml.gz";
    md.filelists = dir / "repodata/filelists.xml.xz";
    md.updateinfo = dir / "repodata/updateinfo.xml.zst";
    md.revision = "0123abcd";
    return md;
}

std::vector<std::string> nevras(const std::vector<PoolPackage>& packages) {
    std::vector<std::string> out;
    for (const auto& p : packages) out.push_back(p.nevra());
    return out;
}

// tool needs /usr/libexec/tool-helper, which only filelists.xml.xz lists.
void expect_tool_resolves(SolvPool& pool) {
    auto r = airgap::repo::resolve_install(pool, {"tool"});
    ASSERT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems[0]);
    ASSERT_EQ(r.packages.size(), 2u);
    const auto& helper = r.packages[1];
    EXPECT_EQ(r.packages[0].nevra, "tool-2.0-1.el7.noarch");
    EXPECT_EQ(helper.nevra, "tool-helper-1:1.0-3.el7.x86_64");
    EXPECT_EQ(helper.epoch, 1u);
    EXPECT_EQ(helper.version, "1.0");
    EXPECT_EQ(helper.release, "3.el7");
    EXPECT_EQ(helper.repo, "test");
    EXPECT_EQ(to_string(helper.reason), "dependency");
    EXPECT_EQ(helper.download_size, 1024u);
    EXPECT_EQ(helper.location, "Packages/tool-helper-1.0-3.el7.x86_64.rpm");
    EXPECT_EQ(helper.checksum_type, "sha256");
    EXPECT_EQ(helper.checksum, std::string(64, '2'));
}

}  // namespace

TEST(SolvPool, LoadsCompressedRpmmdWithFilelists) {
    SolvPool pool("x86_64");
    pool.add_repo(rpmmd(data("rpmmd")), repo_config("test"));
    EXPECT_EQ(nevras(pool.available_packages()),
              (std::vector<std::string>{"ansible-2.9.27-1.el7.noarch", "tool-2.0-1.el7.noarch",
                                        "tool-helper-1:1.0-3.el7.x86_64"}));
    expect_tool_resolves(pool);
}

TEST(SolvPool, AdvisoriesAreNotPackages) {
    // updateinfo.xml.zst holds one advisory for tool; it must neither list nor install as a package.
    SolvPool pool("x86_64");
    pool.add_repo(rpmmd(data("rpmmd")), repo_config("test"));
    pool.set_installed_testtags(data("installed.tags"));
    EXPECT_EQ(pool.available_packages().size(), 3u);
    auto r = airgap::repo::resolve_update(pool);
    ASSERT_TRUE(r.ok()) << r.problems[0];
    std::vector<std::string> got;
    for (const auto& p : r.packages) got.push_back(p.nevra);
    EXPECT_EQ(got, (std::vector<std::string>{"tool-2.0-1.el7.noarch", "tool-helper-1:1.0-3.el7.x86_64"}));
}

TEST(SolvPool, WithoutFilelistsAFileRequirementIsAProblem) {
    SolvPool pool("x86_64");
    RepoMetadata md = rpmmd(data("rpmmd"));
    md.filelists.clear();
    pool.add_repo(md, repo_config("test"));
    auto r = airgap::repo::resolve_install(pool, {"tool"});
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("nothing provides /usr/libexec/tool-helper needed by tool-2.0-1.el7.noarch"),
              std::string::npos)
        << r.problems[0];
}

TEST(SolvPool, WritesAndReusesASolvCacheKeyedByRevision) {
    airgap::test::TempDir tmp;
    fs::path cache = tmp.path() / "solv";
    {
        SolvPool pool("x86_64");
        pool.add_repo(rpmmd(data("rpmmd")), repo_config("test"), cache);
        EXPECT_FALSE(fs::exists(cache / "test"));  // written once the pool knows its file provides
        pool.prepare();
    }
    fs::path file = cache / "test" / "0123abcd.solv";
    ASSERT_TRUE(fs::exists(file));
    EXPECT_EQ(std::distance(fs::directory_iterator(cache / "test"), fs::directory_iterator()), 1);

    // The metadata files are gone: the pool can only have come from the cache.
    RepoMetadata md = rpmmd(tmp.path() / "nowhere");
    SolvPool cached("x86_64");
    cached.add_repo(md, repo_config("test"), cache);
    EXPECT_EQ(cached.available_packages().size(), 3u);
    expect_tool_resolves(cached);

    // A new revision parses the metadata again and replaces the old cache file.
    md = rpmmd(data("rpmmd"));
    md.revision = "4567ef";
    SolvPool again("x86_64");
    again.add_repo(md, repo_config("test"), cache);
    again.prepare();
    EXPECT_TRUE(fs::exists(cache / "test" / "4567ef.solv"));
    EXPECT_FALSE(fs::exists(file));
}

TEST(SolvPool, CacheOfARepoWithoutUpdateinfoKeepsItsFileProvides) {
    // The file lists' repodata is the last one then; the cache must still be written right.
    airgap::test::TempDir tmp;
    fs::path cache = tmp.path() / "solv";
    RepoMetadata md = rpmmd(data("rpmmd"));
    md.updateinfo.clear();
    for (int run = 0; run < 3; ++run) {
        SolvPool pool("x86_64");
        pool.add_repo(md, repo_config("test"), cache);
        expect_tool_resolves(pool);
        if (run == 0) md = rpmmd(tmp.path() / "gone");  // later runs can only use the cache
    }
    EXPECT_TRUE(fs::exists(cache / "test" / "0123abcd.solv"));

    // The cache records the file provides it carries, so that the next run skips the file lists.
    SolvPool pool("x86_64");
    pool.add_repo(md, repo_config("test"), cache);
    Pool* raw = pool.get();
    ASSERT_GE(raw->nrepos, 2);
    Queue q;
    queue_init(&q);
    repo_lookup_idarray(raw->repos[1], SOLVID_META, REPOSITORY_ADDEDFILEPROVIDES, &q);
    std::vector<std::string> recorded;
    for (int i = 0; i < q.count; ++i) recorded.push_back(pool_id2str(raw, q.elements[i]));
    queue_free(&q);
    EXPECT_EQ(recorded, std::vector<std::string>{"/usr/libexec/tool-helper"});
}

TEST(SolvPool, CorruptCacheIsParsedAgain) {
    airgap::test::TempDir tmp;
    fs::path cache = tmp.path() / "solv";
    fs::create_directories(cache / "test");
    std::ofstream(cache / "test" / "0123abcd.solv") << "not a solv file";
    SolvPool pool("x86_64");
    pool.add_repo(rpmmd(data("rpmmd")), repo_config("test"), cache);
    expect_tool_resolves(pool);
    std::ifstream in(cache / "test" / "0123abcd.solv");
    std::string head(4, '\0');
    in.read(head.data(), 4);
    EXPECT_EQ(head, "SOLV");
}

TEST(SolvPool, IncludeAndExcludeHidePackages) {
    SolvPool pool("x86_64");
    pool.add_repo(rpmmd(data("rpmmd")), repo_config("test", {"tool*"}, {"tool-helper"}));
    EXPECT_EQ(nevras(pool.available_packages()), (std::vector<std::string>{"tool-2.0-1.el7.noarch"}));
    auto r = airgap::repo::resolve_install(pool, {"tool"});
    EXPECT_FALSE(r.ok());
}

TEST(SolvPool, MissingPrimaryNamesRepoAndFile) {
    airgap::test::TempDir tmp;
    RepoMetadata md = rpmmd(tmp.path());
    md.repomd.clear();
    SolvPool pool("x86_64");
    try {
        pool.add_repo(md, repo_config("test"));
        FAIL() << "no error";
    } catch (const airgap::ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "repo test: cannot open " + (tmp.path() / "repodata/primary.xml.gz").string() +
                                             ": No such file or directory");
    }
}

TEST(SolvPool, TruncatedPrimaryIsAConfigError) {
    airgap::test::TempDir tmp;
    fs::create_directories(tmp.path() / "repodata");
    std::ofstream(tmp.path() / "repodata/primary.xml")
        << "<?xml version=\"1.0\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\">\n<package "
           "type=\"rpm\"><name>x";
    RepoMetadata md;
    md.repo_id = "bad";
    md.primary = tmp.path() / "repodata/primary.xml";
    SolvPool pool("x86_64");
    try {
        pool.add_repo(md, repo_config("bad"));
        FAIL() << "no error";
    } catch (const airgap::ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("repo bad: " + md.primary.string() + ": ", 0), 0u) << e.what();
    }
}

TEST(SolvPool, SameRepoTwiceIsRefused) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), data("base.tags"));
    EXPECT_THROW(pool.add_testtags_repo(repo_config("base"), data("base.tags")), airgap::ConfigError);
}

TEST(SolvPool, InstalledFromTesttags) {
    SolvPool pool("x86_64");
    EXPECT_EQ(pool.installed(), nullptr);
    pool.set_installed_testtags(data("installed-broken.tags"));
    ASSERT_NE(pool.installed(), nullptr);
    EXPECT_EQ(nevras(pool.installed_packages()),
              (std::vector<std::string>{"bash-4.2-1.el7.x86_64", "broken-1.0-1.el7.x86_64"}));
    EXPECT_EQ(pool.installed_packages()[0].repo, "@System");
}

TEST(SolvPool, NoRpmdbUnderRootIsAConfigError) {
    airgap::test::TempDir tmp;
    SolvPool pool("x86_64");
    try {
        pool.set_installed_rpmdb(tmp.path());
        FAIL() << "no error";
    } catch (const airgap::ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "no rpm database in " + (tmp.path() / "var/lib/rpm").string());
    }
}

TEST(SolvPool, LoadingAfterResolvingIsABug) {
    SolvPool pool("x86_64");
    pool.add_testtags_repo(repo_config("base"), data("base.tags"));
    pool.prepare();
    EXPECT_THROW(pool.add_testtags_repo(repo_config("epel"), data("epel.tags")), std::logic_error);
}

TEST(SolvPool, MovesOwnership) {
    SolvPool a("x86_64");
    auto* raw = a.get();
    SolvPool b(std::move(a));
    EXPECT_EQ(b.get(), raw);
    EXPECT_EQ(a.get(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    SolvPool c("i686");
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_EQ(c.arch(), "x86_64");
}

TEST(SolvPool, InvalidArchIsAConfigError) {
    EXPECT_THROW(SolvPool(""), airgap::ConfigError);
    EXPECT_THROW(SolvPool("x86_64\n"), airgap::ConfigError);
}

TEST(SolvPool, DefaultInstallonlyCoversKernels) {
    const auto& names = airgap::repo::default_installonly();
    for (const char* n : {"kernel", "kernel-devel", "kernel-core", "installonlypkg(kernel)"})
        EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}
