#pragma once
// Plain POSIX file reading for the archive area: an owned descriptor and the
// open / read calls every streaming pass over a file makes. C errors become std::system_error.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace airgap::repo {

/// Owns a file descriptor (or -1) and closes it when it dies. Move-only.
class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            if (fd_ >= 0) ::close(fd_);
            fd_ = other.release();
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const noexcept { return fd_; }
    /// Gives the descriptor up without closing it: the caller closes it (and sees close's error).
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

/// Opens `path` read-only for one pass from start to end, the kernel told to read ahead.
/// Throws std::system_error "open PATH".
inline Fd open_sequential(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
    // Advice only: a file system that ignores it reads the same bytes.
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return fd;
}

/// Reads up to `size` bytes of `fd` (the file `path`) into `buf`, again when a signal interrupts;
/// returns how many, 0 at the end of the file. Throws std::system_error "read PATH".
inline std::size_t read_some(int fd, void* buf, std::size_t size, const std::filesystem::path& path) {
    for (;;) {
        ssize_t n = ::read(fd, buf, size);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read " + path.string());
    }
}

}  // namespace airgap::repo
