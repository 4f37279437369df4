#pragma once
// Streaming SHA-256 (hashing at disk speed, memory flat). OpenSSL's
// EVP interface does the hashing; files are read in large sequential blocks.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace airgap::repo {

/// Size and lower-case hex SHA-256 of one file, as bundle.json lists them.
struct FileDigest {
    std::uint64_t size = 0;
    std::string sha256;

    bool operator==(const FileDigest& other) const { return size == other.size && sha256 == other.sha256; }
    bool operator!=(const FileDigest& other) const { return !(*this == other); }
};

/// Incremental SHA-256 over an OpenSSL EVP_MD_CTX. Move-only; `finish()` may be called once.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    /// Lower-case hex digest of everything passed to update().
    std::string finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

/// SHA-256 of an in-memory buffer, lower-case hex.
std::string sha256_hex(std::string_view data);

/// Hashes a file in one sequential pass of large reads. Throws std::system_error on I/O errors.
/// `on_bytes`, when given, is called after each block with the bytes hashed so far; returning
/// false aborts with airgap::Interrupted.
FileDigest hash_file(const std::filesystem::path& path, const std::function<bool(std::uint64_t done)>& on_bytes = {});

/// hash_file() of the open descriptor `fd` (named `path` in errors), reading at most `limit`
/// bytes: a file that grows without end (or any source longer than expected) is read no further
/// than one byte past what it should hold, and that byte already makes its size wrong.
FileDigest hash_fd(int fd, const std::filesystem::path& path, std::uint64_t limit,
                   const std::function<bool(std::uint64_t done)>& on_bytes = {});

/// Writes a new file (created exclusively, mode 0644) while hashing what goes into it, so that a
/// copy is hashed once, in the same pass. The file is removed again unless finish() succeeds.
class HashingWriter {
public:
    explicit HashingWriter(const std::filesystem::path& path);
    ~HashingWriter();
    HashingWriter(HashingWriter&&) noexcept;
    HashingWriter& operator=(HashingWriter&&) = delete;
    HashingWriter(const HashingWriter&) = delete;
    HashingWriter& operator=(const HashingWriter&) = delete;

    void write(const void* data, std::size_t size);
    /// Flushes and closes the file (fsync when `sync`), returns its size and digest.
    FileDigest finish(bool sync = false);
    const std::filesystem::path& path() const { return path_; }
    std::uint64_t bytes_written() const { return size_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    Sha256 hash_;
};

/// Copies `from` to a new file `to` (must not exist) and returns the digest of the bytes copied.
FileDigest copy_file_hashed(const std::filesystem::path& from, const std::filesystem::path& to);

/// copy_file_hashed() from the open descriptor `fd` (named `from` in errors), at most `limit`
/// bytes read (see hash_fd()); `on_bytes` as for hash_file().
FileDigest copy_fd_hashed(int fd, const std::filesystem::path& from, const std::filesystem::path& to,
                          std::uint64_t limit, const std::function<bool(std::uint64_t done)>& on_bytes = {});

}  // namespace airgap::repo
