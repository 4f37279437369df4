#include "repo/state/bundle_manifest.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
using nlohmann::json;
using test::error_of;

namespace {

const std::string kSha(64, 'a');

BundleManifest sample() {
    BundleManifest m;
    m.id = "0b9d6a3e-4f1c-4c2a-9e77-2f6d1b8c5a10";
    m.serial = 1764079200;
    m.created = "2026-11-25T14:00:00Z";
    m.expires = "2027-02-23T14:00:00Z";
    m.source_manifest = "ovirt-4.3-el7";
    m.roles = {"engine", "host"};
    m.target_versions = {{"engine", {{"ovirt-engine", "4.3.10.4-1.el7"}, {"ovirt-engine-setup", "4.3.10.4-1.el7"}}},
                         {"host", {{"vdsm", "4.30.46-1.el7"}}}};
    m.repos = {{"centos-base", "CentOS-7 - Base", "repos/centos-base", {"keys/RPM-GPG-KEY-CentOS-7"}},
               {"ovirt-4.3", "Latest oVirt 4.3 Release", "repos/ovirt-4.3", {"keys/RPM-GPG-ovirt-4.3"}}};
    m.files = {{"keys/RPM-GPG-KEY-CentOS-7", 1690, kSha},
               {"keys/RPM-GPG-ovirt-4.3", 1711, kSha},
               {"repos/centos-base/Packages/kernel-3.10.0-1160.el7.x86_64.rpm", 52000000, kSha},
               {"repos/centos-base/repodata/repomd.xml", 3000, kSha},
               {"repos/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm", 13000000, kSha},
               {"repos/ovirt-4.3/repodata/repomd.xml", 3000, kSha}};
    m.packages = {{"repos/centos-base/Packages/kernel-3.10.0-1160.el7.x86_64.rpm", "kernel-3.10.0-1160.el7.x86_64",
                   "centos-base", "update"},
                  {"repos/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm",
                   "ovirt-engine-4.3.10.4-1.el7.noarch", "ovirt-4.3", "update"}};
    return m;
}

json sample_json() { return json::parse(serialize_bundle_manifest(sample())); }

// The message of the BundleRefused that parsing `text` throws ("<accepted>" when it does not);
// checks the exit code too.
std::string refusal_of_text(const std::string& text) {
    std::string what = test::error_of<BundleRefused>([&] { parse_bundle_manifest(text); }, 2);
    return what == "<no exception>" ? "<accepted>" : what;
}

std::string refusal(const json& j) { return refusal_of_text(j.dump()); }

}  // namespace

TEST(BundleManifest, RoundTripsThroughItsBytes) {
    BundleManifest m = sample();
    std::string bytes = serialize_bundle_manifest(m);
    EXPECT_EQ(parse_bundle_manifest(bytes), m);
    m.base_bundle = BaseBundle{"11111111-2222-4333-8444-555555555555",
                               1700000000,
                               kSha,
                               {{"repos/ovirt-4.3/Packages/vdsm-4.30.46-1.el7.x86_64.rpm", 900000, kSha}}};
    m.packages.push_back(
        {"repos/ovirt-4.3/Packages/vdsm-4.30.46-1.el7.x86_64.rpm", "vdsm-4.30.46-1.el7.x86_64", "ovirt-4.3", "update"});
    EXPECT_EQ(parse_bundle_manifest(serialize_bundle_manifest(m)), m);
    json j = json::parse(serialize_bundle_manifest(m));
    EXPECT_EQ(j["base_bundle"]["serial"], 1700000000);
    EXPECT_EQ(j["base_bundle"]["files"][0]["path"], "repos/ovirt-4.3/Packages/vdsm-4.30.46-1.el7.x86_64.rpm");
    EXPECT_FALSE(json::parse(bytes).contains("base_bundle"));
}

TEST(BundleManifest, OutputIsDeterministicSortedIndentedAndEndsWithNewline) {
    BundleManifest shuffled = sample();
    std::reverse(shuffled.files.begin(), shuffled.files.end());
    std::reverse(shuffled.packages.begin(), shuffled.packages.end());
    std::reverse(shuffled.repos.begin(), shuffled.repos.end());
    std::reverse(shuffled.roles.begin(), shuffled.roles.end());
    std::string bytes = serialize_bundle_manifest(sample());
    EXPECT_EQ(serialize_bundle_manifest(shuffled), bytes);
    EXPECT_EQ(serialize_bundle_manifest(parse_bundle_manifest(bytes)), bytes);
    EXPECT_EQ(bytes.back(), '\n');
    EXPECT_EQ(bytes.substr(0, 15), "{\n  \"created\": ");
    EXPECT_NE(bytes.find("\n  \"format\": \"ovirt-airgap-bundle/1\",\n"), std::string::npos);
    EXPECT_NE(bytes.find("\"ovirt-engine\": \"4.3.10.4-1.el7\""), std::string::npos);
    json j = json::parse(bytes);
    EXPECT_EQ(j["files"][0]["path"], "keys/RPM-GPG-KEY-CentOS-7");
    EXPECT_EQ(j["files"][5]["path"], "repos/ovirt-4.3/repodata/repomd.xml");
}

