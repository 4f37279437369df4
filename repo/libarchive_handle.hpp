#pragma once
// Move-only owners of libarchive handles. Internal to repo/: callers use archive.hpp.
#include <archive.h>
#include <archive_entry.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#ifdef AIRGAP_NO_LA_INT64_T
// libarchive 3.1 (EL7) has no names of its own for them (cmake/el7_compat.cmake).
using la_int64_t = std::int64_t;
using la_ssize_t = ssize_t;
#endif

namespace airgap::repo {

/// The entry's name in UTF-8, or null; libarchive 3.1 (EL7) only knows the locale's.
inline const char* entry_pathname_utf8(struct archive_entry* e) {
#ifdef AIRGAP_NO_ARCHIVE_PATHNAME_UTF8
    (void)e;
    return nullptr;
#else
    return archive_entry_pathname_utf8(e);
#endif
}

/// Owns an `archive*` and frees it with `Free` (archive_read_free or archive_write_free).
template <int (*Free)(struct archive*)>
class LibarchiveHandle {
public:
    explicit LibarchiveHandle(struct archive* a) : a_(a) {}
    ~LibarchiveHandle() {
        if (a_) Free(a_);
    }
    LibarchiveHandle(LibarchiveHandle&& other) noexcept : a_(std::exchange(other.a_, nullptr)) {}
    LibarchiveHandle& operator=(LibarchiveHandle&& other) noexcept {
        if (this != &other) {
            if (a_) Free(a_);
            a_ = std::exchange(other.a_, nullptr);
        }
        return *this;
    }
    LibarchiveHandle(const LibarchiveHandle&) = delete;
    LibarchiveHandle& operator=(const LibarchiveHandle&) = delete;

    struct archive* get() const noexcept {
        return a_;
    }
    explicit operator bool() const noexcept { return a_ != nullptr; }
    /// libarchive's message for the last failure, never empty.
    std::string error() const {
        const char* msg = a_ ? archive_error_string(a_) : nullptr;
        return msg && *msg ? msg : "unknown libarchive error";
    }

private:
    struct archive* a_;
};

using ReadArchive = LibarchiveHandle<archive_read_free>;
using WriteArchive = LibarchiveHandle<archive_write_free>;

/// Owns an `archive_entry*`.
class ArchiveEntryHandle {
public:
    ArchiveEntryHandle() : e_(archive_entry_new()) {}
    ~ArchiveEntryHandle() {
        if (e_) archive_entry_free(e_);
    }
    ArchiveEntryHandle(ArchiveEntryHandle&& other) noexcept : e_(std::exchange(other.e_, nullptr)) {}
    ArchiveEntryHandle& operator=(ArchiveEntryHandle&& other) noexcept {
        if (this != &other) {
            if (e_) archive_entry_free(e_);
            e_ = std::exchange(other.e_, nullptr);
        }
        return *this;
    }
    ArchiveEntryHandle(const ArchiveEntryHandle&) = delete;
    ArchiveEntryHandle& operator=(const ArchiveEntryHandle&) = delete;

    struct archive_entry* get() const noexcept {
        return e_;
    }

private:
    struct archive_entry* e_;
};

}  // namespace airgap::repo
