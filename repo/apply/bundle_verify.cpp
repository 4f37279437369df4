#include "repo/apply/bundle_verify.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <vector>

#include "repo/archive/parallel_hash.hpp"
#include "repo/archive/sha256.hpp"
#include "repo/base/error.hpp"
#include "repo/base/file_io.hpp"
#include "repo/base/spawn.hpp"
#include "repo/state/atomic_file.hpp"
#include "repo/state/journal.hpp"

namespace airgap::repo {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "bundle.json";
constexpr const char* kSignatureName = "bundle.json.p7s";
constexpr std::size_t kMaxSignature = 1u << 20;

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

// Opens a listed file of a directory medium for its one read. The medium may change under us:
// no symbolic link is followed at any level (openat, O_NOFOLLOW), a FIFO or device swapped in
// after the path check cannot make open wait (O_NONBLOCK), and what was opened must be a regular
// file (fstat on the descriptor, not the name).
Fd open_listed(const fs::path& dir, const std::string& relative) {
    Fd at(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (at.get() < 0) throw BundleRefused("cannot open " + dir.string() + ": " + std::strerror(errno));
    fs::path rel(relative);
    for (auto it = rel.begin(); it != rel.end(); ++it) {
        bool last = std::next(it) == rel.end();
        int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? O_NONBLOCK | O_NOCTTY : O_DIRECTORY);
        Fd next(::openat(at.get(), it->c_str(), flags));
        if (next.get() < 0) {
            int err = errno;
            struct stat link {};
            // O_DIRECTORY answers ENOTDIR for a symbolic link to a directory: say which it is.
            if (err == ENOTDIR && ::fstatat(at.get(), it->c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(link.st_mode))
                err = ELOOP;
            if (err == ELOOP) throw BundleRefused("unsafe entry in bundle: '" + relative + "': symbolic link");
            if (err == ENOENT) throw BundleRefused("missing from bundle: '" + relative + "'");
            if (err == ENOTDIR)
                throw BundleRefused("unsafe entry in bundle: '" + relative + "': a parent is not a directory");
            throw BundleRefused("cannot open '" + relative + "': " + std::strerror(err));
        }
        at = std::move(next);
    }
    struct stat st {};
    if (::fstat(at.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw BundleRefused("bundle file '" + relative + "' is not a regular file");
    // A regular file never blocks; reads go back to plain blocking ones, read ahead in order.
    ::fcntl(at.get(), F_SETFL, ::fcntl(at.get(), F_GETFL) & ~O_NONBLOCK);
    (void)::posix_fadvise(at.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return at;
}

// At most one byte more than listed is read: enough to tell that a file is too long, and no
// more of a file that never ends.
std::uint64_t read_limit(const BundleFile& f) { return f.size == UINT64_MAX ? f.size : f.size + 1; }

void check_digest(const BundleFile& f, const FileDigest& d) {
    if (d.size != f.size)
        throw BundleRefused("size mismatch for '" + f.path + "': expected " + std::to_string(f.size) + ", found " +
                            (d.size > f.size ? "more" : std::to_string(d.size)));
    if (d.sha256 != f.sha256) throw BundleRefused("checksum mismatch for '" + f.path + "'");
}

void verify_directory_files(const fs::path& dir, const std::vector<BundleFile>& files, Reporter* cb) {
    // Every path checked before any byte is hashed: a bad tree is refused at once.
    std::uint64_t total = 0;
    for (const auto& f : files) {
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
    Reporter defaults;
    run_parallel(hashing_threads(dir), total, cb ? *cb : defaults, [&](unsigned, WorkerProgress& progress) {
        for (std::size_t i; (i = next.fetch_add(1)) < files.size() && !progress.stopping();) {
            const auto& f = files[i];
            std::uint64_t counted = 0;
            Fd fd = open_listed(dir, f.path);
            FileDigest d = hash_fd(fd.get(), dir / f.path, read_limit(f), [&](std::uint64_t done) {
                progress.add(done - counted);
                counted = done;
                return !progress.stopping();
            });
            check_digest(f, d);
        }
    });
}

// bundle.json's exact bytes, from a directory or an archive.
std::string read_manifest_bytes(const fs::path& bundle, BundleKind kind) {
    if (kind == BundleKind::directory) return read_small_file(bundle, kManifestName, 64u << 20);
    return read_member(bundle, kManifestName);
}

// The copy of a directory bundle's `files` into `dest`, each hashed while copied (one read: the
// hash of the bytes written decides): what lands in the staging area is what was signed,
// whatever happened to the source since verify.
void copy_verified_into(const fs::path& dir, const fs::path& dest, const std::vector<BundleFile>& files, Reporter* cb) {
    std::uint64_t total = 0, done = 0;
    for (const auto& f : files) total += f.size;
    for (const auto& f : files) {
        Fd fd = open_listed(dir, f.path);
        fs::create_directories((dest / f.path).parent_path());
        FileDigest d = copy_fd_hashed(fd.get(), dir / f.path, dest / f.path, read_limit(f), [&](std::uint64_t n) {
            return !cb || report(*cb, {"extracting", done + std::min(n, f.size), total});
        });
        check_digest(f, d);
        done += f.size;
    }
}

ExpectedFiles expected_of(const std::vector<BundleFile>& files) {
    ExpectedFiles out;
    for (const auto& f : files) out[f.path] = FileDigest{f.size, f.sha256};
    return out;
}

// Puts `files` of a bundle or base medium into `dest`, checked while written.
void put_verified(const fs::path& source, BundleKind kind, const fs::path& dest, const std::vector<BundleFile>& files,
                  Reporter* cb) {
    if (kind == BundleKind::directory)
        copy_verified_into(source, dest, files, cb);
    else
        extract_verified_into(source, dest, expected_of(files), cb);
}

// The base of an incremental bundle: the medium given with --base must be the very bundle it
// was built on (its bundle.json hashes to the pinned SHA-256) and must list what it lends.
VerifiedBase identify_base(const fs::path& path, const BundleManifest& m) {
    const BaseBundle& want = *m.base_bundle;
    VerifiedBase base;
    base.source = path;
    try {
        base.kind = bundle_kind(path);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string("--base: ") + e.what());
    }
    std::string bytes;
    try {
        bytes = read_manifest_bytes(path, base.kind);
    } catch (const BundleRefused& e) {
        throw BundleRefused("base bundle " + path.string() + ": " + e.what());
    }
    if (sha256_hex(bytes) != want.manifest_sha256) {
        std::string what = "--base " + path.string() + " is not the bundle " + want.id + " (serial " +
                           std::to_string(want.serial) + ") that bundle " + m.id + " was built on";
        try {
            BundleManifest other = parse_bundle_manifest(bytes);
            what += other.id == want.id
                        ? ": its bundle.json was changed"
                        : ": it is bundle " + other.id + " (serial " + std::to_string(other.serial) + ")";
        } catch (const BundleRefused&) {
            what += ": its bundle.json is not a bundle manifest";
        }
        throw BundleRefused(what);
    }
    base.manifest = parse_bundle_manifest(bytes);
    std::map<std::string, const BundleFile*> carried;
    for (const auto& f : base.manifest.files) carried[f.path] = &f;
    for (const auto& f : want.files) {
        auto it = carried.find(f.path);
        if (it == carried.end() || !(*it->second == f))
            throw BundleRefused("base bundle " + want.id + " does not carry '" + f.path + "' as bundle " + m.id +
                                " expects");
    }
    return base;
}

}  // namespace

std::string to_string(BundleKind kind) {
    static const char* const words[] = {"directory", "iso", "tar"};  // in BundleKind's order
    return words[static_cast<int>(kind)];
}

BundleKind bundle_kind(const fs::path& bundle) {
    std::error_code ec;
    fs::file_status st = fs::status(bundle, ec);
    if (ec || st.type() == fs::file_type::not_found) throw ConfigError("bundle " + bundle.string() + " does not exist");
    if (st.type() == fs::file_type::directory) return BundleKind::directory;
    if (st.type() == fs::file_type::regular) {
        if (auto format = archive_format_of(bundle))
            return *format == ArchiveFormat::iso ? BundleKind::iso : BundleKind::tar;
    }
    throw ConfigError("bundle " + bundle.string() + " is not a directory, an .iso or a .tar");
}

ExpectedFiles expected_files(const BundleManifest& manifest) { return expected_of(manifest.files); }

std::string missing_base_message(const BundleManifest& m) {
    const BaseBundle& b = *m.base_bundle;
    return "bundle " + m.id + " is incremental: give the bundle it was built on, " + b.id + " (serial " +
           std::to_string(b.serial) + "), with --base";
}

VerifiedBundle verify_bundle(const fs::path& bundle, const VerifyOptions& options, Reporter* callbacks) {
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
        manifest_bytes = read_manifest_bytes(bundle, v.kind);
        signature_bytes = read_small_file(bundle, kSignatureName, kMaxSignature);
    } else {
        manifest_bytes = read_manifest_bytes(bundle, v.kind);
        try {
            signature_bytes = read_member(bundle, kSignatureName, kMaxSignature);
        } catch (const BundleRefused& e) {
            throw BundleRefused(std::string("bundle is not signed: ") + e.what());
        }
    }
    {
        // Named as on the medium: "DIR/bundle.json" or "IMAGE.iso:bundle.json".
        const std::string where = v.kind == BundleKind::directory ? (bundle / "").string() : bundle.string() + ":";
        v.signer = verify_detached(manifest_bytes, signature_bytes, options.trust,
                                   {where + kManifestName, "signature " + where + kSignatureName});
    }

    // 2. The manifest, its expiry, anti-rollback.
    v.manifest = parse_bundle_manifest(manifest_bytes);
    v.manifest_sha256 = sha256_hex(manifest_bytes);
    if (options.check_expiry) check_not_expired(v.manifest, options.now);
    if (!options.state_dir.empty()) check_serial(v.manifest, last_applied_serial(options.state_dir));

    // The base of an incremental bundle, identified before any file is read.
    if (!options.base.empty()) {
        if (!v.manifest.base_bundle)
            throw ConfigError("--base given, but bundle " + v.manifest.id + " is a full bundle: it needs no base");
        v.base = identify_base(options.base, v.manifest);
    } else if (v.manifest.base_bundle && options.require_complete) {
        throw ConfigError(missing_base_message(v.manifest));
    }

    // 3. Every file, one streaming pass; an archive's headers are checked even when not hashing.
    auto check = [&](const fs::path& source, BundleKind kind, const std::vector<BundleFile>& files) {
        if (kind == BundleKind::directory) {
            if (options.check_files) verify_directory_files(source, files, callbacks);
        } else if (options.check_files) {
            verify_archive(source, expected_of(files), callbacks);
        } else {
            list_archive(source);
        }
    };
    check(bundle, v.kind, v.manifest.files);
    if (v.base) {
        try {
            check(v.base->source, v.base->kind, v.manifest.base_bundle->files);
        } catch (const BundleRefused& e) {
            throw BundleRefused("base bundle " + v.base->source.string() + ": " + e.what());
        }
    }
    return v;
}

namespace {

// The staging root: root's own, private (0700), so that nothing but the applier changes a staged
// copy between the hash that admitted it and the package manager reading it.
void make_private_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("cannot create " + dir.string() + ": " + ec.message());
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw ConfigError("cannot use " + dir.string() + " for staging: not a directory");
    if (st.st_uid != ::geteuid())
        throw ConfigError("cannot use " + dir.string() + " for staging: owned by uid " + std::to_string(st.st_uid));
    fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) throw ConfigError("cannot make " + dir.string() + " private: " + ec.message());
}

// Removes what a killed run left for `id`: its staged tree (or a mount an older version of the
// applier made there) and the temporary directories (".<id>.tmp-XXXXXX") of a cut-short copy.
void remove_leftovers(const fs::path& staging_root, const fs::path& dir, const std::string& id) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dir, ec))) {
        run_quiet({"umount", dir.string()});
        fs::remove_all(dir, ec);
        if (ec) throw ConfigError("cannot remove the old staging " + dir.string() + ": " + ec.message());
    }
    const std::string temp_prefix = "." + id + ".tmp-";
    for (const auto& entry : fs::directory_iterator(staging_root, ec))
        if (entry.path().filename().string().rfind(temp_prefix, 0) == 0) fs::remove_all(entry.path(), ec);
}

