#include "repo/state/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

namespace fs = std::filesystem;
using namespace airgap;
using namespace airgap::repo;
using test::error_of;
using test::read_file;

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

}  // namespace

TEST(AtomicFile, WritesANewFileWithExactModeAndNoTemp) {
    test::TempDir dir;
    const fs::path target = dir.path() / "ovirt-airgap-base.repo";
    ::umask(077);  // the mode is applied exactly, whatever the umask
    write_file_atomic(target, "[base]\nbaseurl=file:///x\n", 0644);
    ::umask(022);
    EXPECT_EQ(read_file(target), "[base]\nbaseurl=file:///x\n");
    EXPECT_EQ(mode_of(target), 0644u);
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"ovirt-airgap-base.repo"});
}

TEST(AtomicFile, ReplacesAnExistingFile) {
    test::TempDir dir;
    const fs::path target = dir.path() / "state.json";
    write_file_atomic(target, "old");
    write_file_atomic(target, "new and longer", 0600);
    EXPECT_EQ(read_file(target), "new and longer");
    EXPECT_EQ(mode_of(target), 0600u);
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"state.json"});
}

TEST(AtomicFile, ThrowingWriterLeavesOldContentAndNoTemp) {
    test::TempDir dir;
    const fs::path target = dir.path() / "journal.json";
    write_file_atomic(target, "{\"old\": true}\n");
    EXPECT_THROW(write_file_atomic(target,
                                   [](AtomicFile& f) {
                                       f.write("{\"new\": ");
                                       throw StepFailed("disk on fire");
                                   }),
                 StepFailed);
    EXPECT_EQ(read_file(target), "{\"old\": true}\n");
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"journal.json"});
}

TEST(AtomicFile, ParentThatIsAFileFailsCleanly) {
    test::TempDir dir;
    write_file_atomic(dir.path() / "plain", "content");
    const fs::path target = dir.path() / "plain" / "x.json";
    EXPECT_EQ(error_of<ConfigError>([&] { write_file_atomic(target, "data"); }),
              "cannot write " + target.string() + ": Not a directory");
    EXPECT_EQ(read_file(dir.path() / "plain"), "content");
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"plain"});
}

TEST(AtomicFile, MissingParentFailsCleanly) {
    test::TempDir dir;
    const fs::path target = dir.path() / "gone" / "x.json";
    EXPECT_EQ(error_of<ConfigError>([&] { write_file_atomic(target, "data"); }),
              "cannot write " + target.string() + ": No such file or directory");
    EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(AtomicFile, UncommittedFileIsRemoved) {
    test::TempDir dir;
    {
        AtomicFile f(dir.path() / "a");
        f.write("partial");
        EXPECT_TRUE(fs::exists(f.temp_path()));
        EXPECT_EQ(f.temp_path().parent_path(), dir.path());
    }
    EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(AtomicFile, CopyKeepsContentAndSourceMode) {
    test::TempDir dir;
    std::string big(1 << 20, 'x');
    for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
    write_file_atomic(dir.path() / "src.rpm", big, 0640);
    copy_file_atomic(dir.path() / "src.rpm", dir.path() / "dst.rpm");
    EXPECT_EQ(read_file(dir.path() / "dst.rpm"), big);
    EXPECT_EQ(mode_of(dir.path() / "dst.rpm"), 0640u);
    copy_file_atomic(dir.path() / "src.rpm", dir.path() / "dst2.rpm", 0600);
    EXPECT_EQ(mode_of(dir.path() / "dst2.rpm"), 0600u);
    EXPECT_EQ(error_of<ConfigError>([&] { copy_file_atomic(dir.path() / "nope", dir.path() / "dst.rpm"); }),
              "cannot read " + (dir.path() / "nope").string() + ": No such file or directory");
    EXPECT_EQ(read_file(dir.path() / "dst.rpm"), big);
}

TEST(AtomicFile, RemovesOnlyItsOwnStaleTemps) {
    test::TempDir dir;
    const fs::path target = dir.path() / "journal.json";
    write_file_atomic(target, "ok");
    write_file_atomic(dir.path() / ".journal.json.tmp-abcdef", "stale");
    write_file_atomic(dir.path() / ".other.json.tmp-abcdef", "not ours");
    write_file_atomic(dir.path() / ".journal.json.tmp-toolongname", "not mkstemp's");
    remove_stale_temp_files(target);
    EXPECT_EQ(names_in(dir.path()),
              (std::vector<std::string>{".journal.json.tmp-toolongname", ".other.json.tmp-abcdef", "journal.json"}));
}

TEST(AtomicDir, CommitCreatesThenReplacesTheWholeTree) {
    test::TempDir dir;
    const fs::path final_dir = dir.path() / "staged";
    {
        AtomicDir d(final_dir);
        fs::create_directories(d.path() / "repos" / "a");
        write_file_atomic(d.path() / "repos" / "a" / "one", "1");
        EXPECT_FALSE(fs::exists(final_dir));
        d.commit();
    }
    EXPECT_EQ(read_file(final_dir / "repos" / "a" / "one"), "1");
    {
        AtomicDir d(final_dir);
        write_file_atomic(d.path() / "two", "2");
        d.commit();
    }
    EXPECT_FALSE(fs::exists(final_dir / "repos"));
    EXPECT_EQ(read_file(final_dir / "two"), "2");
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"staged"});
}

