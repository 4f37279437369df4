// Incremental bundles end to end (`build --since`; base_bundle in docs/bundle-format.md). A site
// first carries a bundle for its engine (A), later one for engine and hosts built --since A (B):
// B's medium holds only what A lacks, its signed bundle.json pins the rest by SHA-256, and the
// applier, given both media, updates a host and an engine root with real dnf to what a connected
// update reaches. Missing, wrong or tampered bases are refused with nothing changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "repo/archive/sha256.hpp"
#include "tests/shared/http_server.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap::test;
using nlohmann::json;

namespace {

class IncrementalE2E : public ::testing::Test {
public:
    void SetUp() override {
        ASSERT_TRUE(world_is_built());
        server_ = std::make_unique<HttpServer>(world_dir() / "repos");
        CommandResult k = run_binary("ovirt-bundler", {"keygen", "--out", (tmp_.path() / "keys").string()});
        ASSERT_EQ(k.exit_code, 0) << k.err;
        for (const char* role : {"engine", "host"}) {
            fs::path root = copy_world_root(std::string(role) + "-4.3.7", tmp_.path() / "inv" / role);
            CommandResult i = run_binary("ovirt-applier", {"inventory", "--role", role, "--root", root.string(), "-o",
                                                           inventory(role).string()});
            ASSERT_EQ(i.exit_code, 0) << i.err;
        }
        // A: the engine's update. B: engine and hosts, since A.
        CommandResult a = build(base_tar(), {"--inventory", inventory("engine").string(), "--serial", "100"});
        ASSERT_EQ(a.exit_code, 0) << a.err;
        CommandResult b = build(incremental(), {"--inventory", inventory("engine").string(), "--inventory",
                                                inventory("host").string(), "--since", base_tar().string()});
        ASSERT_EQ(b.exit_code, 0) << b.err;
        build_log_ = b.err;
        // An unpacked copy of each, to read as a security officer would.
        for (const auto& [archive, dir] : {std::pair{base_tar(), unpacked_base()}, {incremental(), unpacked_b()}}) {
            fs::create_directories(dir);
            must({"bsdtar", "-xf", archive.string(), "-C", dir.string()});
        }
    }

    fs::path inventory(const std::string& role) const { return tmp_.path() / (role + ".inventory"); }
    fs::path cert() const { return tmp_.path() / "keys/signing-cert.pem"; }
    fs::path base_tar() const { return tmp_.path() / "A.tar"; }
    fs::path incremental() const { return tmp_.path() / "B.iso"; }
    fs::path unpacked_base() const { return tmp_.path() / "A"; }
    fs::path unpacked_b() const { return tmp_.path() / "B"; }

    CommandResult build(const fs::path& out, const std::vector<std::string>& extra) {
        std::vector<std::string> argv = {binary("ovirt-bundler").string(), "build", "-m",
                                         (world_dir() / "manifest.yaml").string()};
        for (const auto& arg : world_repo_url_args(server_->url())) argv.push_back(arg);
        argv.insert(argv.end(), {"--cache", (tmp_.path() / "cache").string(), "--sign-key",
                                 (tmp_.path() / "keys/signing-key.pem").string(), "--sign-cert", cert().string(), "-o",
                                 out.string()});
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    }

    // ovirt-applier COMMAND B (or `bundle`) against `root`, with EXTRA options.
    CommandResult apply(const std::string& command, const fs::path& root, const fs::path& state,
                        const std::vector<std::string>& extra, const fs::path& bundle = {}) {
        std::vector<std::string> argv =
            applier_argv(command, bundle.empty() ? incremental() : bundle, cert(), root, state);
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_command(argv);
    }

    TempDir tmp_;
    std::unique_ptr<HttpServer> server_;
    std::string build_log_;
};

json manifest_of(const fs::path& dir) { return json::parse(read_file(dir / "bundle.json")); }

// path -> sha256 of a "files"-shaped JSON array.
std::map<std::string, std::string> by_path(const json& files) {
    std::map<std::string, std::string> out;
    for (const auto& f : files) out[f["path"].get<std::string>()] = f["sha256"].get<std::string>();
    return out;
}

std::string listing(const fs::path& root) {
    std::string out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        out += e.path().lexically_relative(root).string();
        if (e.is_regular_file()) out += " " + sha256sum(e.path());
        out += "\n";
    }
    return out;
}

}  // namespace

