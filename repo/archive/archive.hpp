#pragma once
// Archive I/O of bundles (docs/bundle-format.md).
// Writing: ISO 9660 + Rock Ridge + Joliet through libisofs (libarchive's ISO writer is about
// 5x slower than xorriso), pax tar through libarchive. Reading: libarchive, tar or ISO 9660
// autodetected, every entry checked before anything is written.
//
// Safety policy of the reader: only regular files and directories are accepted. Absolute
// paths, `..` components, any symbolic link (bundles we write contain none, so there is no
// "safe" link to allow), hard links, device nodes, fifos, sockets and sparse files are refused
// with BundleRefused naming the entry. So the writers never produce links: hard-linked files
// of a tree are stored as separate copies.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/archive/sha256.hpp"
#include "repo/base/reporter.hpp"

namespace airgap::repo {

// Progress of packing ("packing"), verifying ("verifying") or extracting ("extracting") goes to a
// Reporter: `done` of `total` bytes (file payload for tar and extraction; image bytes for ISO),
// with `item` set when a member is about to be written or extracted. When its cancelled() says
// so the work stops with airgap::Interrupted (partial output removed).

/// One member of a tree or an archive; `path` is relative, '/'-separated, never "./"-prefixed.
struct ArchiveEntry {
    enum class Type { file, directory };
    std::string path;
    Type type = Type::file;
    std::uint64_t size = 0;  // 0 for directories
};

enum class ArchiveFormat { iso, tar };

/// The archive format a name says by its extension, in any case ("x.ISO" is an ISO): .iso or
/// .tar; nullopt for anything else. The one rule for -o, for bundles given to read and for pack().
std::optional<ArchiveFormat> archive_format_of(const std::filesystem::path& name);

/// archive_format_of() for a file to write; anything else is a ConfigError.
ArchiveFormat archive_format_for(const std::filesystem::path& out);

/// An ISO 9660 volume id made from `wanted`: upper case, [A-Z0-9_] (others become '_'),
/// at most 32 characters, "OVIRT_AIRGAP" when nothing is left.
std::string iso_volume_label(std::string_view wanted);

/// The entries of a directory tree in archive order: depth first, names in byte order, each
/// directory before its contents. Only regular files and directories: anything else (symlinks
/// included) is a ConfigError naming it.
std::vector<ArchiveEntry> scan_tree(const std::filesystem::path& tree);

/// Writes `tree` as an ISO 9660 image (level 3, Rock Ridge, Joliet) to `out`, file data
/// streamed from disk. Owners are root, modes 0755/0644. Progress: first with the image's name as
/// `item`, then the bytes of the image. `out` is created or truncated and is
/// removed again on failure; atomic placement (temp + rename) is the caller's job.
void write_iso(const std::filesystem::path& tree, const std::filesystem::path& out, const std::string& volume_label,
               Reporter* callbacks = nullptr);

/// Writes `tree` as an uncompressed pax tar (ustar headers unless a name needs pax) to `out`,
/// in scan_tree() order, owners root, modes 0755/0644. Same output rules as write_iso().
void write_tar(const std::filesystem::path& tree, const std::filesystem::path& out, Reporter* callbacks = nullptr);

/// write_iso() or write_tar() by the extension of `out` (see archive_format_for()).
void pack(const std::filesystem::path& tree, const std::filesystem::path& out, const std::string& volume_label,
          Reporter* callbacks = nullptr);

/// What a signed bundle.json says each file must be: relative path -> {size, sha256}.
using ExpectedFiles = std::map<std::string, FileDigest>;

/// Sequential reader of a .tar or .iso bundle (format autodetected; nothing else accepted).
/// Every entry is checked by next() before the caller sees it. Errors: ConfigError when the
/// file cannot be opened; BundleRefused for unsafe entries and for truncated or corrupt data.
class ArchiveReader {
public:
    explicit ArchiveReader(const std::filesystem::path& archive);
    ~ArchiveReader();
    ArchiveReader(ArchiveReader&&) noexcept;
    ArchiveReader& operator=(ArchiveReader&&) noexcept;
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    /// Moves to the next entry (skipping the rest of the current one's data). False at the end.
    bool next(ArchiveEntry& entry);
    /// The next block of the current entry's data; false at its end. The block stays valid until
    /// the next call on this reader.
    bool read_block(const void*& data, std::size_t& size);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Every entry of the archive, checked, data skipped (a cheap pass over the headers).
std::vector<ArchiveEntry> list_archive(const std::filesystem::path& archive);

/// The content of one member, e.g. "bundle.json" for the signature check that runs first.
/// BundleRefused when it is absent, not a regular file, or larger than `max_size`.
std::string read_member(const std::filesystem::path& archive, const std::string& name,
                        std::size_t max_size = 64u << 20);

/// Checks, in one streaming pass and without writing anything, that every file of `expected`
/// is in the archive with its size and SHA-256. Unlisted members are ignored; a missing,
/// duplicated or mismatching one is BundleRefused.
void verify_archive(const std::filesystem::path& archive, const ExpectedFiles& expected, Reporter* callbacks = nullptr);

/// The two passes of extract_verified() into the existing directory `dest`, which other sources
/// may fill too (an incremental bundle and its base): no temporary directory, no rename; on
/// failure what was written stays for the caller to remove with `dest`. Existing files are not
/// replaced (an entry that would is refused).
void extract_verified_into(const std::filesystem::path& archive, const std::filesystem::path& dest,
                           const ExpectedFiles& expected, Reporter* callbacks = nullptr);

/// Extracts the files of `expected` (only those; unlisted members are never written) into the
/// new directory `dest`, hashing each while writing it. First a pass over the headers refuses
/// unsafe entries and missing or wrongly sized files before anything is written; then the
/// data goes into a temporary directory beside `dest`, renamed to `dest` only once every file
/// matched. On any failure `dest` does not exist afterwards. `dest` must not exist before.
/// Files get mode 0644, directories 0755.
void extract_verified(const std::filesystem::path& archive, const std::filesystem::path& dest,
                      const ExpectedFiles& expected, Reporter* callbacks = nullptr);

}  // namespace airgap::repo