TEST(BundleManifest, NotJsonOrNotAnObject) {
    EXPECT_EQ(refusal_of_text("{\"format\": "),
              "bad bundle manifest: not valid JSON: parse error at line 1, column 12: syntax error while parsing "
              "value - unexpected end of input; expected '[', '{', or a literal");
    EXPECT_EQ(refusal_of_text("[]"), "bad bundle manifest: not a JSON object");
}

TEST(BundleManifest, WrongFormatIsRefusedFirst) {
    json j = sample_json();
    j["format"] = "ovirt-airgap-bundle/2";
    j.erase("id");
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: format is \"ovirt-airgap-bundle/2\", expected \"ovirt-airgap-bundle/1\" (a bundle "
              "made by a newer ovirt-bundler?)");
    j.erase("format");
    EXPECT_EQ(refusal(j), "bad bundle manifest: format is missing");
}

TEST(BundleManifest, MissingFields) {
    for (const char* key : {"id", "serial", "created", "expires", "source_manifest", "roles", "target_versions",
                            "repos", "files", "packages"}) {
        json j = sample_json();
        j.erase(key);
        EXPECT_EQ(refusal(j), std::string("bad bundle manifest: ") + key + " is missing");
    }
    json j = sample_json();
    j["files"][3].erase("sha256");
    EXPECT_EQ(refusal(j), "bad bundle manifest: files[3].sha256 is missing");
    j = sample_json();
    j["repos"][1].erase("gpgkeys");
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[1].gpgkeys is missing");
    j = sample_json();
    j["packages"][0].erase("reason");
    EXPECT_EQ(refusal(j), "bad bundle manifest: packages[0].reason is missing");
}