TEST(AtomicDir, UncommittedTreeIsRemovedAndTheOldOneKept) {
    test::TempDir dir;
    const fs::path final_dir = dir.path() / "staged";
    fs::create_directories(final_dir);
    write_file_atomic(final_dir / "old", "old");
    {
        AtomicDir d(final_dir);
        fs::create_directories(d.path() / "deep" / "er");
        write_file_atomic(d.path() / "deep" / "er" / "x", "x");
    }
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"staged"});
    EXPECT_EQ(read_file(final_dir / "old"), "old");
}

TEST(AtomicDir, RefusesToReplaceAFile) {
    test::TempDir dir;
    const fs::path final_dir = dir.path() / "staged";
    write_file_atomic(final_dir, "a file");
    fs::create_directories(dir.path() / "new");
    EXPECT_EQ(error_of<ConfigError>([&] { replace_dir_atomic(dir.path() / "new", final_dir); }),
              "cannot replace " + final_dir.string() + ": it exists and is not a directory");
    EXPECT_EQ(read_file(final_dir), "a file");
}

TEST(FileLock, SecondLockerInAnotherProcessIsRefusedWithThePid) {
    test::TempDir dir;
    const fs::path lock = dir.path() / "applier.lock";
    int ready[2], release[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(release), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        ::close(release[1]);
        try {
            FileLock held(lock);
            char c = 'r';
            if (::write(ready[1], &c, 1) != 1) ::_exit(2);
            ssize_t n = ::read(release[0], &c, 1);  // returns when the parent closes its end
            (void)n;
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);

    EXPECT_EQ(
        error_of<ConfigError>([&] { FileLock second(lock); }),
        "another ovirt-applier is running (lock " + lock.string() + " held by pid " + std::to_string(child) + ")");
    EXPECT_EQ(FileLock::holder(lock), std::optional<pid_t>(child));

    ::close(release[1]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(FileLock::holder(lock), std::nullopt);

    FileLock mine(lock);  // free again once the holder is gone (also after kill -9: flock dies with it)
    EXPECT_EQ(FileLock::holder(lock), std::optional<pid_t>(::getpid()));
    mine.release();
    EXPECT_EQ(FileLock::holder(lock), std::nullopt);
    EXPECT_TRUE(fs::exists(lock));
}

TEST(FileLock, WaitSaysOnceWhoHoldsItAndTakesItWhenFreed) {
    test::TempDir dir;
    const fs::path lock = dir.path() / "lock";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        try {
            FileLock held(lock);
            char c = 'r';
            if (::write(ready[1], &c, 1) != 1) ::_exit(2);
            ::usleep(400 * 1000);  // the parent waits meanwhile
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);

    std::vector<pid_t> told;
    FileLock mine = FileLock::wait(lock, [&](pid_t holder) { told.push_back(holder); });
    // Taken only once the child let go: by then it has ended (or is ending) its sleep.
    EXPECT_EQ(told, std::vector<pid_t>{child});
    EXPECT_EQ(FileLock::holder(lock), std::optional<pid_t>(::getpid()));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // A free lock is taken at once, with nothing said.
    mine.release();
    told.clear();
    FileLock again = FileLock::wait(lock, [&](pid_t holder) { told.push_back(holder); });
    EXPECT_TRUE(told.empty());
    EXPECT_EQ(FileLock::holder(lock), std::optional<pid_t>(::getpid()));
}

TEST(FileLock, MissingDirectoryIsAConfigError) {
    test::TempDir dir;
    const fs::path lock = dir.path() / "missing" / "applier.lock";
    EXPECT_EQ(error_of<ConfigError>([&] { FileLock l(lock); }),
              "cannot open lock file " + lock.string() + ": No such file or directory");
    EXPECT_EQ(FileLock::holder(lock), std::nullopt);
}
