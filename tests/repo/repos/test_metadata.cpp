#include "repo/repos/metadata.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "repo/base/error.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/rpm_fixture.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
namespace fs = std::filesystem;
using test::read_file;
using test::sha256sum;
using test::write_file;

namespace {

// A port nothing listens on: bound once by us, then released.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Sends one raw HTTP request to the server and returns the raw response.
std::string raw_request(std::uint16_t port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return "connect failed";
    ssize_t sent = ::send(fd, request.data(), request.size(), 0);
    (void)sent;
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

struct Recorder : Reporter {
    std::vector<std::string> lines;
    void message(const std::string& line) override { lines.push_back(line); }
    bool said(const std::string& part) const {
        for (const auto& l : lines)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
};

}  // namespace

// Tiny real repos: noarch RPMs built once per suite, createrepo_c per test, served over HTTP.
class Metadata : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rpms_ = std::make_unique<test::TempDir>();
        for (const std::string name : {"tiny-a", "tiny-b"})
            test::build_tiny_rpm(rpms_->path(), {name, "1.0", "", "", ""});
    }
    static void TearDownTestSuite() { rpms_.reset(); }

    void SetUp() override {
        repo_dir_ = tmp_.path() / "repo";
        cache_ = tmp_.path() / "cache";
        fs::create_directories(repo_dir_);
        add_package("tiny-a");
        server_ = std::make_unique<test::HttpServer>(tmp_.path());
    }

    void add_package(const std::string& name) {
        fs::copy_file(rpms_->path() / "rpms" / "noarch" / (name + "-1.0-1.noarch.rpm"),
                      repo_dir_ / (name + "-1.0-1.noarch.rpm"));
        auto r = test::run_command({"createrepo_c", "--quiet", "--no-database", repo_dir_.string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    // "repodata/<checksum>-primary.xml.gz" of the served repo.
    std::string href(const std::string& type) const {
        for (const auto& e : fs::directory_iterator(repo_dir_ / "repodata")) {
            std::string f = e.path().filename().string();
            if (f.find("-" + type + ".xml") != std::string::npos) return "repodata/" + f;
        }
        return "(none)";
    }

    RepoConfig http_repo(bool skip = false) const {
        RepoConfig r;
        r.id = "tiny";
        r.baseurls = {url()};
        r.skip_if_unavailable = skip;
        return r;
    }
    std::string url() const { return server_->url() + "/repo/"; }

    std::string fetch_error(const RepoConfig& repo) {
        try {
            MetadataFetcher(cache_, &log_).fetch(repo);
        } catch (const ConfigError& e) {
            EXPECT_EQ(exit_code_of(e), EXIT_USAGE);
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
            return e.what();
        }
        return "(no error)";
    }

    static std::unique_ptr<test::TempDir> rpms_;
    test::TempDir tmp_;
    fs::path repo_dir_, cache_;
    std::unique_ptr<test::HttpServer> server_;
    Recorder log_;
};

std::unique_ptr<test::TempDir> Metadata::rpms_;

TEST_F(Metadata, FetchesOverHttpAndChecksEveryFile) {
    auto md = MetadataFetcher(cache_, &log_).fetch(http_repo());
    ASSERT_TRUE(md);
    EXPECT_EQ(md->repo_id, "tiny");
    EXPECT_EQ(md->dir.parent_path(), cache_);
    EXPECT_EQ(md->dir.filename().string().rfind("tiny-", 0), 0u) << md->dir;
    EXPECT_EQ(read_file(md->repomd), read_file(repo_dir_ / "repodata/repomd.xml"));
    EXPECT_EQ(md->primary, md->dir / href("primary"));
    EXPECT_EQ(md->filelists, md->dir / href("filelists"));
    EXPECT_TRUE(md->updateinfo.empty()) << "createrepo_c makes no updateinfo";
    EXPECT_EQ(read_file(md->primary), read_file(repo_dir_ / href("primary")));
    EXPECT_FALSE(fs::exists(md->dir / href("other"))) << "changelogs are not needed";
    EXPECT_EQ(md->revision, sha256sum(repo_dir_ / "repodata/repomd.xml"));
    EXPECT_EQ(md->base_url, url());
    EXPECT_TRUE(log_.said("repo tiny: downloading metadata from " + url()));
}

TEST_F(Metadata, FetchesFromAFileUrl) {
    RepoConfig r = http_repo();
    r.baseurls = {"file://" + repo_dir_.string()};
    auto md = MetadataFetcher(cache_).fetch(r);
    ASSERT_TRUE(md);
    EXPECT_EQ(read_file(md->primary), read_file(repo_dir_ / href("primary")));
    EXPECT_EQ(md->revision, sha256sum(repo_dir_ / "repodata/repomd.xml"));
}

TEST_F(Metadata, FollowsAMirrorlistPastADeadMirror) {
    std::string dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/repo/";
    write_file(tmp_.path() / "mirrorlist", "# mirrors\n" + dead + "\n" + url() + "\n");
    RepoConfig r = http_repo();
    r.baseurls.clear();
    r.mirrorlist = server_->url() + "/mirrorlist";
    auto md = MetadataFetcher(cache_).fetch(r);
    ASSERT_TRUE(md);
    EXPECT_EQ(md->base_url, url());
    EXPECT_EQ(read_file(md->primary), read_file(repo_dir_ / href("primary")));
}

namespace {
std::string metalink_for(const fs::path& repomd, const std::string& url, const std::string& sha256) {
    return R"(<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files>
  <file name="repomd.xml">
   <mm0:timestamp>1600000000</mm0:timestamp>
   <size>)" +
           std::to_string(fs::file_size(repomd)) +
           R"(</size>
   <verification>
    <hash type="sha256">)" +
           sha256 + R"(</hash>
   </verification>
   <resources maxconnections="1">
    <url protocol="http" type="http" location="US" preference="100">)" +
           url + R"(repodata/repomd.xml</url>
   </resources>
  </file>
 </files>
</metalink>
)";
}
}  // namespace