// Copies `files` of the bundle (and `base_files` of its base) into a new private tree at `dir`,
// every file hashed as it is written; the tree is put in place only once all matched.
void copy_into_place(const VerifiedBundle& bundle, const fs::path& dir, const std::vector<BundleFile>& files,
                     const std::vector<BundleFile>* base_files, Reporter* callbacks) {
    AtomicDir tree(dir);
    put_verified(bundle.source, bundle.kind, tree.path(), files, callbacks);
    if (base_files) {
        try {
            put_verified(bundle.base->source, bundle.base->kind, tree.path(), *base_files, callbacks);
        } catch (const BundleRefused& e) {
            throw BundleRefused("base bundle " + bundle.base->source.string() + ": " + e.what());
        }
    }
    fs::permissions(tree.path(), fs::perms(0755));
    tree.commit();
}

}  // namespace

fs::path staged_dir_for(const fs::path& staging_root, const std::string& id) {
    return fs::absolute(staging_root / id).lexically_normal();
}

StagedBundle stage_bundle(const VerifiedBundle& bundle, const fs::path& staging_root, Reporter* callbacks) {
    if (bundle.manifest.base_bundle && !bundle.base) throw ConfigError(missing_base_message(bundle.manifest));
    make_private_dir(staging_root);
    StagedBundle staged;
    staged.dir = staged_dir_for(staging_root, bundle.manifest.id);
    remove_leftovers(staging_root, staged.dir, bundle.manifest.id);
    // Every kind of medium the same way: a directory is never used in place and an image never
    // mounted, since the medium may change (or be swapped) after verify, and a mount is gone
    // after the reboot an update may need.
    copy_into_place(bundle, staged.dir, bundle.manifest.files,
                    bundle.base ? &bundle.manifest.base_bundle->files : nullptr, callbacks);
    return staged;
}