TEST(BundleManifest, WrongTypes) {
    json j = sample_json();
    j["serial"] = "42";
    EXPECT_EQ(refusal(j), "bad bundle manifest: serial must be a non-negative integer");
    j = sample_json();
    j["serial"] = -1;
    EXPECT_EQ(refusal(j), "bad bundle manifest: serial must be a non-negative integer");
    j = sample_json();
    j["files"][2]["size"] = -5;
    EXPECT_EQ(refusal(j), "bad bundle manifest: files[2].size must be a non-negative integer");
    j = sample_json();
    j["files"][2]["size"] = 1.5;
    EXPECT_EQ(refusal(j), "bad bundle manifest: files[2].size must be a non-negative integer");
    j = sample_json();
    j["files"] = json::object();
    EXPECT_EQ(refusal(j), "bad bundle manifest: files must be an array");
    j = sample_json();
    j["files"][0] = "keys/x";
    EXPECT_EQ(refusal(j), "bad bundle manifest: files[0] must be an object");
    j = sample_json();
    j["id"] = 7;
    EXPECT_EQ(refusal(j), "bad bundle manifest: id must be a string");
    j = sample_json();
    j["target_versions"]["engine"] = json::array();
    EXPECT_EQ(refusal(j), "bad bundle manifest: target_versions.engine must be an object");
    j = sample_json();
    j["target_versions"]["engine"]["ovirt-engine"] = 4.3;
    EXPECT_EQ(refusal(j), "bad bundle manifest: target_versions.engine.ovirt-engine must be a string");
    j = sample_json();
    j["base_bundle"] = {{"id", "11111111-2222-4333-8444-555555555555"}, {"serial", "1"}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.serial must be a non-negative integer");
}

TEST(BundleManifest, UnknownAndDuplicateKeys) {
    json j = sample_json();
    j["signature"] = "x";
    EXPECT_EQ(refusal(j), "bad bundle manifest: signature is not a known key");
    j = sample_json();
    j["files"][1]["mode"] = 420;
    EXPECT_EQ(refusal(j), "bad bundle manifest: files[1].mode is not a known key");
    std::string text = sample_json().dump();
    text.insert(1, "\"serial\": 1, ");
    EXPECT_EQ(refusal_of_text(text), "bad bundle manifest: key \"serial\" appears twice in one object");
}

TEST(BundleManifest, Sha256MustBe64LowercaseHex) {
    for (const std::string& bad : {std::string(63, 'a'), std::string(64, 'A'), std::string(63, 'a') + "g"}) {
        json j = sample_json();
        j["files"][1]["sha256"] = bad;
        EXPECT_EQ(refusal(j), "bad bundle manifest: files[1].sha256 must be 64 lowercase hex digits");
    }
}

TEST(BundleManifest, UnsafeFilePathsAreRefusedWithTheirPlace) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/etc/passwd", "files[3].path \"/etc/passwd\" is absolute"},
        {"repos/../../etc/passwd", "files[3].path \"repos/../../etc/passwd\" contains '..'"},
        {"..", "files[3].path \"..\" contains '..'"},
        {"repos//x.rpm", "files[3].path \"repos//x.rpm\" has an empty component"},
        {"repos/x/", "files[3].path \"repos/x/\" has an empty component"},
        {"repos/./x.rpm", "files[3].path \"repos/./x.rpm\" contains a '.' component"},
        {"repos\\x.rpm", "files[3].path \"repos\\\\x.rpm\" contains a backslash"},
        {"repos/x\n.rpm", "files[3].path \"repos/x\\n.rpm\" contains a control character"},
        {"", "files[3].path \"\" is empty"},
        {"bundle.json", "files[3].path \"bundle.json\" names the manifest or its signature"},
        {"keys/RPM-GPG-ovirt-4.3", "files[3].path \"keys/RPM-GPG-ovirt-4.3\" is duplicated (also files[1])"},
    };
    for (const auto& [path, message] : cases) {
        json j = sample_json();
        j["files"][3]["path"] = path;
        // Keep the package pointing at a listed file, so that only the path is at fault.
        j["packages"][1]["path"] = j["files"][4]["path"];
        EXPECT_EQ(refusal(j), "bad bundle manifest: " + message) << path;
    }
    json j = sample_json();
    j["files"].push_back(j["files"][0]);
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: files[6].path \"keys/RPM-GPG-KEY-CentOS-7\" is duplicated (also files[0])");
    j = sample_json();
    j["repos"][0]["path"] = "/srv/repo";
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[0].path \"/srv/repo\" is absolute");
    j = sample_json();
    j["repos"][0]["gpgkeys"][0] = "../key";
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[0].gpgkeys[0] \"../key\" contains '..'");
    j = sample_json();
    j["packages"][1]["path"] = "/tmp/x.rpm";
    EXPECT_EQ(refusal(j), "bad bundle manifest: packages[1].path \"/tmp/x.rpm\" is absolute");
}

TEST(BundleManifest, UnsafePathReason) {
    EXPECT_EQ(unsafe_path_reason("repos/a/Packages/x.rpm"), std::nullopt);
    EXPECT_EQ(unsafe_path_reason("..hidden/x..y"), std::nullopt);
    EXPECT_EQ(unsafe_path_reason("/x"), std::optional<std::string>("is absolute"));
    EXPECT_EQ(unsafe_path_reason("a/.."), std::optional<std::string>("contains '..'"));
    EXPECT_EQ(unsafe_path_reason(std::string(256, 'a')),
              std::optional<std::string>("has a component longer than 255 bytes"));
}

// What could never be staged is refused when read, and so is a repo whose metadata would be
// read unchecked (`files: []`).
TEST(BundleManifest, EveryListedFileCanBeStagedAndEveryRepoHasItsMetadataListed) {
    json j = sample_json();
    j["files"].push_back({{"path", "keys/RPM-GPG-KEY-CentOS-7/x"}, {"size", 1}, {"sha256", kSha}});
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: path \"keys/RPM-GPG-KEY-CentOS-7/x\" is inside "
              "\"keys/RPM-GPG-KEY-CentOS-7\", which is listed as a file");
    j = sample_json();
    std::string deep;
    for (int i = 0; i < 5; ++i) deep += std::string(250, 'd') + "/";
    j["files"].push_back({{"path", deep + "x"}, {"size", 1}, {"sha256", kSha}});
    EXPECT_EQ(refusal(j), "bad bundle manifest: path \"" + std::string(40, 'd') + "...\" is longer than 1024 bytes");
    j = sample_json();
    j["files"] = json::array();
    j["packages"] = json::array();
    j["repos"][0]["gpgkeys"] = json::array();
    j["repos"][1]["gpgkeys"] = json::array();
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: repos[0].path \"repos/centos-base\": its repodata/repomd.xml is not in files");
}

