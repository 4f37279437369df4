#include "repo/apply/enrol.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "repo/apply/held_repos.hpp"
#include "repo/apply/yum_repos.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/sign/signing.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kEnrolledPrefix = "ovirt-airgap-enrolled-";
constexpr std::size_t kMaxFetch = 64u << 20;  // bundle.json, its signature and keys are small

fs::path absolute_root(const fs::path& root) { return root.empty() ? fs::path("/") : root; }

// The bundle's keys, copied where the repo files point gpgkey: yum reads them locally, so
// that the packages' signatures never rest on what the web server says the key is.
fs::path key_dir(const fs::path& root) { return absolute_root(root) / "etc/pki/ovirt-airgap/enrolled"; }

fs::path state_of(const fs::path& state_dir) { return state_dir.empty() ? Journal::default_state_dir() : state_dir; }

size_t collect(char* data, size_t size, size_t n, void* out) {
    auto* text = static_cast<std::string*>(out);
    if (text->size() + size * n > kMaxFetch) return 0;  // larger than anything it may be: stop
    text->append(data, size * n);
    return size * n;
}

// GET `url` over HTTPS, the server's certificate checked against `ca_file` alone (not the
// system's CAs), as yum checks it with sslcacert.
std::string https_get(const std::string& url, const fs::path& ca_file) {
    static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (init != CURLE_OK) throw ConfigError(std::string("cannot initialise libcurl: ") + curl_easy_strerror(init));
    std::unique_ptr<CURL, void (*)(CURL*)> c(curl_easy_init(), curl_easy_cleanup);
    if (!c) throw ConfigError("cannot create a libcurl handle");
    std::string body;
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c.get(), CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(c.get(), CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c.get());
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CONNECT_ERROR)
        throw BundleRefused("refused " + url + ": the server's certificate is not one " + ca_file.string() +
                            " vouches for (" + why + ")");
    if (rc != CURLE_OK) throw ConfigError("cannot fetch " + url + ": " + why);
    long status = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) throw ConfigError("cannot fetch " + url + ": HTTP " + std::to_string(status));
    return body;
}

struct Enrolment {
    std::string url;
    std::string bundle;
    std::vector<fs::path> repo_files;
    std::vector<fs::path> keys;
};

Enrolment load_enrolment(const fs::path& state_dir) {
    Enrolment e;
    fs::path file = enrolment_file(state_dir);
    std::error_code ec;
    if (!fs::exists(file, ec)) return e;
    try {
        std::ifstream in(file);
        json j = json::parse(in);
        e.url = j.at("url").get<std::string>();
        e.bundle = j.value("bundle", "");
        for (const auto& f : j.at("repo_files")) e.repo_files.emplace_back(f.get<std::string>());
        for (const auto& f : j.at("keys")) e.keys.emplace_back(f.get<std::string>());
    } catch (const std::exception& ex) {
        throw ConfigError("cannot read " + file.string() + ": " + ex.what());
    }
    return e;
}

void save_enrolment(const fs::path& state_dir, const Enrolment& e) {
    json j{{"url", e.url}, {"bundle", e.bundle}, {"repo_files", json::array()}, {"keys", json::array()}};
    for (const auto& f : e.repo_files) j["repo_files"].push_back(f.string());
    for (const auto& f : e.keys) j["keys"].push_back(f.string());
    write_file_atomic(enrolment_file(state_dir), j.dump(2) + "\n", 0600);
}

// The served bundle.json, checked as `verify` checks a medium's before anything else is read.
BundleManifest fetch_checked_manifest(const EnrolOptions& o, const std::string& url, const fs::path& state_dir) {
    std::string manifest = https_get(url + "current/bundle.json", o.ca_file);
    std::string signature = https_get(url + "current/bundle.json.p7s", o.ca_file);
    ScratchDir scratch("ovirt-airgap-enrol");
    write_file_atomic(scratch.path() / "bundle.json", manifest, 0600);
    write_file_atomic(scratch.path() / "bundle.json.p7s", signature, 0600);
    try {
        verify_detached(scratch.path() / "bundle.json", scratch.path() / "bundle.json.p7s", o.trust);
    } catch (const BundleRefused& e) {
        throw BundleRefused("the bundle published at " + url + "current/ does not verify: " + e.what());
    }
    BundleManifest m = parse_bundle_manifest(manifest);
    check_not_expired(m, std::chrono::system_clock::now());
    auto a = last_applied_serial(state_dir);
    auto b = last_applied_serial(absolute_root(o.root) / "etc/ovirt-airgap");
    check_serial(m, a && b ? std::max(*a, *b) : (a ? a : b));
    if (std::find(m.roles.begin(), m.roles.end(), "host") == m.roles.end())
        throw BundleRefused("the bundle published at " + url + " (" + m.id + ") is not for role host");
    return m;
}