void check_staged(const VerifiedBundle& bundle, const fs::path& dir, Reporter* callbacks) {
    std::vector<BundleFile> all = bundle.manifest.files;
    if (bundle.manifest.base_bundle)
        all.insert(all.end(), bundle.manifest.base_bundle->files.begin(), bundle.manifest.base_bundle->files.end());
    // Nothing but the listed files either: yum must not find an added repodata file or key.
    std::set<std::string> listed, parents;
    for (const auto& f : all) {
        listed.insert(f.path);
        for (fs::path p = fs::path(f.path).parent_path(); !p.empty(); p = p.parent_path()) parents.insert(p.string());
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::string rel = fs::relative(it->path(), dir).string();
        bool is_dir = it->symlink_status().type() == fs::file_type::directory;
        if (!(is_dir ? parents.count(rel) : listed.count(rel)))
            throw BundleRefused("staged copy " + dir.string() + " holds '" + rel + "', which the bundle does not list");
    }
    if (ec) throw BundleRefused("cannot read the staged copy " + dir.string() + ": " + ec.message());
    verify_directory_files(dir, all, callbacks);
}

StagedBundle stage_metadata(const VerifiedBundle& bundle, const fs::path& staging_root) {
    std::set<std::string> packages;
    for (const auto& p : bundle.manifest.packages) packages.insert(p.path);
    std::vector<BundleFile> metadata;
    for (const auto& f : bundle.manifest.files)
        if (!packages.count(f.path)) metadata.push_back(f);
    make_private_dir(staging_root);
    StagedBundle staged;
    staged.dir = staged_dir_for(staging_root, bundle.manifest.id);
    copy_into_place(bundle, staged.dir, metadata, nullptr, nullptr);
    return staged;
}

