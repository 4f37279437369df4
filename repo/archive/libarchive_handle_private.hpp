#pragma once
// Move-only owners of libarchive handles. Internal to repo/: callers use archive.hpp.
#include <archive.h>
#include <archive_entry.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "repo/base/unique_handle.hpp"

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
class LibarchiveHandle : public UniqueHandle<struct archive, Free> {
public:
    using UniqueHandle<struct archive, Free>::UniqueHandle;

    /// libarchive's message for the last failure, never empty.
    std::string error() const {
        const char* msg = this->get() ? archive_error_string(this->get()) : nullptr;
        return msg && *msg ? msg : "unknown libarchive error";
    }
};

using ReadArchive = LibarchiveHandle<archive_read_free>;
using WriteArchive = LibarchiveHandle<archive_write_free>;

/// Owns a new `archive_entry*`.
class ArchiveEntryHandle : public UniqueHandle<struct archive_entry, archive_entry_free> {
public:
    ArchiveEntryHandle() : UniqueHandle(archive_entry_new()) {}
};

}  // namespace airgap::repo
