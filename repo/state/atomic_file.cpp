#include "repo/state/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "repo/base/error.hpp"
#include "repo/base/interrupt.hpp"

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

[[noreturn]] void fail(const fs::path& target, int err) {
    throw ConfigError("cannot write " + target.string() + ": " + std::strerror(err));
}

// A relative target still needs a directory to fsync and to place the temp file in.
fs::path parent_of(const fs::path& p) {
    fs::path parent = p.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

fs::path temp_template(const fs::path& target) {
    return parent_of(target) / ("." + target.filename().string() + ".tmp-XXXXXX");
}

void fsync_dir(const fs::path& dir, const fs::path& target) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail(target, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    // Some filesystems cannot fsync a directory; the rename itself has happened.
    if (rc != 0 && err != EINVAL && err != EROFS) fail(target, err);
}

void write_all(int fd, std::string_view data, const fs::path& target) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(target, errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// Swaps two paths in one step; false where the kernel or filesystem cannot.
bool exchange_paths(const fs::path& a, const fs::path& b) {
#if defined(SYS_renameat2)
    constexpr unsigned int kRenameExchange = 1U << 1;  // RENAME_EXCHANGE, absent from EL7 headers
    if (::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kRenameExchange) == 0) return true;
    if (errno == ENOSYS || errno == EINVAL || errno == ENOTSUP) return false;
    throw ConfigError("cannot replace " + b.string() + ": " + std::strerror(errno));
#else
    (void)a;
    (void)b;
    return false;
#endif
}

// rename(2) replaces whatever is at the target: a device node (as root, `-o /dev/null` would
// become a regular file), a symlink (the file it names stays as it was), an empty directory.
// Only a regular file, or nothing, may be replaced.
void require_regular_or_absent(const fs::path& target) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        fail(target, errno);
    }
    if (S_ISREG(st.st_mode)) return;
    const char* what = S_ISLNK(st.st_mode)                          ? "a symbolic link"
                       : S_ISDIR(st.st_mode)                        ? "a directory"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                    : "not a regular file";
    throw ConfigError("cannot write " + target.string() + ": it is " + what + "; only regular files are written");
}

}  // namespace

AtomicFile::AtomicFile(fs::path target, mode_t mode) : target_(std::move(target)) {
    require_regular_or_absent(target_);
    std::string templ = temp_template(target_).string();
    fd_ = ::mkostemp(templ.data(), O_CLOEXEC);
    if (fd_ < 0) fail(target_, errno);
    temp_ = templ;
    if (::fchmod(fd_, mode) != 0) {
        int err = errno;
        discard();
        fail(target_, err);
    }
}

AtomicFile::~AtomicFile() { discard(); }

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)), temp_(std::move(other.temp_)), fd_(std::exchange(other.fd_, -1)) {
    other.temp_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
    if (this != &other) {
        discard();
        target_ = std::move(other.target_);
        temp_ = std::move(other.temp_);
        fd_ = std::exchange(other.fd_, -1);
        other.temp_.clear();
    }
    return *this;
}

void AtomicFile::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
}

void AtomicFile::write(std::string_view data) {
    if (fd_ < 0) throw std::logic_error("AtomicFile::write after commit");
    try {
        write_all(fd_, data, target_);
    } catch (...) {
        discard();
        throw;
    }
}

void AtomicFile::commit() {
    if (fd_ < 0) throw std::logic_error("AtomicFile::commit twice");
    if (::fsync(fd_) != 0) {
        int err = errno;
        discard();
        fail(target_, err);
    }
    int rc = ::close(std::exchange(fd_, -1));
    if (rc != 0) {
        int err = errno;
        discard();
        fail(target_, err);
    }
    try {
        require_regular_or_absent(target_);  // it may have appeared since the constructor
    } catch (...) {
        discard();
        throw;
    }
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        int err = errno;
        discard();
        fail(target_, err);
    }
    temp_.clear();
    fsync_dir(parent_of(target_), target_);
}

void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode) {
    AtomicFile file(path, mode);
    file.write(data);
    file.commit();
}

void write_file_atomic(const fs::path& path, const std::function<void(AtomicFile&)>& fill, mode_t mode) {
    AtomicFile file(path, mode);
    fill(file);
    file.commit();
}

void copy_file_atomic(const fs::path& from, const fs::path& to, std::optional<mode_t> mode) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw ConfigError("cannot read " + from.string() + ": " + std::strerror(errno));
    struct InGuard {
        int fd;
        ~InGuard() { ::close(fd); }
    } guard{in};
    struct stat st {};
    if (::fstat(in, &st) != 0) throw ConfigError("cannot read " + from.string() + ": " + std::strerror(errno));
    write_file_atomic(
        to,
        [&](AtomicFile& out) {
            std::string buf(1 << 18, '\0');
            for (;;) {
                ssize_t n = ::read(in, buf.data(), buf.size());
                if (n < 0) {
                    if (errno == EINTR) continue;
                    throw ConfigError("cannot read " + from.string() + ": " + std::strerror(errno));
                }
                if (n == 0) break;
                out.write(std::string_view(buf.data(), static_cast<size_t>(n)));
            }
        },
        mode ? *mode : (st.st_mode & 07777));
}

void remove_stale_temp_files(const fs::path& target) {
    const std::string prefix = "." + target.filename().string() + ".tmp-";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent_of(target), ec)) {
        const std::string name = entry.path().filename().string();
        // mkstemp's suffix is exactly six characters; anything else is not ours.
        if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0 &&
            entry.is_regular_file(ec))
            fs::remove(entry.path(), ec);
    }
}