TEST_F(Metadata, FollowsAMetalinkAndChecksRepomdAgainstIt) {
    fs::path repomd = repo_dir_ / "repodata/repomd.xml";
    write_file(tmp_.path() / "metalink", metalink_for(repomd, url(), sha256sum(repomd)));
    RepoConfig r = http_repo();
    r.baseurls.clear();
    r.metalink = server_->url() + "/metalink?repo=tiny&arch=x86_64";
    auto md = MetadataFetcher(cache_).fetch(r);
    ASSERT_TRUE(md);
    EXPECT_EQ(md->base_url, url());
    EXPECT_EQ(md->revision, sha256sum(repomd));
}

TEST_F(Metadata, RepomdThatDoesNotMatchTheMetalinkIsRefused) {
    fs::path repomd = repo_dir_ / "repodata/repomd.xml";
    write_file(tmp_.path() / "metalink", metalink_for(repomd, url(), std::string(64, '0')));
    RepoConfig r = http_repo();
    r.baseurls.clear();
    r.metalink = server_->url() + "/metalink?repo=tiny";
    std::string err = fetch_error(r);
    EXPECT_EQ(err.rfind("repo tiny: ", 0), 0u) << err;
    EXPECT_NE(err.find(r.metalink), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(cache_) && !fs::is_empty(cache_) &&
                 std::any_of(fs::directory_iterator(cache_), fs::directory_iterator(),
                             [](const fs::directory_entry& e) { return e.path().filename().string()[0] != '.'; }))
        << "nothing cached";
}

TEST_F(Metadata, SecondRunWithUnchangedRepomdDownloadsOnlyRepomd) {
    auto first = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(first);
    server_->clear_requests();
    auto second = MetadataFetcher(cache_, &log_).fetch(http_repo());
    ASSERT_TRUE(second);
    EXPECT_EQ(server_->requests(), std::vector<std::string>{"/repo/repodata/repomd.xml"});
    EXPECT_EQ(second->dir, first->dir);
    EXPECT_EQ(second->primary, first->primary);
    EXPECT_EQ(second->revision, first->revision);
    EXPECT_EQ(second->base_url, url());
    EXPECT_TRUE(log_.said("repo tiny: metadata unchanged"));
}

