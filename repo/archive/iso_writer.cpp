// The ISO 9660 writer, on libisofs: the library xorriso is built on, and several times faster
// than libarchive's ISO writer (scripts/bench.sh).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdint.h>
#include <sys/types.h>

// We read the image through struct burn_source ourselves, without libburn.
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "repo/archive/archive.hpp"
#include "repo/base/error.hpp"
#include "repo/base/file_io.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

// Bytes taken from libisofs' ring buffer and written per call: 32 KiB, as libburn does. Measured
// on 1 GB to ext4: 32 KiB 1.0-1.3 s, 64 KiB to 1 MiB 3-8 s.
constexpr int kReadSize = 32 << 10;
// Ring buffer between libisofs' writer thread and us, in 2 KiB blocks: 2 MiB. Measured on 1 GB:
// 8 MiB is no faster and costs 6 MB of RSS.
constexpr std::size_t kFifoBlocks = 1024;

void init_libisofs() {
    static std::once_flag once;
    static int status = 0;
    std::call_once(once, [] {
        status = iso_init();
        // The library never prints: problems are queued and read back by us.
        char queue[] = "SORRY", print[] = "NEVER", id[] = "libisofs";
        if (status >= 0) iso_set_msgs_severities(queue, print, id);
    });
    if (status < 0) throw std::runtime_error(std::string("cannot initialise libisofs: ") + iso_error_to_msg(status));
}

// Every queued libisofs problem (severity SORRY or worse), as one line; empty when none.
std::string drain_messages() {
    std::string all;
    char minimum[] = "SORRY";
    for (;;) {
        int code = 0, imgid = 0;
        char text[ISO_MSGS_MESSAGE_LEN] = "", severity[80] = "";
        if (iso_obtain_msgs(minimum, &code, &imgid, text, severity) <= 0) break;
        if (!all.empty()) all += "; ";
        all += text;
    }
    return all;
}

void discard_messages() {
    char never[] = "NEVER";
    int code = 0, imgid = 0;
    char text[ISO_MSGS_MESSAGE_LEN], severity[80];
    iso_obtain_msgs(never, &code, &imgid, text, severity);
}

std::string iso_error(int code) {
    std::string queued = drain_messages();
    return queued.empty() ? iso_error_to_msg(code) : queued;
}

// Owners of libisofs handles.
struct ImageDeleter {
    void operator()(IsoImage* image) const { iso_image_unref(image); }
};
using Image = std::unique_ptr<IsoImage, ImageDeleter>;
struct OptsDeleter {
    void operator()(IsoWriteOpts* opts) const { iso_write_opts_free(opts); }
};
using WriteOpts = std::unique_ptr<IsoWriteOpts, OptsDeleter>;

// The image stream; cancelling stops libisofs' writer thread before the source is freed.
class BurnSource {
public:
    explicit BurnSource(burn_source* src) : src_(src) {}
    ~BurnSource() {
        if (!src_) return;
        if (!finished_) src_->cancel(src_);
        src_->free_data(src_);
        std::free(src_);
    }
    BurnSource(const BurnSource&) = delete;
    BurnSource& operator=(const BurnSource&) = delete;
    burn_source* get() const { return src_; }
    void finished() { finished_ = true; }

private:
    burn_source* src_;
    bool finished_ = false;
};

void check(int rc, const std::string& what) {
    if (rc < 0) throw std::runtime_error(what + ": " + iso_error(rc));
}

// What each source file looked like when it was added: libisofs reads it later, from its
// writer thread, and pads a file that shrank meanwhile with zeros.
struct SourceState {
    std::string path;
    off_t size;
    struct timespec mtime;
};

// The first source file whose size or mtime is no longer what it was when it was added.
std::string changed_source(const std::vector<SourceState>& sources) {
    for (const auto& src : sources) {
        struct stat st {};
        if (::lstat(src.path.c_str(), &st) != 0) return src.path + " vanished";
        if (st.st_size != src.size || st.st_mtim.tv_sec != src.mtime.tv_sec || st.st_mtim.tv_nsec != src.mtime.tv_nsec)
            return src.path + " changed while it was written (" + std::to_string(src.size) + " bytes, now " +
                   std::to_string(st.st_size) + ")";
    }
    return {};
}

Image build_image(const fs::path& tree, const std::string& label, std::vector<SourceState>& sources) {
    IsoImage* raw = nullptr;
    std::string volume = iso_volume_label(label);
    check(iso_image_new(volume.c_str(), &raw), "cannot create the ISO image");
    Image image(raw);
    iso_image_set_application_id(image.get(), "OVIRT-AIRGAP");
    // No ACLs or xattrs: bundles carry plain files, and reading them costs a syscall per file.
    iso_image_set_ignore_aclea(image.get(), 3);

    std::map<std::string, IsoDir*> dirs{{"", iso_image_get_root(image.get())}};
    for (const ArchiveEntry& e : scan_tree(tree)) {
        auto slash = e.path.rfind('/');
        std::string parent = slash == std::string::npos ? "" : e.path.substr(0, slash);
        std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
        IsoDir* dir = dirs.at(parent);
        if (e.type == ArchiveEntry::Type::directory) {
            IsoDir* child = nullptr;
            check(iso_image_add_new_dir(image.get(), dir, name.c_str(), &child), "cannot add " + e.path);
            dirs[e.path] = child;
        } else {
            std::string source = fs::absolute(tree / e.path).string();
            struct stat st {};
            if (::lstat(source.c_str(), &st) != 0)
                throw std::system_error(errno, std::generic_category(), "cannot add " + source);
            sources.push_back({source, st.st_size, st.st_mtim});
            // libisofs stores hard-linked files once, which readers then report as hard links, and
            // our reader refuses every hard link. A cut-out node (the whole file) gets its own copy.
            if (st.st_nlink > 1)
                check(iso_tree_add_new_cut_out_node(image.get(), dir, name.c_str(), source.c_str(), 0, st.st_size,
                                                    nullptr),
                      "cannot add " + e.path);
            else
                check(iso_tree_add_new_node(image.get(), dir, name.c_str(), source.c_str(), nullptr),
                      "cannot add " + e.path);
        }
    }
    return image;
}