void replace_dir_atomic(const fs::path& tmp_dir, const fs::path& final_dir) {
    struct stat st {};
    if (::lstat(final_dir.c_str(), &st) != 0) {
        if (errno != ENOENT) throw ConfigError("cannot replace " + final_dir.string() + ": " + std::strerror(errno));
        if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0)
            throw ConfigError("cannot replace " + final_dir.string() + ": " + std::strerror(errno));
        fsync_dir(parent_of(final_dir), final_dir);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        throw ConfigError("cannot replace " + final_dir.string() + ": it exists and is not a directory");
    fs::path old;
    if (exchange_paths(tmp_dir, final_dir)) {
        old = tmp_dir;  // now holds the previous tree
    } else {
        // No exchange: a short window where final_dir is absent, but never half-written.
        std::string templ = (parent_of(final_dir) / ("." + final_dir.filename().string() + ".old-XXXXXX")).string();
        if (!::mkdtemp(templ.data()))
            throw ConfigError("cannot replace " + final_dir.string() + ": " + std::strerror(errno));
        old = templ;
        if (::rename(final_dir.c_str(), old.c_str()) != 0) {
            int err = errno;
            ::rmdir(old.c_str());
            throw ConfigError("cannot replace " + final_dir.string() + ": " + std::strerror(err));
        }
        if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
            int err = errno;
            ::rename(old.c_str(), final_dir.c_str());  // put the old tree back
            throw ConfigError("cannot replace " + final_dir.string() + ": " + std::strerror(err));
        }
    }
    fsync_dir(parent_of(final_dir), final_dir);
    std::error_code ec;
    fs::remove_all(old, ec);
    if (ec)
        throw ConfigError("cannot remove the previous " + final_dir.string() + " (" + old.string() +
                          "): " + ec.message());
}

AtomicDir::AtomicDir(fs::path final_dir) : final_(std::move(final_dir)) {
    std::string templ = temp_template(final_).string();
    if (!::mkdtemp(templ.data())) fail(final_, errno);
    temp_ = templ;
}

AtomicDir::~AtomicDir() { discard(); }

AtomicDir::AtomicDir(AtomicDir&& other) noexcept : final_(std::move(other.final_)), temp_(std::move(other.temp_)) {
    other.temp_.clear();
}

AtomicDir& AtomicDir::operator=(AtomicDir&& other) noexcept {
    if (this != &other) {
        discard();
        final_ = std::move(other.final_);
        temp_ = std::move(other.temp_);
        other.temp_.clear();
    }
    return *this;
}

void AtomicDir::discard() noexcept {
    if (temp_.empty()) return;
    std::error_code ec;
    fs::remove_all(temp_, ec);
    temp_.clear();
}

void AtomicDir::commit() {
    if (temp_.empty()) throw std::logic_error("AtomicDir::commit twice");
    replace_dir_atomic(temp_, final_);
    temp_.clear();
}

namespace {

int open_lock_file(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw ConfigError("cannot open lock file " + path.string() + ": " + std::strerror(errno));
    return fd;
}

// True when taken, false when someone else holds it; ConfigError for anything else.
bool try_flock(int fd, const fs::path& path) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    int err = errno;
    if (err == EWOULDBLOCK) return false;
    throw ConfigError("cannot lock " + path.string() + ": " + std::strerror(err));
}

}  // namespace

FileLock::FileLock(fs::path lock_file) : path_(std::move(lock_file)) {
    fd_ = open_lock_file(path_);
    bool taken = false;
    try {
        taken = try_flock(fd_, path_);
    } catch (...) {
        ::close(std::exchange(fd_, -1));
        throw;
    }
    if (!taken) {
        ::close(std::exchange(fd_, -1));
        auto pid = holder(path_);
        throw ConfigError("another ovirt-applier is running (lock " + path_.string() + " held by pid " +
                          (pid && *pid > 0 ? std::to_string(*pid) : std::string("unknown")) + ")");
    }
    write_pid();
}

FileLock::FileLock(fs::path lock_file, int fd) noexcept : path_(std::move(lock_file)), fd_(fd) {}

FileLock FileLock::wait(fs::path lock_file, const std::function<void(pid_t)>& on_wait) {
    const int fd = open_lock_file(lock_file);
    FileLock lock(std::move(lock_file), fd);  // closes fd from here on, whatever happens
    for (bool told = false; !try_flock(lock.fd_, lock.path_);) {
        if (!told) {
            on_wait(holder(lock.path_).value_or(0));
            told = true;
        }
        if (!sleep_unless_interrupted(std::chrono::milliseconds(100)))
            throw_if_interrupted("waiting for the lock " + lock.path_.string());
    }
    lock.write_pid();
    return lock;
}

void FileLock::write_pid() {
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        int err = errno;
        release();
        throw ConfigError("cannot write lock file " + path_.string() + ": " + std::strerror(err));
    }
}

FileLock::~FileLock() { release(); }

FileLock::FileLock(FileLock&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void FileLock::release() noexcept {
    if (fd_ < 0) return;
    // Empty first, so that a stale pid is never shown for a lock nobody holds.
    int rc = ::ftruncate(fd_, 0);
    (void)rc;  // nothing to do about it: the lock is released by close() either way
    ::close(std::exchange(fd_, -1));
}

std::optional<pid_t> FileLock::holder(const fs::path& lock_file) {
    int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<pid_t> result;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
        // The holder may not have written its pid yet; 0 says "held, pid unknown".
        result = static_cast<pid_t>(pid > 0 ? pid : 0);
    }
    ::close(fd);
    return result;
}

}  // namespace airgap::repo