TEST_F(Metadata, ChangedRepomdDownloadsAgain) {
    auto first = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(first);
    add_package("tiny-b");
    server_->clear_requests();
    auto second = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(second);
    EXPECT_NE(second->revision, first->revision);
    EXPECT_EQ(second->dir, first->dir) << "same URL config, same cache entry";
    EXPECT_NE(read_file(second->primary).size(), 0u);
    EXPECT_EQ(read_file(second->primary), read_file(repo_dir_ / href("primary")));
    auto reqs = server_->requests();
    EXPECT_NE(std::find(reqs.begin(), reqs.end(), "/repo/" + href("primary")), reqs.end());
    EXPECT_FALSE(fs::exists(first->primary)) << "the old primary went with the old entry";
}

TEST_F(Metadata, DifferentUrlsGetDifferentCacheEntries) {
    auto over_http = MetadataFetcher(cache_).fetch(http_repo());
    RepoConfig r = http_repo();
    r.baseurls = {"file://" + repo_dir_.string()};
    auto over_file = MetadataFetcher(cache_).fetch(r);
    ASSERT_TRUE(over_http && over_file);
    EXPECT_NE(over_http->dir, over_file->dir);
}

TEST_F(Metadata, CorruptPrimaryIsAnErrorNamingRepoAndFile) {
    server_->serve_bytes("/repo/" + href("primary"), "this is not the primary metadata");
    std::string err = fetch_error(http_repo());
    EXPECT_EQ(err.rfind("repo tiny: corrupt metadata from " + url() + ": ", 0), 0u) << err;
    EXPECT_NE(err.find("primary"), std::string::npos) << err;
}

TEST_F(Metadata, TruncatedPrimaryIsAnError) {
    server_->cut_after("/repo/" + href("primary"), 20);
    std::string err = fetch_error(http_repo());
    EXPECT_EQ(err.rfind("repo tiny: ", 0), 0u) << err;
    EXPECT_NE(err.find("primary"), std::string::npos) << err;
}

TEST_F(Metadata, TruncatedRepomdXmlIsAnError) {
    std::string repomd = read_file(repo_dir_ / "repodata/repomd.xml");
    server_->serve_bytes("/repo/repodata/repomd.xml", repomd.substr(0, repomd.size() / 2));
    std::string err = fetch_error(http_repo());
    EXPECT_EQ(err.rfind("repo tiny: corrupt metadata from " + url() + ": ", 0), 0u) << err;
}

TEST_F(Metadata, FailedFetchLeavesTheOldCacheIntact) {
    auto first = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(first);
    std::string old_primary = read_file(first->primary);
    add_package("tiny-b");
    server_->serve_bytes("/repo/" + href("primary"), "garbage");
    EXPECT_NE(fetch_error(http_repo()), "(no error)");
    EXPECT_EQ(read_file(first->primary), old_primary);
    EXPECT_EQ(sha256sum(first->repomd), first->revision);
    for (const auto& e : fs::directory_iterator(cache_)) {
        std::string f = e.path().filename().string();
        EXPECT_TRUE(f == first->dir.filename() || f.rfind(".tiny-", 0) == 0) << "left over: " << f;
        if (f.rfind(".tiny-", 0) == 0) {
            EXPECT_FALSE(fs::is_directory(e.path())) << "temp dir left: " << f;
        }
    }
    server_->clear_faults();
    auto third = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(third);
    EXPECT_EQ(third->revision, sha256sum(repo_dir_ / "repodata/repomd.xml"));
}

TEST_F(Metadata, DamagedCacheIsDownloadedAgain) {
    auto first = MetadataFetcher(cache_).fetch(http_repo());
    ASSERT_TRUE(first);
    write_file(first->primary, "damaged on disk");
    auto second = MetadataFetcher(cache_, &log_).fetch(http_repo());
    ASSERT_TRUE(second);
    EXPECT_EQ(read_file(second->primary), read_file(repo_dir_ / href("primary")));
    EXPECT_TRUE(log_.said("repo tiny: cached metadata is damaged"));
}