std::vector<std::string> unstage_earlier(const fs::path& staging_root, const std::string& keep_id) {
    std::vector<std::string> removed;
    std::error_code ec;
    struct stat root_st {};
    if (::stat(staging_root.c_str(), &root_st) != 0) return removed;
    for (const auto& entry : fs::directory_iterator(staging_root, ec)) {
        std::string name = entry.path().filename().string();
        bool temp = name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos &&
                    name.compare(1, keep_id.size(), keep_id) != 0;
        if (!temp && (!is_bundle_id(name) || name == keep_id)) continue;
        // A mount point sits on another device than the staging root: unmount it first.
        struct stat st {};
        if (!temp && ::lstat(entry.path().c_str(), &st) == 0 && st.st_dev != root_st.st_dev &&
            run_quiet({"umount", entry.path().string()}) != 0)
            throw ConfigError("cannot unmount the earlier bundle staged at " + entry.path().string());
        std::error_code rm;
        fs::remove_all(entry.path(), rm);
        if (rm) throw ConfigError("cannot remove " + entry.path().string() + ": " + rm.message());
        if (!temp) removed.push_back(name);
    }
    std::sort(removed.begin(), removed.end());
    return removed;
}

void unstage_bundle(const StagedBundle& staged) {
    std::error_code ec;
    fs::remove_all(staged.dir, ec);
    if (ec) throw ConfigError("cannot remove " + staged.dir.string() + ": " + ec.message());
}

}  // namespace airgap::repo
