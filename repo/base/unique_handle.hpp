#pragma once
// One move-only owner for the C libraries' handles (curl, libarchive, librepo, ...): the
// pointer and the function that frees it, so that every wrapper frees exactly once and a
// moved-from wrapper frees nothing.
#include <utility>

namespace airgap::repo {

/// Owns a `T*` (or null) and calls `Free` on it when it dies or is reset. Move-only.
/// `Free` may return anything (archive_read_free returns int, curl_easy_cleanup void).
template <typename T, auto Free>
class UniqueHandle {
public:
    UniqueHandle() noexcept = default;
    explicit UniqueHandle(T* handle) noexcept : handle_(handle) {}
    ~UniqueHandle() { reset(); }
    UniqueHandle(UniqueHandle&& other) noexcept : handle_(other.release()) {}
    UniqueHandle& operator=(UniqueHandle&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;

    T* get() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// Gives the handle up without freeing it.
    T* release() noexcept { return std::exchange(handle_, nullptr); }
    /// Frees the handle held (if any) and holds `handle` instead.
    void reset(T* handle = nullptr) noexcept {
        if (T* old = std::exchange(handle_, handle)) Free(old);
    }

private:
    T* handle_ = nullptr;
};

}  // namespace airgap::repo