// A serial at the top of the range would freeze every later update; a bundle made in the future
// means a wrong clock.
TEST(BundleManifest, NoFreezingSerialAndNoCreationInTheFuture) {
    json j = sample_json();
    j["serial"] = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: serial 18446744073709551615 is above 9007199254740991 (2^53-1): no "
              "later bundle could be newer");
    BundleManifest m = sample();
    auto created = *parse_rfc3339(m.created);
    EXPECT_NO_THROW(check_not_expired(m, created - std::chrono::minutes(59)));
    EXPECT_EQ(error_of<BundleRefused>([&] { check_not_expired(m, created - std::chrono::hours(2)); }),
              "bundle created on 2026-11-25T14:00:00Z, in the future: check this machine's clock");
}

TEST(BundleManifest, IdsAndTimes) {
    json j = sample_json();
    j["id"] = "0B9D6A3E-4F1C-4C2A-9E77-2F6D1B8C5A10";
    EXPECT_EQ(refusal(j), "bad bundle manifest: id \"0B9D6A3E-4F1C-4C2A-9E77-2F6D1B8C5A10\" is not a lowercase UUID");
    j = sample_json();
    j["created"] = "2026-11-25 14:00:00";
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: created \"2026-11-25 14:00:00\" is not an RFC 3339 UTC time "
              "(YYYY-MM-DDTHH:MM:SSZ)");
    j = sample_json();
    j["expires"] = "2026-11-25T13:59:59Z";
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: expires \"2026-11-25T13:59:59Z\" is not after created \"2026-11-25T14:00:00Z\"");
    j = sample_json();
    j["base_bundle"] = {{"id", "11111111-2222-4333-8444-555555555555"},
                        {"serial", 1764079200},
                        {"manifest_sha256", kSha},
                        {"files", json::array()}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.serial 1764079200 is not lower than serial 1764079200");
    j["base_bundle"] = {{"id", "x"}, {"serial", 1}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.id \"x\" is not a lowercase UUID");
    j["base_bundle"] = {{"id", "11111111-2222-4333-8444-555555555555"}, {"serial", 1}, {"path", "x"}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.path is not a known key");
}

TEST(BundleManifest, BaseBundleFilesAreCheckedLikeFilesAndKeptApart) {
    json base = {{"id", "11111111-2222-4333-8444-555555555555"},
                 {"serial", 1},
                 {"manifest_sha256", kSha},
                 {"files", json::array()}};
    json j = sample_json();
    j["base_bundle"] = base;
    EXPECT_EQ(refusal(j), "<accepted>");
    j["base_bundle"]["manifest_sha256"] = "ABC";
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.manifest_sha256 must be 64 lowercase hex digits");
    j["base_bundle"] = base;
    j["base_bundle"].erase("files");
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.files is missing");
    j["base_bundle"] = base;
    j["base_bundle"]["files"] = {{{"path", "../x.rpm"}, {"size", 1}, {"sha256", kSha}}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.files[0].path \"../x.rpm\" contains '..'");
    j["base_bundle"]["files"] = {{{"path", "keys/RPM-GPG-ovirt-4.3"}, {"size", 1711}, {"sha256", kSha}}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.files[0].path \"keys/RPM-GPG-ovirt-4.3\" is also in files");
    j["base_bundle"]["id"] = j["id"];
    j["base_bundle"]["files"] = json::array();
    EXPECT_EQ(refusal(j), "bad bundle manifest: base_bundle.id is the bundle's own id");
    // A package must be on one of the two media.
    j = sample_json();
    j["base_bundle"] = base;
    j["packages"][0]["path"] = "repos/centos-base/Packages/elsewhere.rpm";
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: packages[0].path \"repos/centos-base/Packages/elsewhere.rpm\" is not in files nor "
              "in base_bundle.files");
}

TEST(BundleManifest, RolesAndTargetVersions) {
    json j = sample_json();
    j["roles"].push_back("web");
    EXPECT_EQ(refusal(j), "bad bundle manifest: roles[2] \"web\" is not engine, host or node");
    j = sample_json();
    j["roles"].push_back("host");
    EXPECT_EQ(refusal(j), "bad bundle manifest: roles[2] \"host\" is duplicated");
    j = sample_json();
    j["target_versions"]["node"] = {{"ovirt-node-ng-image-update", "4.3.10-1.el7"}};
    EXPECT_EQ(refusal(j), "bad bundle manifest: target_versions.node is not one of this bundle's roles");
    j = sample_json();
    j["target_versions"]["engine"]["ovirt-engine"] = "4.3.10 4";
    EXPECT_EQ(refusal(j), "bad bundle manifest: target_versions.engine.ovirt-engine \"4.3.10 4\" contains whitespace");
}