WriteOpts make_options() {
    IsoWriteOpts* raw = nullptr;
    check(iso_write_opts_new(&raw, 0), "cannot set ISO options");
    WriteOpts opts(raw);
    // Rock Ridge (POSIX names and modes, for Linux) and Joliet (Windows) as `xorriso -as mkisofs
    // -R -J` writes them; level 3 on top, for files of 4 GiB and more (multi-extent).
    check(iso_write_opts_set_iso_level(opts.get(), 3), "iso level");
    check(iso_write_opts_set_rockridge(opts.get(), 1), "rock ridge");
    check(iso_write_opts_set_joliet(opts.get(), 1), "joliet");
    // As xorriso does by default: no relocation of directories deeper than 8 levels (libarchive
    // refuses libisofs' relocated directories), paths longer than 255 characters allowed.
    check(iso_write_opts_set_allow_deep_paths(opts.get(), 1), "deep paths");
    check(iso_write_opts_set_allow_longer_paths(opts.get(), 1), "longer paths");
    // Joliet names up to 103 characters (mkisofs -joliet-long): RPM file names often exceed 64.
    check(iso_write_opts_set_joliet_longer_paths(opts.get(), 1), "joliet paths");
    check(iso_write_opts_set_joliet_long_names(opts.get(), 1), "joliet names");
    // Deterministic ownership and modes, whoever built the bundle.
    check(iso_write_opts_set_replace_mode(opts.get(), 2, 2, 2, 2), "replace mode");
    check(iso_write_opts_set_default_dir_mode(opts.get(), 0755), "dir mode");
    check(iso_write_opts_set_default_file_mode(opts.get(), 0644), "file mode");
    check(iso_write_opts_set_default_uid(opts.get(), 0), "uid");
    check(iso_write_opts_set_default_gid(opts.get(), 0), "gid");
    check(iso_write_opts_set_always_gmt(opts.get(), 1), "gmt");
    check(iso_write_opts_set_fifo_size(opts.get(), kFifoBlocks), "fifo size");
    return opts;
}

}  // namespace

void write_iso(const fs::path& tree, const fs::path& out, const std::string& volume_label, Reporter* callbacks) {
    Reporter defaults;
    Reporter& cb = callbacks ? *callbacks : defaults;
    init_libisofs();
    discard_messages();
    std::vector<SourceState> sources;
    Image image = build_image(tree, volume_label, sources);
    WriteOpts opts = make_options();

    Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + out.string());
    bool complete = false;
    struct Cleanup {
        const fs::path& out;
        bool& complete;
        ~Cleanup() {
            if (!complete) {
                std::error_code ec;
                fs::remove(out, ec);
            }
        }
    } cleanup{out, complete};

    burn_source* raw = nullptr;
    check(iso_image_create_burn_source(image.get(), opts.get(), &raw), "cannot write " + out.string());
    BurnSource src(raw);
    const auto total = static_cast<std::uint64_t>(src.get()->get_size(src.get()));
    if (!report(cb, {"packing", 0, total, 0, 0, "files", out.filename().string()}))
        throw Interrupted("interrupted while writing " + out.string());

    std::vector<unsigned char> buf(kReadSize);
    std::uint64_t done = 0;
    while (done < total) {
        // Never ask past the announced size: libisofs reports a short final read as end of data.
        int want = static_cast<int>(std::min<std::uint64_t>(kReadSize, total - done));
        int n = src.get()->read_xt(src.get(), buf.data(), want);
        if (n < 0) throw std::runtime_error("cannot write " + out.string() + ": " + iso_error(n));
        if (n == 0) break;
        const unsigned char* p = buf.data();
        std::size_t left = static_cast<std::size_t>(n);
        while (left > 0) {
            ssize_t w = ::write(fd.get(), p, left);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + out.string());
            p += w;
            left -= static_cast<std::size_t>(w);
        }
        done += static_cast<std::uint64_t>(n);
        if (!report(cb, {"packing", done, total})) throw Interrupted("interrupted while writing " + out.string());
    }
    src.finished();
    // libisofs substitutes zeros for a source file it cannot read and only queues a message.
    std::string problems = drain_messages();
    if (!problems.empty()) throw std::runtime_error("cannot write " + out.string() + ": " + problems);
    // The queued message can come too late to be drained; the files themselves tell for sure.
    if (std::string changed = changed_source(sources); !changed.empty())
        throw std::runtime_error("cannot write " + out.string() + ": " + changed);
    if (done != total)
        throw std::runtime_error("cannot write " + out.string() + ": image ended after " + std::to_string(done) +
                                 " of " + std::to_string(total) + " bytes");
    if (::close(fd.release()) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot write " + out.string());
    complete = true;
}

}  // namespace airgap::repo
