// Tree scanning, the tar writer (libarchive) and pack(). The ISO writer is in iso_writer.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <system_error>
#include <vector>

#include "repo/archive/archive.hpp"
#include "repo/archive/libarchive_handle_private.hpp"
#include "repo/base/error.hpp"
#include "repo/base/file_io.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

// Bytes per read and per tar block written. Measured on 1 GB to ext4: 64 KiB 0.8 s, 1 MiB 4.7-5.3 s
// (the kernel is much slower with large writes into the page cache), libarchive's 10 KiB 1.2-2.4 s.
constexpr std::size_t kBlock = 64 << 10;

void scan_dir(const fs::path& root, const std::string& prefix, std::vector<ArchiveEntry>& out) {
    std::vector<fs::directory_entry> children;
    for (const auto& child : fs::directory_iterator(prefix.empty() ? root : root / prefix)) children.push_back(child);
    // Byte order of names, so that two runs over the same tree give the same archive.
    std::sort(children.begin(), children.end(),
              [](const auto& a, const auto& b) { return a.path().filename().string() < b.path().filename().string(); });
    for (const auto& child : children) {
        std::string rel =
            prefix.empty() ? child.path().filename().string() : prefix + "/" + child.path().filename().string();
        auto status = child.symlink_status();
        if (fs::is_directory(status)) {
            out.push_back({rel, ArchiveEntry::Type::directory, 0});
            scan_dir(root, rel, out);
        } else if (fs::is_regular_file(status)) {
            out.push_back({rel, ArchiveEntry::Type::file, static_cast<std::uint64_t>(child.file_size())});
        } else {
            throw ConfigError("cannot pack " + (root / rel).string() + ": not a regular file or directory");
        }
    }
}

// Removes a half-written output unless the write completed.
class OutputGuard {
public:
    explicit OutputGuard(fs::path path) : path_(std::move(path)) {}
    ~OutputGuard() {
        if (!done_) {
            std::error_code ec;
            fs::remove(path_, ec);
        }
    }
    void done() { done_ = true; }

private:
    fs::path path_;
    bool done_ = false;
};

}  // namespace

std::string iso_volume_label(std::string_view wanted) {
    std::string label;
    for (char c : wanted) {
        if (label.size() == 32) break;
        auto u = static_cast<unsigned char>(c);
        // ECMA-119 d-characters only: readers show anything else differently or not at all.
        label += std::isalnum(u) && u < 0x80 ? static_cast<char>(std::toupper(u)) : '_';
    }
    if (label.find_first_not_of('_') == std::string::npos) return "OVIRT_AIRGAP";
    return label;
}

std::vector<ArchiveEntry> scan_tree(const fs::path& tree) {
    std::error_code ec;
    if (!fs::is_directory(tree, ec)) throw ConfigError("cannot pack " + tree.string() + ": not a directory");
    std::vector<ArchiveEntry> out;
    scan_dir(tree, "", out);
    return out;
}

void write_tar(const fs::path& tree, const fs::path& out, Reporter* callbacks) {
    Reporter defaults;
    Reporter& cb = callbacks ? *callbacks : defaults;
    std::vector<ArchiveEntry> entries = scan_tree(tree);
    std::uint64_t total = 0;
    for (const auto& e : entries) total += e.size;

    WriteArchive a(archive_write_new());
    if (!a) throw std::bad_alloc();
    // pax restricted: plain ustar headers, pax extensions only where a name or size needs them.
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a.get(), static_cast<int>(kBlock)) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK)
        throw std::runtime_error("cannot set up the tar writer: " + a.error());
    OutputGuard guard(out);
    if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK)
        throw std::runtime_error("cannot write " + out.string() + ": " + a.error());

    std::vector<char> buf(kBlock);
    std::uint64_t done = 0;
    for (const auto& e : entries) {
        fs::path src = tree / e.path;
        struct stat st {};
        if (::lstat(src.c_str(), &st) != 0) throw std::system_error(errno, std::generic_category(), src.string());
        bool is_dir = e.type == ArchiveEntry::Type::directory;
        if (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != e.size)
            throw std::runtime_error(src.string() + " changed while packing");
        if (!report(cb, {"packing", done, total, 0, 0, "files", e.path}))
            throw Interrupted("interrupted while writing " + out.string());

        ArchiveEntryHandle entry;
        archive_entry_set_pathname(entry.get(), e.path.c_str());
        archive_entry_set_filetype(entry.get(), is_dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(entry.get(), is_dir ? 0755 : 0644);
        archive_entry_set_size(entry.get(), is_dir ? 0 : static_cast<la_int64_t>(e.size));
        archive_entry_set_mtime(entry.get(), st.st_mtime, 0);
        archive_entry_set_uid(entry.get(), 0);
        archive_entry_set_gid(entry.get(), 0);
        archive_entry_set_uname(entry.get(), "root");
        archive_entry_set_gname(entry.get(), "root");
        if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK)
            throw std::runtime_error("cannot write " + out.string() + ": " + e.path + ": " + a.error());
        if (is_dir) continue;

        Fd in = open_sequential(src);
        std::uint64_t left = e.size;
        while (left > 0) {
            std::size_t n = read_some(in.get(), buf.data(),
                                      static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())), src);
            // A header already promised e.size bytes: a shrinking file cannot be papered over.
            if (n == 0) throw std::runtime_error(src.string() + " changed while packing");
            la_ssize_t w = archive_write_data(a.get(), buf.data(), n);
            if (w < 0 || static_cast<std::size_t>(w) != n)
                throw std::runtime_error("cannot write " + out.string() + ": " + a.error());
            left -= n;
            done += n;
            if (!report(cb, {"packing", done, total})) throw Interrupted("interrupted while writing " + out.string());
        }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        throw std::runtime_error("cannot write " + out.string() + ": " + a.error());
    guard.done();
}

void pack(const fs::path& tree, const fs::path& out, const std::string& volume_label, Reporter* callbacks) {
    switch (archive_format_for(out)) {
        case ArchiveFormat::iso:
            write_iso(tree, out, volume_label, callbacks);
            return;
        case ArchiveFormat::tar:
            write_tar(tree, out, callbacks);
            return;
    }
}

}  // namespace airgap::repo
