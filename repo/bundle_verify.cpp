#include "repo/bundle_verify.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "repo/error.hpp"
#include "repo/journal.hpp"
#include "repo/parallel_hash.hpp"
#include "repo/scratch_dir.hpp"
#include "repo/sha256.hpp"

extern char** environ;

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "bundle.json";
constexpr const char* kSignatureName = "bundle.json.p7s";
constexpr std::size_t kMaxSignature = 1u << 20;

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw ConfigError("cannot write " + path.string());
}

// A member of a directory bundle: a regular file reached through no symbolic link.
void check_plain_path(const fs::path& dir, const std::string& relative, bool must_be_file) {
    fs::path at = dir;
    fs::path rel(relative);
    for (auto it = rel.begin(); it != rel.end(); ++it) {
        at /= *it;
        std::error_code ec;
        fs::file_status st = fs::symlink_status(at, ec);
        if (ec || st.type() == fs::file_type::not_found) {
            if (must_be_file) throw BundleRefused("missing from bundle: '" + relative + "'");
            return;
        }
        if (st.type() == fs::file_type::symlink)
            throw BundleRefused("unsafe entry in bundle: '" + relative + "': symbolic link");
        bool last = std::next(it) == rel.end();
        if (!last && st.type() != fs::file_type::directory)
            throw BundleRefused("unsafe entry in bundle: '" + relative + "': a parent is not a directory");
        if (last && st.type() != fs::file_type::regular)
            throw BundleRefused("bundle file '" + relative + "' is not a regular file");
    }
}

std::string read_small_file(const fs::path& dir, const std::string& name, std::size_t max) {
    check_plain_path(dir, name, true);
    std::error_code ec;
    auto size = fs::file_size(dir / name, ec);
    if (ec) throw BundleRefused("cannot read " + name + ": " + ec.message());
    if (size > max) throw BundleRefused(name + " is too large (" + std::to_string(size) + " bytes)");
    std::ifstream in(dir / name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in && !in.eof()) throw BundleRefused("cannot read " + name);
    return s.str();
}

void verify_directory_files(const fs::path& dir, const BundleManifest& m, ArchiveCallbacks* cb) {
    // Every path checked before any byte is hashed: a bad tree is refused at once.
    std::uint64_t total = 0;
    for (const auto& f : m.files) {
        check_plain_path(dir, f.path, true);
        std::error_code ec;
        auto size = fs::file_size(dir / f.path, ec);
        if (ec || size != f.size)
            throw BundleRefused("size mismatch for '" + f.path + "': expected " + std::to_string(f.size) + ", found " +
                                (ec ? ec.message() : std::to_string(size)));
        total += f.size;
    }
    // Whole files spread over the cores (parallel_hash.hpp).
    std::atomic<std::size_t> next{0};
    ArchiveCallbacks defaults;
    run_parallel(hashing_threads(dir), total, cb ? *cb : defaults, [&](unsigned, WorkerProgress& progress) {
        for (std::size_t i; (i = next.fetch_add(1)) < m.files.size() && !progress.stopping();) {
            const auto& f = m.files[i];
            std::uint64_t counted = 0;
            FileDigest d = hash_file(dir / f.path, [&](std::uint64_t done) {
                progress.add(done - counted);
                counted = done;
                return !progress.stopping();
            });
            if (d.size != f.size || d.sha256 != f.sha256) throw BundleRefused("checksum mismatch for '" + f.path + "'");
        }
    });
}

