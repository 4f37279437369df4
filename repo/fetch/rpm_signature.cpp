#include "repo/fetch/rpm_signature.hpp"

#include <fcntl.h>
#include <rpm/rpmcli.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmts.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <utility>

#include "repo/base/error.hpp"
#include "repo/base/scratch_dir.hpp"
#include "repo/base/text.hpp"
#include "repo/base/unique_handle.hpp"
#include "repo/repos/librepo_handle.hpp"

namespace airgap::repo {
namespace {

namespace fs = std::filesystem;

// Move-only owners of librpm's handles.
using Ts = UniqueHandle<std::remove_pointer_t<rpmts>, rpmtsFree>;
using Keyring = UniqueHandle<std::remove_pointer_t<rpmKeyring>, rpmKeyringFree>;
using Pubkey = UniqueHandle<std::remove_pointer_t<rpmPubkey>, rpmPubkeyFree>;

// librpm's logging is process-wide: one check at a time routes it into a string.
std::mutex rpm_mutex;

void init_rpm() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Loads rpm's macros and initialises its crypto; reads nothing of the host's rpmdb.
        if (rpmReadConfigFiles(nullptr, nullptr) != 0) throw ConfigError("cannot initialise librpm");
    });
}

// While alive, rpmlog goes (verbosely) into `out` instead of stderr: the library never prints.
class LogCapture {
public:
    explicit LogCapture(std::string& out) : old_mask_(rpmlogSetMask(0)) {
        old_cb_ = rpmlogSetCallback(&LogCapture::handle, &out);
        rpmlogSetMask(RPMLOG_UPTO(RPMLOG_INFO));  // per-signature lines come only when verbose
    }
    ~LogCapture() {
        rpmlogSetMask(old_mask_);
        rpmlogSetCallback(old_cb_, nullptr);
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

private:
    static int handle(rpmlogRec rec, rpmlogCallbackData data) {
        const char* msg = rpmlogRecMessage(rec);
        if (msg) *static_cast<std::string*>(data) += msg;
        return 0;  // not RPMLOG_DEFAULT: nothing on stderr
    }

    int old_mask_;
    rpmlogCallback old_cb_;
};

std::string read_key_file(const fs::path& file) {
    auto text = read_file(file);
    if (!text) throw ConfigError("cannot read key " + file.string());
    return std::move(*text);
}

// Every public key block of an armored file (some RPM-GPG-KEY files hold several).
std::vector<Pubkey> parse_keys(const std::string& text, const std::string& name) {
    static const std::string kBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    init_rpm();
    std::vector<Pubkey> keys;
    for (auto pos = text.find(kBegin); pos != std::string::npos; pos = text.find(kBegin, pos + 1)) {
        uint8_t* pkt = nullptr;
        size_t pktlen = 0;
        if (pgpParsePkts(text.c_str() + pos, &pkt, &pktlen) != PGPARMOR_PUBKEY)
            throw ConfigError("key " + name + ": not an armored PGP public key");
        rpmPubkey key = rpmPubkeyNew(pkt, pktlen);
        std::free(pkt);
        if (!key) throw ConfigError("key " + name + ": unusable PGP public key");
        keys.emplace_back(key);
        // Packages may be signed with a subkey.
        int count = 0;
        rpmPubkey* subkeys = rpmGetSubkeys(keys.back().get(), &count);
        for (int i = 0; i < count; ++i) keys.emplace_back(subkeys[i]);
        std::free(subkeys);
    }
    if (keys.empty()) throw ConfigError("key " + name + ": not an armored PGP public key");
    return keys;
}

// One result line of rpm's verbose check, e.g. "Header V4 RSA/SHA512 Signature, key ID 77607589: OK".
struct Item {
    std::string what;
    std::string result;  // OK, NOKEY, NOTTRUSTED, BAD, NOTFOUND
};

std::vector<Item> parse_items(const std::string& log) {
    std::vector<Item> items;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("    ", 0) != 0) continue;  // items are indented below "FILE:"
        line.erase(0, line.find_first_not_of(' '));
        auto colon = line.rfind(": ");
        // BAD results carry "(Expected X != Y)" after the result word, without ": ".
        if (colon == std::string::npos) continue;
        std::string result = line.substr(colon + 2);
        result = result.substr(0, result.find(' '));
        items.push_back({line.substr(0, colon), result});
    }
    return items;
}

// "Header V4 RSA/SHA512 Signature, key ID ..." and, when missing, "Header RSA signature".
bool is_signature(const Item& item) { return item.what.find("ignature") != std::string::npos; }

std::string key_id_of(const Item& item) {
    auto pos = item.what.find("key ID ");
    return pos == std::string::npos ? std::string() : item.what.substr(pos + 7);
}