// Removes what an enrolment wrote and is no longer wanted.
void remove_files(const std::vector<fs::path>& files) {
    for (const auto& f : files) {
        std::error_code ec;
        fs::remove(f, ec);
        if (ec) throw ConfigError("cannot remove " + f.string() + ": " + ec.message());
    }
}

}  // namespace

fs::path enrolment_file(const fs::path& state_dir) { return state_of(state_dir) / "enrolment.json"; }

fs::path enrolled_repofile(const fs::path& root, const std::string& repo_id) {
    return yum_repos_dir(root) / (std::string(kEnrolledPrefix) + repo_id + ".repo");
}

std::string render_enrolled_repofile(const BundleManifest& m, const BundleRepo& r, const std::string& url,
                                     const fs::path& ca_file, const fs::path& keys) {
    std::ostringstream out;
    out << "# Written by ovirt-applier host --from-engine (bundle " << m.id << " was current then); "
        << "removed by host --unenrol.\n";
    out << "[" << kEnrolledPrefix << r.id << "]\n";
    out << "name=ovirt-airgap published by the engine: " << (r.name.empty() ? r.id : r.name) << "\n";
    out << "baseurl=" << url << "current/" << r.path << "/\n";
    out << "enabled=1\n";
    out << "sslverify=1\n";
    out << "sslcacert=" << ca_file.string() << "\n";
    out << "gpgcheck=1\n";
    const std::string asc = r.path + "/repodata/repomd.xml.asc";
    if (std::any_of(m.files.begin(), m.files.end(), [&](const BundleFile& f) { return f.path == asc; }))
        out << "repo_gpgcheck=1\n";
    if (!r.gpgkeys.empty()) {
        out << "gpgkey=";
        for (std::size_t i = 0; i < r.gpgkeys.size(); ++i)
            out << (i ? "\n       " : "") << "file://" << (keys / fs::path(r.gpgkeys[i]).filename()).string();
        out << "\n";
    }
    out << "skip_if_unavailable=0\n";
    // `current` moves to each new bundle: yum must ask for repomd.xml every run, not after 6 hours.
    out << "metadata_expire=0\n";
    return out.str();
}