TEST_F(Metadata, NotFoundIsOneLineNamingRepoAndUrl) {
    server_->fail_with("/repo/repodata/repomd.xml", 404);
    std::string err = fetch_error(http_repo());
    EXPECT_EQ(err.rfind("repo tiny: cannot download metadata from " + url() + ": ", 0), 0u) << err;
    EXPECT_NE(err.find("404"), std::string::npos) << err;
}

TEST_F(Metadata, UnreachableRepoIsOneLineNamingRepoAndUrl) {
    RepoConfig r = http_repo();
    std::string dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/repo/";
    r.baseurls = {dead};
    std::string err = fetch_error(r);
    EXPECT_EQ(err.rfind("repo tiny: cannot download metadata from " + dead + ": ", 0), 0u) << err;
}

TEST_F(Metadata, SkipIfUnavailableReturnsNothingAndSaysWhy) {
    RepoConfig r = http_repo(true);
    r.baseurls = {"http://127.0.0.1:" + std::to_string(closed_port()) + "/repo/"};
    auto md = MetadataFetcher(cache_, &log_).fetch(r);
    EXPECT_FALSE(md);
    EXPECT_TRUE(log_.said("repo tiny: cannot download metadata from " + r.baseurls[0])) << log_.lines.size();
    EXPECT_TRUE(log_.said("skip_if_unavailable"));
}

TEST_F(Metadata, DisabledRepoIsNotFetched) {
    RepoConfig r = http_repo();
    r.enabled = false;
    EXPECT_FALSE(MetadataFetcher(cache_).fetch(r));
    EXPECT_TRUE(server_->requests().empty());
}

// The test server itself: what librepo relies on.
TEST(HttpServer, ServesGetHeadRangesAndFaults) {
    test::TempDir dir;
    write_file(dir.path() / "f.txt", "0123456789");
    test::HttpServer server(dir.path());
    EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));

    std::string get = raw_request(server.port(), "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(get.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << get;
    EXPECT_NE(get.find("Content-Length: 10\r\n"), std::string::npos) << get;
    EXPECT_EQ(get.substr(get.size() - 10), "0123456789");

    std::string head = raw_request(server.port(), "HEAD /f.txt HTTP/1.1\r\n\r\n");
    EXPECT_NE(head.find("Content-Length: 10\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << "no body";

    std::string range = raw_request(server.port(), "GET /f.txt HTTP/1.1\r\nRange: bytes=4-\r\n\r\n");
    EXPECT_EQ(range.rfind("HTTP/1.1 206 ", 0), 0u) << range;
    EXPECT_NE(range.find("Content-Range: bytes 4-9/10\r\n"), std::string::npos) << range;
    EXPECT_EQ(range.substr(range.size() - 6), "456789");
    EXPECT_EQ(raw_request(server.port(), "GET /f.txt HTTP/1.1\r\nRange: bytes=20-\r\n\r\n").rfind("HTTP/1.1 416 ", 0),
              0u);

    EXPECT_EQ(raw_request(server.port(), "GET /missing HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
    EXPECT_EQ(raw_request(server.port(), "GET /../etc/passwd HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 403 ", 0), 0u);

    server.fail_with("/f.txt", 503);
    EXPECT_EQ(raw_request(server.port(), "GET /f.txt HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503 ", 0), 0u);
    server.clear_faults();
    server.serve_bytes("/f.txt", "XY");
    std::string replaced = raw_request(server.port(), "GET /f.txt?x=1 HTTP/1.1\r\n\r\n");
    EXPECT_EQ(replaced.substr(replaced.size() - 2), "XY");
    server.clear_faults();
    server.cut_after("/f.txt", 3);
    std::string cut = raw_request(server.port(), "GET /f.txt HTTP/1.1\r\n\r\n");
    EXPECT_NE(cut.find("Content-Length: 10\r\n"), std::string::npos);
    EXPECT_EQ(cut.substr(cut.size() - 5), "\r\n012") << "closed after 3 body bytes";

    auto reqs = server.requests();
    EXPECT_EQ(reqs.size(), 9u);
    EXPECT_EQ(reqs.front(), "/f.txt");
    server.clear_requests();
    EXPECT_TRUE(server.requests().empty());
}