TEST(BundleManifest, ReposAndPackagesReferToEachOther) {
    json j = sample_json();
    j["repos"][1]["id"] = "../ovirt";
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[1].id \"../ovirt\" is not a valid repo id");
    j = sample_json();
    j["repos"][1]["id"] = "centos-base";
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[1].id \"centos-base\" is duplicated (also repos[0])");
    j = sample_json();
    j["repos"][1]["name"] = "Latest\noVirt";
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[1].name \"Latest\\noVirt\" contains a control character");
    j = sample_json();
    j["repos"][1]["gpgkeys"].push_back("keys/missing");
    EXPECT_EQ(refusal(j), "bad bundle manifest: repos[1].gpgkeys[1] \"keys/missing\" is not in files");
    j = sample_json();
    j["packages"][1]["repo"] = "epel";
    EXPECT_EQ(refusal(j), "bad bundle manifest: packages[1].repo \"epel\" is not a repo of this bundle");
    j = sample_json();
    j["packages"][1]["path"] = "repos/ovirt-4.3/Packages/missing.rpm";
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: packages[1].path \"repos/ovirt-4.3/Packages/missing.rpm\" is not in files");
    j = sample_json();
    j["packages"][1]["repo"] = "centos-base";
    EXPECT_EQ(
        refusal(j),
        "bad bundle manifest: packages[1].path \"repos/ovirt-4.3/Packages/ovirt-engine-4.3.10.4-1.el7.noarch.rpm\""
        " is not inside its repo's path \"repos/centos-base\"");
    j = sample_json();
    j["packages"][1]["nevra"] = "ovirt-engine 4.3";
    EXPECT_EQ(refusal(j), "bad bundle manifest: packages[1].nevra \"ovirt-engine 4.3\" contains whitespace");
    j = sample_json();
    j["packages"].push_back(j["packages"][0]);
    EXPECT_EQ(refusal(j),
              "bad bundle manifest: packages[2].path "
              "\"repos/centos-base/Packages/kernel-3.10.0-1160.el7.x86_64.rpm\" is duplicated (also packages[0])");
}

TEST(BundleManifest, SerializeRefusesWhatAReaderWouldRefuse) {
    BundleManifest m = sample();
    m.files[0].sha256 = "abc";
    EXPECT_EQ(error_of<BundleRefused>([&] { serialize_bundle_manifest(m); }),
              "bad bundle manifest: files[0].sha256 must be 64 lowercase hex digits");
}

TEST(BundleManifest, Expiry) {
    BundleManifest m = sample();
    auto expires = *parse_rfc3339(m.expires);
    EXPECT_NO_THROW(check_not_expired(m, expires - std::chrono::seconds(1)));
    EXPECT_EQ(error_of<BundleRefused>([&] { check_not_expired(m, expires); }),
              "bundle expired on 2027-02-23T14:00:00Z");
    EXPECT_EQ(error_of<BundleRefused>([&] { check_not_expired(m, expires + std::chrono::hours(24 * 400)); }),
              "bundle expired on 2027-02-23T14:00:00Z");
}

TEST(BundleManifest, AntiRollback) {
    BundleManifest m = sample();
    EXPECT_NO_THROW(check_serial(m, std::nullopt));
    EXPECT_NO_THROW(check_serial(m, m.serial - 1));
    EXPECT_EQ(error_of<BundleRefused>([&] { check_serial(m, m.serial); }),
              "bundle serial 1764079200 is not newer than the last applied serial 1764079200 (rollback refused)");
    EXPECT_EQ(error_of<BundleRefused>([&] { check_serial(m, 1800000000); }),
              "bundle serial 1764079200 is not newer than the last applied serial 1800000000 (rollback refused)");
}

TEST(BundleManifest, NewIdsAreRandomUuidV4) {
    std::string a = new_bundle_id(), b = new_bundle_id();
    EXPECT_NE(a, b);
    EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << a;
    BundleManifest m = sample();
    m.id = a;
    EXPECT_EQ(parse_bundle_manifest(serialize_bundle_manifest(m)).id, a);
}