// Runs argv quietly; its exit status (127 when it cannot start).
int run_quiet(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return 127;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

std::string to_string(BundleKind kind) {
    switch (kind) {
        case BundleKind::directory:
            return "directory";
        case BundleKind::iso:
            return "iso";
        case BundleKind::tar:
            return "tar";
    }
    return "?";
}

BundleKind bundle_kind(const fs::path& bundle) {
    std::error_code ec;
    fs::file_status st = fs::status(bundle, ec);
    if (ec || st.type() == fs::file_type::not_found) throw ConfigError("bundle " + bundle.string() + " does not exist");
    if (st.type() == fs::file_type::directory) return BundleKind::directory;
    if (st.type() == fs::file_type::regular) {
        std::string ext = bundle.extension().string();
        if (ext == ".iso") return BundleKind::iso;
        if (ext == ".tar") return BundleKind::tar;
    }
    throw ConfigError("bundle " + bundle.string() + " is not a directory, an .iso or a .tar");
}

ExpectedFiles expected_files(const BundleManifest& manifest) {
    ExpectedFiles files;
    for (const auto& f : manifest.files) files[f.path] = FileDigest{f.size, f.sha256};
    return files;
}

VerifiedBundle verify_bundle(const fs::path& bundle, const VerifyOptions& options, ArchiveCallbacks* callbacks) {
    VerifiedBundle v;
    v.source = bundle;
    v.kind = bundle_kind(bundle);

    // 1. The signature over the exact bytes we go on to parse (held in memory: no second read).
    std::string manifest_bytes, signature_bytes;
    if (v.kind == BundleKind::directory) {
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(bundle / kSignatureName, ec)))
            throw BundleRefused("bundle is not signed: " + std::string(kSignatureName) + " not found in " +
                                bundle.string());
        manifest_bytes = read_small_file(bundle, kManifestName, 64u << 20);
        signature_bytes = read_small_file(bundle, kSignatureName, kMaxSignature);
    } else {
        manifest_bytes = read_member(bundle, kManifestName);
        try {
            signature_bytes = read_member(bundle, kSignatureName, kMaxSignature);
        } catch (const BundleRefused& e) {
            throw BundleRefused(std::string("bundle is not signed: ") + e.what());
        }
    }
    {
        ScratchDir scratch("ovirt-airgap-verify");
        write_bytes(scratch.path() / kManifestName, manifest_bytes);
        write_bytes(scratch.path() / kSignatureName, signature_bytes);
        try {
            v.signer = verify_detached(scratch.path() / kManifestName, scratch.path() / kSignatureName, options.trust);
        } catch (const BundleRefused& e) {
            // Name the medium, not our private copy of its two files.
            std::string what = e.what();
            std::string where = v.kind == BundleKind::directory ? (bundle / "").string() : bundle.string() + ":";
            for (std::string copy = (scratch.path() / "").string(); what.find(copy) != std::string::npos;)
                what.replace(what.find(copy), copy.size(), where);
            throw BundleRefused(what);
        }
    }

    // 2. The manifest, its expiry, anti-rollback.
    v.manifest = parse_bundle_manifest(manifest_bytes);
    check_not_expired(v.manifest, options.now);
    if (!options.state_dir.empty()) check_serial(v.manifest, last_applied_serial(options.state_dir));

    // 3. Every file, one streaming pass; an archive's headers are checked even when not hashing.
    if (v.kind == BundleKind::directory) {
        if (options.check_files) verify_directory_files(bundle, v.manifest, callbacks);
    } else if (options.check_files) {
        verify_archive(bundle, expected_files(v.manifest), callbacks);
    } else {
        list_archive(bundle);
    }
    return v;
}

std::string to_string(StagedBundle::How how) {
    switch (how) {
        case StagedBundle::How::in_place:
            return "in-place";
        case StagedBundle::How::mounted:
            return "mounted";
        case StagedBundle::How::extracted:
            return "extracted";
    }
    return "?";
}

StagedBundle::How parse_staged_how(const std::string& text) {
    if (text == "in-place") return StagedBundle::How::in_place;
    if (text == "mounted") return StagedBundle::How::mounted;
    if (text == "extracted") return StagedBundle::How::extracted;
    throw ConfigError("unknown staging '" + text + "' in the journal");
}

StagedBundle stage_bundle(const VerifiedBundle& bundle, const fs::path& staging_root, bool try_mount,
                          ArchiveCallbacks* callbacks) {
    StagedBundle staged;
    if (bundle.kind == BundleKind::directory) {
        staged.dir = fs::absolute(bundle.source).lexically_normal();
        staged.how = StagedBundle::How::in_place;
        return staged;
    }
    std::error_code ec;
    fs::create_directories(staging_root, ec);
    if (ec) throw ConfigError("cannot create " + staging_root.string() + ": " + ec.message());
    staged.dir = fs::absolute(staging_root / bundle.manifest.id).lexically_normal();
    // A mount or a partial directory left by a killed run goes first.
    if (fs::exists(fs::symlink_status(staged.dir, ec))) {
        run_quiet({"umount", staged.dir.string()});
        fs::remove_all(staged.dir, ec);
        if (ec) throw ConfigError("cannot remove the old staging " + staged.dir.string() + ": " + ec.message());
    }
    if (bundle.kind == BundleKind::iso && try_mount && geteuid() == 0) {
        fs::create_directory(staged.dir, ec);
        if (!ec && run_quiet({"mount", "-t", "iso9660", "-o", "ro,loop,nosuid,nodev,noexec",
                              fs::absolute(bundle.source).string(), staged.dir.string()}) == 0) {
            staged.how = StagedBundle::How::mounted;
            return staged;
        }
        // Not permitted here (a container, no loop devices): extract instead.
        fs::remove(staged.dir, ec);
    }
    extract_verified(bundle.source, staged.dir, expected_files(bundle.manifest), callbacks);
    staged.how = StagedBundle::How::extracted;
    return staged;
}

void unstage_bundle(const StagedBundle& staged) {
    std::error_code ec;
    switch (staged.how) {
        case StagedBundle::How::in_place:
            return;
        case StagedBundle::How::mounted:
            if (fs::exists(staged.dir, ec) && run_quiet({"umount", staged.dir.string()}) != 0)
                throw ConfigError("cannot unmount " + staged.dir.string());
            fs::remove(staged.dir, ec);
            return;
        case StagedBundle::How::extracted:
            fs::remove_all(staged.dir, ec);
            if (ec) throw ConfigError("cannot remove " + staged.dir.string() + ": " + ec.message());
            return;
    }
}

}  // namespace airgap::repo