std::string basename_of_url(const std::string& url) {
    std::string path = url.substr(0, url.find_first_of("?#"));
    while (!path.empty() && path.back() == '/') path.pop_back();
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

void check_rpm_signature(const std::filesystem::path& rpm, const std::vector<std::filesystem::path>& keys) {
    const std::string name = "package " + rpm.filename().string();
    std::lock_guard<std::mutex> lock(rpm_mutex);
    init_rpm();

    Keyring keyring(rpmKeyringNew());
    for (const auto& file : keys)
        for (const auto& key : parse_keys(read_key_file(file), file.string()))
            rpmKeyringAddKey(keyring.get(), key.get());

    Ts ts(rpmtsCreate());
    // Our keyring only: with one set, rpm never loads the keys of an rpmdb.
    rpmtsSetKeyring(ts.get(), keyring.get());
    rpmtsSetVfyFlags(ts.get(), RPMVSF_DEFAULT);  // every digest and signature
    rpmtsSetVfyLevel(ts.get(), RPMSIG_DIGEST_TYPE | RPMSIG_SIGNATURE_TYPE);

    std::string log;
    int failed = 0;
    {
        LogCapture capture(log);
        const std::string path = rpm.string();
        const char* argv[] = {path.c_str(), nullptr};
        failed = rpmcliVerifySignatures(ts.get(), const_cast<ARGV_const_t>(argv));
    }
    const std::vector<Item> items = parse_items(log);
    if (items.empty()) {
        // rpm could not read it: it says "FILE:", then "FILE: <why>" for a damaged one, nothing for junk.
        const std::string path = rpm.string();
        std::string why = lr::one_line(log);
        auto pos = why.find(path + ": ");
        why = pos == std::string::npos ? std::string() : why.substr(pos + path.size() + 2);
        throw ConfigError(name + ": not a readable RPM package" + (why.empty() ? "" : " (" + why + ")"));
    }

    const Item* bad_sig = nullptr;
    const Item* bad_digest = nullptr;
    const Item* nokey = nullptr;
    const Item* good_sig = nullptr;
    for (const auto& item : items) {
        if (is_signature(item)) {
            if (item.result == "BAD" && !bad_sig) bad_sig = &item;
            if ((item.result == "NOKEY" || item.result == "NOTTRUSTED") && !nokey) nokey = &item;
            if (item.result == "OK") good_sig = &item;
        } else if (item.result == "BAD" && !bad_digest) {
            bad_digest = &item;
        }
    }
    // A changed header breaks its signature and its digests: the signature is what matters.
    if (bad_sig) throw ConfigError(name + ": bad signature");
    if (bad_digest) throw ConfigError(name + ": digest mismatch");
    if (nokey)
        throw ConfigError(name + ": signed with " + (nokey->result == "NOTTRUSTED" ? "untrusted" : "unknown") +
                          " key ID " + key_id_of(*nokey));
    if (!good_sig) throw ConfigError(name + ": not signed");
    // Whatever else rpm disliked (it agrees with `rpmkeys --checksig` by construction).
    if (failed) throw ConfigError(name + ": signature check failed: " + lr::one_line(log));
}

std::vector<std::filesystem::path> fetch_gpg_keys(const RepoConfig& repo, const std::filesystem::path& manifest_dir,
                                                  const std::filesystem::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("cannot create key directory " + dir.string() + ": " + ec.message());

    std::vector<fs::path> out;
    for (const auto& key : repo.gpgkeys) {
        const std::string what = "repo " + repo.id + ": gpgkey " + key;
        std::string base = basename_of_url(key);
        if (base.empty() || base == "." || base == "..") throw ConfigError(what + ": no file name");
        fs::path dest = dir / base;
        // Two keys of one repo with the same file name from different places: keep both.
        for (int n = 2; std::find(out.begin(), out.end(), dest) != out.end(); ++n)
            dest = dir / (base + "." + std::to_string(n));
        const fs::path tmp = dest.string() + ".tmp";

        if (starts_with(key, "http://") || starts_with(key, "https://") || starts_with(key, "ftp://")) {
            int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) throw ConfigError(what + ": cannot write " + tmp.string());
            try {
                lr::Handle h;
                h.set(LRO_INTERRUPTIBLE, 0L);
                lr::GErrorSlot err;
                if (!lr_download_url(h.get(), key.c_str(), fd, err.out())) err.raise("download failed");
            } catch (const lr::LibrepoError& e) {
                ::close(fd);
                fs::remove(tmp, ec);
                throw ConfigError(what + ": cannot download: " + e.what());
            }
            ::close(fd);
        } else {
            fs::path src = starts_with(key, "file://") ? fs::path(key.substr(7)) : fs::path(key);
            if (src.is_relative()) src = manifest_dir / src;
            fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
            if (ec) throw ConfigError(what + ": cannot read " + src.string() + ": " + ec.message());
        }
        try {
            std::lock_guard<std::mutex> lock(rpm_mutex);
            parse_keys(read_key_file(tmp), key);
        } catch (const ConfigError&) {
            fs::remove(tmp, ec);
            throw ConfigError(what + ": not an armored PGP public key");
        }
        fs::rename(tmp, dest, ec);
        if (ec) throw ConfigError(what + ": cannot write " + dest.string() + ": " + ec.message());
        out.push_back(dest);
    }
    return out;
}

void check_gpg_keys(const std::vector<RepoConfig>& repos, const fs::path& manifest_dir) {
    ScratchDir scratch("ovirt-airgap-keys");
    for (const auto& repo : repos) {
        if (!repo.gpgcheck) continue;
        if (repo.gpgkeys.empty())
            throw ConfigError("repo " + repo.id + " has gpgcheck=1 but no gpgkey: its packages cannot be checked");
        fetch_gpg_keys(repo, manifest_dir, scratch.path() / repo.id);
    }
}

}  // namespace airgap::repo
