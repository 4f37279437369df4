#pragma once
// Atomic writes and the applier lock: a temp file or directory beside the
// target, fsync, rename, fsync the directory. A crash at any point leaves either the old
// content or the new one, never a mix; a failure leaves the target untouched and no temp.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace airgap::repo {

/// A new file being written beside `target`; it becomes `target` on commit() only.
/// The temp file (".NAME.tmp-XXXXXX" in the target's dir) is removed when the object dies
/// uncommitted. Errors throw ConfigError "cannot write TARGET: reason". Only a regular file
/// (or nothing) at `target` is replaced: a device, a symlink or a directory there is refused,
/// both when the object is made and again just before the rename, and left as it is.
class AtomicFile {
public:
    /// Creates the temp file now; `mode` is applied exactly (umask does not apply).
    explicit AtomicFile(std::filesystem::path target, mode_t mode = 0644);
    ~AtomicFile();
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&& other) noexcept;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends all of `data` (retries short writes).
    void write(std::string_view data);
    /// The temp file's descriptor, for writers that need one (owned by this object).
    int fd() const noexcept { return fd_; }
    /// fsync, close, rename over the target, fsync the directory. Call once.
    void commit();

    const std::filesystem::path& target() const noexcept { return target_; }
    const std::filesystem::path& temp_path() const noexcept { return temp_; }

private:
    void discard() noexcept;
    std::filesystem::path target_;
    std::filesystem::path temp_;
    int fd_ = -1;
};

/// Replaces (or creates) `path` with `data`, atomically and durably.
void write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode = 0644);

/// Same, with the content produced by `fill`; if `fill` throws, the target is untouched,
/// the temp file removed, and the exception propagates.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(AtomicFile&)>& fill,
                       mode_t mode = 0644);

/// Copies `from` to `to` atomically; `mode` defaults to the permission bits of `from`.
void copy_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to,
                      std::optional<mode_t> mode = std::nullopt);

/// Removes temp files that a killed writer left beside `target` (".NAME.tmp-*"). Only call
/// while holding the lock that serialises writers of `target`.
void remove_stale_temp_files(const std::filesystem::path& target);

/// Puts the complete directory `tmp_dir` in place as `final_dir` (same filesystem). An
/// existing `final_dir` is swapped out in one step (renameat2 RENAME_EXCHANGE, or renamed
/// aside then replaced where the kernel lacks it) and then removed. Throws ConfigError.
void replace_dir_atomic(const std::filesystem::path& tmp_dir, const std::filesystem::path& final_dir);

/// A directory tree built beside `final_dir` (".NAME.tmp-XXXXXX") and put in place by
/// commit(); removed with its content when the object dies uncommitted.
class AtomicDir {
public:
    explicit AtomicDir(std::filesystem::path final_dir);
    ~AtomicDir();
    AtomicDir(AtomicDir&& other) noexcept;
    AtomicDir& operator=(AtomicDir&& other) noexcept;
    AtomicDir(const AtomicDir&) = delete;
    AtomicDir& operator=(const AtomicDir&) = delete;

    /// Where to build the tree until commit().
    const std::filesystem::path& path() const noexcept { return temp_; }
    const std::filesystem::path& final_path() const noexcept { return final_; }
    /// replace_dir_atomic(path(), final_path()). Call once.
    void commit();

private:
    void discard() noexcept;
    std::filesystem::path final_;
    std::filesystem::path temp_;
};

/// An exclusive flock(2) on `lock_file` for the life of the object; the holder's pid is
/// written into the file so that a second locker can name it. The file is never removed
/// (removing lock files races with lockers), only emptied on release.
class FileLock {
public:
    /// Throws ConfigError "another ovirt-applier is running (lock FILE held by pid N)" when
    /// held elsewhere, or "cannot open lock file FILE: reason". The parent dir must exist.
    explicit FileLock(std::filesystem::path lock_file);
    /// Waits for the lock instead of refusing, as yum and dnf wait for their own: a lock held
    /// elsewhere calls `on_wait` once with the holder's pid (0: unknown), then is tried again
    /// every 100 ms until it is free. Interrupted (SIGINT/SIGTERM) ends the wait.
    static FileLock wait(std::filesystem::path lock_file, const std::function<void(pid_t)>& on_wait);
    ~FileLock();
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// Releases early (the destructor does it otherwise).
    void release() noexcept;

    /// The pid recorded by the current holder (0 when held but no pid written yet), or
    /// nullopt when nobody holds the lock or the file does not exist. For `status`; never blocks.
    static std::optional<pid_t> holder(const std::filesystem::path& lock_file);

private:
    FileLock(std::filesystem::path lock_file, int fd) noexcept;
    void write_pid();
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace airgap::repo