void enrol_host(const EnrolOptions& o, Reporter& reporter) {
    std::string url = o.url;
    if (url.rfind("https://", 0) != 0) throw ConfigError("--from-engine must be an https:// URL, not '" + url + "'");
    if (url.back() != '/') url += '/';
    if (o.ca_file.empty()) throw ConfigError("--from-engine needs --ca-file (the engine's CA certificate)");
    std::error_code ec;
    if (!fs::is_regular_file(o.ca_file, ec)) throw ConfigError("--ca-file " + o.ca_file.string() + ": no such file");
    fs::path state_dir = state_of(o.state_dir);
    BundleManifest m = fetch_checked_manifest(o, url, state_dir);

    // Every key, fetched and matched against the signed manifest before anything is written.
    std::map<std::string, std::string> keys;
    for (const auto& r : m.repos)
        for (const auto& k : r.gpgkeys) {
            if (keys.count(k)) continue;
            auto listed =
                std::find_if(m.files.begin(), m.files.end(), [&](const BundleFile& f) { return f.path == k; });
            std::string bytes = https_get(url + "current/" + k, o.ca_file);
            if (listed == m.files.end() || bytes.size() != listed->size || sha256_hex(bytes) != listed->sha256)
                throw BundleRefused("the key " + k + " served at " + url + "current/ is not the one bundle " + m.id +
                                    " lists");
            keys[k] = bytes;
        }

    fs::create_directories(state_dir, ec);
    if (ec) throw ConfigError("cannot create state dir " + state_dir.string() + ": " + ec.message());
    FileLock lock(Journal::lock_file(state_dir));
    Enrolment before = load_enrolment(state_dir);
    Enrolment now{url, m.id, {}, {}};
    fs::path kdir = key_dir(o.root);
    for (const auto& [path, bytes] : keys) now.keys.push_back(kdir / fs::path(path).filename());
    for (const auto& r : m.repos) now.repo_files.push_back(enrolled_repofile(o.root, r.id));
    // Recorded first, with what an earlier enrolment wrote: an interrupted enrolment is undone
    // by --unenrol all the same.
    Enrolment record = now;
    for (const auto& f : before.repo_files)
        if (std::find(record.repo_files.begin(), record.repo_files.end(), f) == record.repo_files.end())
            record.repo_files.push_back(f);
    for (const auto& f : before.keys)
        if (std::find(record.keys.begin(), record.keys.end(), f) == record.keys.end()) record.keys.push_back(f);
    save_enrolment(state_dir, record);

    fs::create_directories(kdir, ec);
    for (const auto& [path, bytes] : keys) write_file_atomic(kdir / fs::path(path).filename(), bytes, 0644);
    fs::create_directories(yum_repos_dir(o.root), ec);
    fs::path ca = fs::absolute(o.ca_file).lexically_normal();
    for (const auto& r : m.repos) {
        fs::path file = enrolled_repofile(o.root, r.id);
        write_file_atomic(file, render_enrolled_repofile(m, r, url, ca, kdir), 0644);
        reporter.message("wrote " + file.string());
    }
    std::vector<fs::path> stale;
    for (const auto& f : record.repo_files)
        if (std::find(now.repo_files.begin(), now.repo_files.end(), f) == now.repo_files.end()) stale.push_back(f);
    for (const auto& f : record.keys)
        if (std::find(now.keys.begin(), now.keys.end(), f) == now.keys.end()) stale.push_back(f);
    remove_files(stale);
    save_enrolment(state_dir, now);
    for (const auto& f : hold_repos(o.root, state_dir, "published at " + url))
        reporter.message("disabled the repos of " + f.string() + " while the host is enrolled");
    reporter.message("enrolled with " + url + ": bundle " + m.id + " (serial " + std::to_string(m.serial) +
                     ") is current there; the Engine's host upgrade now installs what the engine publishes");
}

void unenrol_host(const fs::path& state_dir_in, Reporter& reporter) {
    fs::path state_dir = state_of(state_dir_in);
    std::error_code ec;
    if (!fs::exists(enrolment_file(state_dir), ec)) {
        reporter.message("not enrolled (no " + enrolment_file(state_dir).string() + ")");
        return;
    }
    FileLock lock(Journal::lock_file(state_dir));
    Enrolment e = load_enrolment(state_dir);
    for (const auto& f : e.repo_files)
        if (fs::exists(f, ec)) reporter.message("removed " + f.string());
    remove_files(e.repo_files);
    remove_files(e.keys);
    // The key directory and its parent, when the enrolment made them and nothing else is there.
    for (const auto& k : e.keys) {
        fs::remove(k.parent_path(), ec);
        fs::remove(k.parent_path().parent_path(), ec);
    }
    auto held = load_held_repos(state_dir);
    for (const auto& f : release_held_repos(state_dir))
        reporter.message("left " + f.string() + " as a package update rewrote it");
    for (const auto& c : held.changes) reporter.message("gave back " + c.file.string());
    fs::remove(enrolment_file(state_dir), ec);
    if (ec) throw ConfigError("cannot remove " + enrolment_file(state_dir).string() + ": " + ec.message());
    reporter.message("unenrolled from " + e.url);
}

std::vector<std::string> describe_enrolment(const fs::path& state_dir) {
    Enrolment e = load_enrolment(state_dir);
    if (e.url.empty()) return {};
    return {"enrolled with " + e.url + " (" + std::to_string(e.repo_files.size()) + " repo files; bundle " + e.bundle +
            " was current when enrolled)"};
}

json enrolment_json(const fs::path& state_dir) {
    Enrolment e = load_enrolment(state_dir);
    if (e.url.empty()) return nullptr;
    json repo_files = json::array(), keys = json::array();
    for (const auto& f : e.repo_files) repo_files.push_back(f.string());
    for (const auto& k : e.keys) keys.push_back(k.string());
    return {{"url", e.url},
            {"bundle_id", e.bundle.empty() ? json(nullptr) : json(e.bundle)},
            {"repo_files", repo_files},
            {"keys", keys}};
}

}  // namespace airgap::repo