TEST_F(IncrementalE2E, CarriesOnlyWhatItsBaseLacksAndPinsTheRest) {
    json a = manifest_of(unpacked_base());
    json b = manifest_of(unpacked_b());
    ASSERT_TRUE(b.contains("base_bundle")) << b.dump(2);
    EXPECT_FALSE(a.contains("base_bundle"));
    const json& base = b["base_bundle"];
    EXPECT_EQ(base["id"], a["id"]);
    EXPECT_EQ(base["serial"], 100);
    EXPECT_GT(b["serial"].get<std::uint64_t>(), 100u);
    EXPECT_EQ(base["manifest_sha256"], sha256sum(unpacked_base() / "bundle.json"));

    // The engine's packages come from A, byte for byte; B's medium has the hosts' only.
    auto a_files = by_path(a["files"]), b_files = by_path(b["files"]), lent = by_path(base["files"]);
    EXPECT_FALSE(lent.empty());
    for (const auto& [path, sha] : lent) {
        EXPECT_EQ(a_files.count(path), 1u) << path;
        EXPECT_EQ(a_files[path], sha) << path;
        EXPECT_FALSE(fs::exists(unpacked_b() / path)) << path << " is on B's medium too";
    }
    std::size_t carried = 0;
    for (const auto& p : b["packages"]) {
        std::string path = p["path"];
        EXPECT_TRUE(b_files.count(path) + lent.count(path) == 1) << path;
        if (b_files.count(path)) {
            ++carried;
            EXPECT_NE(a_files[path], b_files[path]) << path << " is in A, yet carried again";
        }
    }
    EXPECT_GT(carried, 0u) << "the hosts' packages are new in B";
    EXPECT_NE(build_log_.find("incremental on bundle " + a["id"].get<std::string>() + " (serial 100): " +
                              std::to_string(lent.size()) + " of " + std::to_string(b["packages"].size()) +
                              " package(s) taken from it, " + std::to_string(carried) + " carried"),
              std::string::npos)
        << build_log_;

    // Signed like any bundle: openssl checks it.
    CommandResult v =
        openssl({"cms", "-verify", "-binary", "-inform", "DER", "-content", (unpacked_b() / "bundle.json").string(),
                 "-in", (unpacked_b() / "bundle.json.p7s").string(), "-CAfile", cert().string(), "-purpose", "any",
                 "-out", "/dev/null"});
    EXPECT_EQ(v.exit_code, 0) << v.err;

    // B's repodata describe every package: with A's files beside B's, dnf repoclosure is clean.
    fs::path both = tmp_.path() / "both";
    fs::copy(unpacked_base(), both, fs::copy_options::recursive);
    fs::copy(unpacked_b(), both, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    std::vector<std::string> closure = {"dnf",
                                        "-q",
                                        "--disableplugin=*",
                                        "--enableplugin=repoclosure",
                                        "--setopt=reposdir=/dev/null",
                                        "--releasever=7",
                                        "--forcearch=x86_64"};
    for (const auto& r : b["repos"]) {
        std::string id = r["id"];
        closure.push_back("--repofrompath=" + id + "," + (both / r["path"].get<std::string>()).string());
        closure.push_back("--repo=" + id);
    }
    closure.insert(closure.end(), {"repoclosure", "--check", "ovirt-4.3"});
    CommandResult rc = run_command(closure);
    EXPECT_EQ(rc.exit_code, 0) << rc.out << rc.err;

    // inspect says what comes from the base.
    CommandResult in = run_binary("ovirt-bundler", {"inspect", incremental().string()});
    EXPECT_EQ(in.exit_code, 0) << in.err;
    EXPECT_NE(in.out.find("base:     " + a["id"].get<std::string>() +
                          " (serial 100), incremental: " + std::to_string(lent.size()) + " package(s)"),
              std::string::npos)
        << in.out;
    CommandResult ij = run_binary("ovirt-bundler", {"inspect", incremental().string(), "--json"});
    EXPECT_EQ(json::parse(ij.out)["base_bundle"]["packages"], lent.size());
}

TEST_F(IncrementalE2E, BundlerRefusesAnUnusableSince) {
    fs::path out = tmp_.path() / "C.tar";
    CommandResult r =
        build(out, {"--inventory", inventory("host").string(), "--since", (tmp_.path() / "missing.tar").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: --since " + (tmp_.path() / "missing.tar").string() + ": bundle " +
                         (tmp_.path() / "missing.tar").string() + " does not exist\n");
    r = build(out, {"--inventory", inventory("host").string(), "--since", base_tar().string(), "--serial", "100"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-bundler: error: --serial 100 is not greater than serial 100 of the --since bundle\n");
    EXPECT_FALSE(fs::exists(out));
}

// Two builds within one second would get the same time-based serial; a base given a serial by
// hand may be ahead of the clock. Without --serial the incremental bundle follows its base.
TEST_F(IncrementalE2E, TheDefaultSerialIsAboveTheBaseSerial) {
    fs::path ahead = tmp_.path() / "ahead", next = tmp_.path() / "next";
    CommandResult a =
        build(ahead.string() + "/", {"--inventory", inventory("engine").string(), "--serial", "4000000000"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    CommandResult b =
        build(next.string() + "/", {"--inventory", inventory("host").string(), "--since", ahead.string()});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(manifest_of(next)["serial"], 4000000001u);
}

TEST_F(IncrementalE2E, HostAndEngineUpdateFromTheIncrementalBundleAndItsBase) {
    // verify checks both media and says so.
    CommandResult v = run_binary(
        "ovirt-applier", {"verify", incremental().string(), "--trust", cert().string(), "--base", base_tar().string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_NE(v.out.find(" it lends verified\n"), std::string::npos) << v.out;

    TempDir t;
    fs::path host = copy_world_root("host-4.3.7", t.path() / "h");
    CommandResult h = apply("host", host, t.path() / "host-state", {"--update", "--base", base_tar().string()});
    ASSERT_EQ(h.exit_code, 0) << h.out << h.err;
    EXPECT_EQ(installed_nevras(host), connected_upgrade("host-4.3.7", t.path() / "hc"));
    std::string b_id = manifest_of(unpacked_b())["id"];
    EXPECT_TRUE(fs::is_empty(t.path() / "host-state/staged")) << "unstaged after the update";
    EXPECT_NE(h.out.find("staged a verified copy at " + (t.path() / "host-state/staged" / b_id).string()),
              std::string::npos)
        << h.out;

    // The engine from B with A unpacked as a directory (a mounted medium).
    fs::path engine = copy_world_root("engine-4.3.7", t.path() / "e");
    CommandResult e = apply("engine", engine, t.path() / "engine-state", {"--base", unpacked_base().string()});
    ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
    EXPECT_EQ(installed_nevras(engine), connected_upgrade("engine-4.3.7", t.path() / "ec"));
}

TEST_F(IncrementalE2E, AMissingWrongOrTamperedBaseIsRefusedWithNothingChanged) {
    TempDir t;
    fs::path root = copy_world_root("host-4.3.7", t.path());
    fs::path state = t.path() / "state";
    std::string before = listing(root);
    std::string b_id = manifest_of(unpacked_b())["id"], a_id = manifest_of(unpacked_base())["id"];

    // Without --base: verify checks what B carries and says what is missing; applying is refused.
    CommandResult v = run_binary("ovirt-applier", {"verify", incremental().string(), "--trust", cert().string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_NE(v.out.find("incremental: "), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("give it with --base"), std::string::npos) << v.out;
    CommandResult r = apply("host", root, state, {"--update"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ovirt-applier: error: bundle " + b_id + " is incremental: give the bundle it was built on, " +
                         a_id + " (serial 100), with --base\n");

    // Another bundle as the base: B itself.
    r = apply("host", root, state, {"--update", "--base", incremental().string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "ovirt-applier: error: --base " + incremental().string() + " is not the bundle " + a_id +
                         " (serial 100) that bundle " + b_id + " was built on: it is bundle " + b_id + " (serial " +
                         std::to_string(manifest_of(unpacked_b())["serial"].get<std::uint64_t>()) + ")\n");

    // The right base with one lent package tampered.
    json lent = manifest_of(unpacked_b())["base_bundle"]["files"];
    std::string victim = lent[0]["path"];
    fs::path tampered = t.path() / "A-tampered";
    fs::copy(unpacked_base(), tampered, fs::copy_options::recursive);
    std::string bytes = read_file(tampered / victim);
    bytes[bytes.size() / 2] ^= 0x20;
    write_file(tampered / victim, bytes);
    r = apply("host", root, state, {"--update", "--base", tampered.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "ovirt-applier: error: base bundle " + tampered.string() + ": checksum mismatch for '" + victim + "'\n");

    // A truncated copy of the right base (a medium that failed half way).
    fs::path truncated = t.path() / "A-truncated.tar";
    fs::copy_file(base_tar(), truncated);
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
    r = apply("host", root, state, {"--update", "--base", truncated.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(
        r.err.rfind("ovirt-applier: error: base bundle " + truncated.string() + ": truncated or corrupt archive", 0),
        0u)
        << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;

    // A full bundle does not take a base.
    r = apply("host", root, state, {"--update", "--base", incremental().string()}, base_tar());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err,
              "ovirt-applier: error: --base given, but bundle " + a_id + " is a full bundle: it needs no base\n");

    EXPECT_EQ(listing(root), before);
    EXPECT_FALSE(fs::exists(state / "staged" / b_id));
}
