#include "repo/bundle/repodata_sign_private.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "repo/base/error.hpp"
#include "repo/base/spawn.hpp"
#include "repo/base/text.hpp"
#include "repo/state/atomic_file.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

struct GpgRun {
    int exit_code = -1;  // -1: did not exit normally
    std::string out;     // stdout (listings, exported keys, --status-fd 1)
    std::string err;     // gpg's messages
};

// gpg's own explanation is its last message line ("gpg: signing failed: Bad passphrase").
std::string last_message(const std::string& text) {
    std::istringstream in(text);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    return last.empty() ? "gpg said nothing" : last;
}

// gpg against the private home, never the user's: batch, no terminal, and an empty passphrase
// given in loopback so that a protected key fails at once instead of waiting for a pinentry.
GpgRun gpg(const fs::path& home, std::vector<std::string> args) {
    std::vector<std::string> argv = {"gpg",          "--homedir",       home.string(), "--batch",      "--no-tty",
                                     "--no-options", "--pinentry-mode", "loopback",    "--passphrase", ""};
    argv.insert(argv.end(), args.begin(), args.end());
    const fs::path out = home.parent_path() / "gpg.out", err = home.parent_path() / "gpg.err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    int rc = spawn_child(argv, actions, pid);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw ConfigError(std::string("cannot run gpg: ") + std::strerror(rc));
    int status = wait_child(pid);
    if (status < 0) throw ConfigError(std::string("waiting for gpg: ") + std::strerror(errno));
    if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM))
        throw Interrupted("gpg interrupted; nothing was written");
    GpgRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = read_file(out).value_or("");
    run.err = read_file(err).value_or("");
    return run;
}

// Field `n` (0-based) of a --with-colons or --status-fd line split at `sep`.
std::string field(const std::string& line, std::size_t n, char sep) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < n; ++i) {
        start = line.find(sep, start);
        if (start == std::string::npos) return {};
        ++start;
    }
    return line.substr(start, line.find(sep, start) - start);
}

// The fingerprints of the secret primary keys in the home (each "sec" line is followed by its
// "fpr" line).
std::vector<std::string> secret_fingerprints(const std::string& colons) {
    std::vector<std::string> out;
    std::istringstream in(colons);
    bool after_sec = false;
    for (std::string line; std::getline(in, line);) {
        std::string kind = field(line, 0, ':');
        if (kind == "sec") {
            after_sec = true;
        } else if (kind == "fpr" && after_sec) {
            out.push_back(field(line, 9, ':'));
            after_sec = false;
        }
    }
    return out;
}

// The private home's agent would otherwise outlive the build (gpg starts one per home).
void stop_agent(const fs::path& home) { run_quiet({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"}); }

// Public-key algorithms of OpenPGP (RFC 4880 9.1) that EL7's GnuPG 2.0 verifies: RSA and DSA.
// Elliptic-curve keys came with GnuPG 2.1; an EL7 host would refuse every signature.
bool el7_verifies(const std::string& algo) { return algo == "1" || algo == "3" || algo == "17"; }

}  // namespace

RepodataSigner::RepodataSigner(const fs::path& secret_key_file, const fs::path& home)
    : home_(home),
      public_key_(home.parent_path() / kRepodataKeyName),
      what_("--sign-repodata " + secret_key_file.string()) {
    std::ifstream probe_read(secret_key_file, std::ios::binary);
    if (!probe_read || fs::is_directory(secret_key_file))
        throw ConfigError(
            what_ + ": cannot read it: " + (fs::exists(secret_key_file) ? "not a readable file" : "no such file"));
    if (::mkdir(home_.c_str(), 0700) != 0)
        throw ConfigError(what_ + ": cannot create a GnuPG home " + home_.string() + ": " + std::strerror(errno));
    try {
        GpgRun imported = gpg(home_, {"--import", fs::absolute(secret_key_file).string()});
        if (imported.exit_code != 0)
            throw ConfigError(what_ + ": gpg finds no key in it: " + last_message(imported.err));
        GpgRun listed = gpg(home_, {"--with-colons", "--fixed-list-mode", "--list-secret-keys"});
        std::vector<std::string> fprs = secret_fingerprints(listed.out);
        if (fprs.empty())
            throw ConfigError(what_ +
                              ": holds no secret key; a public key cannot sign (export the key with gpg "
                              "--export-secret-keys)");
        if (fprs.size() > 1)
            throw ConfigError(what_ + ": holds " + std::to_string(fprs.size()) +
                              " secret keys; export only the one that signs the repodata");
        fingerprint_ = fprs.front();

        // A probe signature proves the key usable now, before anything is downloaded.
        const fs::path probe = home_.parent_path() / "repodata-probe";
        write_file_atomic(probe, "ovirt-airgap repodata signing probe\n");
        GpgRun signed_probe =
            gpg(home_, {"--status-fd", "1", "--local-user", fingerprint_, "--digest-algo", "SHA256", "--armor",
                        "--detach-sign", "--output", probe.string() + ".asc", probe.string()});
        if (signed_probe.exit_code != 0)
            throw ConfigError(what_ + ": key " + fingerprint_ + " cannot sign: " + last_message(signed_probe.err));
        // [GNUPG:] SIG_CREATED <type> <pubkey algo> <hash algo> <class> <time> <fingerprint>
        std::string algo;
        std::istringstream status(signed_probe.out);
        for (std::string line; std::getline(status, line);)
            if (line.rfind("[GNUPG:] SIG_CREATED ", 0) == 0) algo = field(line, 3, ' ');
        if (!el7_verifies(algo))
            throw ConfigError(what_ + ": key " + fingerprint_ + " signs with OpenPGP algorithm " + algo +
                              ", which EL7's GnuPG 2.0 cannot verify; use an RSA key");

        GpgRun exported = gpg(home_, {"--armor", "--export", fingerprint_});
        if (exported.exit_code != 0 || exported.out.empty())
            throw ConfigError(what_ + ": cannot export the public key: " + last_message(exported.err));
        write_file_atomic(public_key_, exported.out);
    } catch (...) {
        stop_agent(home_);
        throw;
    }
}

RepodataSigner::~RepodataSigner() { stop_agent(home_); }

void RepodataSigner::sign_repo(const fs::path& repo_dir) const {
    const fs::path repomd = repo_dir / "repodata" / "repomd.xml";
    const fs::path asc = repo_dir / "repodata" / "repomd.xml.asc";
    GpgRun run = gpg(home_, {"--local-user", fingerprint_, "--digest-algo", "SHA256", "--armor", "--detach-sign",
                             "--output", asc.string(), repomd.string()});
    if (run.exit_code != 0)
        throw ConfigError(what_ + ": signing " + repomd.string() + " failed: " + last_message(run.err));
    // gpg creates it 0600; yum on the hosts and the web server read it like repomd.xml.
    fs::permissions(asc,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

}  // namespace airgap::repo
