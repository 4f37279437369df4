#include "repo/archive/sha256.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "repo/base/error.hpp"
#include "tests/shared/testkit.hpp"

using namespace airgap;
using namespace airgap::repo;
namespace fs = std::filesystem;

using test::sha256sum;
using test::write_random_file;

namespace {

// Writes `size` random bytes (from `seed`) to `file` and checks that hash_file() reads all of
// them and agrees with sha256sum.
void expect_hash_file_matches_sha256sum(const fs::path& file, std::size_t size, unsigned seed) {
    write_random_file(file, size, seed);
    FileDigest d = hash_file(file);
    EXPECT_EQ(d.size, size);
    EXPECT_EQ(d.sha256, sha256sum(file));
}

}  // namespace

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    Sha256 h;
    std::string million(1000000, 'a');
    for (std::size_t i = 0; i < million.size(); i += 999) h.update(million.substr(i, 999));
    EXPECT_EQ(h.finish(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, HashFileMatchesSha256sum) {
    test::TempDir dir;
    // Larger than one read block, and not a multiple of it.
    expect_hash_file_matches_sha256sum(dir.path() / "payload.rpm", (3u << 20) + 12345, 7);

    fs::path empty = dir.path() / "empty";
    std::ofstream(empty).close();
    EXPECT_EQ(hash_file(empty), (FileDigest{0, sha256_hex("")}));
}

TEST(Sha256, LargeFileMatchesSha256sumAndCanBeAbortedMidway) {
    test::TempDir dir;
    // Many read blocks, and not a multiple of one.
    fs::path file = dir.path() / "big.rpm";
    expect_hash_file_matches_sha256sum(file, (21u << 20) + 777, 9);
    // Aborting in the middle stops at once, not at the end of the file.
    std::uint64_t seen = 0;
    EXPECT_THROW(hash_file(file,
                           [&](std::uint64_t done) {
                               seen = done;
                               return done < (4u << 20);
                           }),
                 Interrupted);
    EXPECT_GE(seen, 4u << 20);
    EXPECT_LT(seen, 21u << 20);
}

TEST(Sha256, HashFileReportsProgressAndCanAbort) {
    test::TempDir dir;
    fs::path file = dir.path() / "payload";
    write_random_file(file, 5u << 20, 1);
    std::uint64_t last = 0;
    hash_file(file, [&](std::uint64_t done) {
        EXPECT_GT(done, last);
        last = done;
        return true;
    });
    EXPECT_EQ(last, 5u << 20);
    EXPECT_THROW(hash_file(file, [](std::uint64_t) { return false; }), Interrupted);
}

TEST(Sha256, HashFileOfMissingFileNamesIt) {
    try {
        hash_file("/nonexistent/x.rpm");
        FAIL() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/x.rpm"), std::string::npos) << e.what();
    }
}

TEST(Sha256, CopyIsHashedOnceAndEqualsTheSource) {
    test::TempDir dir;
    fs::path from = dir.path() / "from.rpm", to = dir.path() / "to.rpm";
    write_random_file(from, (2u << 20) + 1, 3);
    FileDigest d = copy_file_hashed(from, to);
    EXPECT_EQ(d, hash_file(from));
    EXPECT_EQ(d.sha256, sha256sum(to));
    EXPECT_EQ(test::run_command({"cmp", from.string(), to.string()}).exit_code, 0);
    // The target is created exclusively: an existing file is never overwritten.
    EXPECT_THROW(copy_file_hashed(from, to), std::system_error);
    EXPECT_EQ(hash_file(to), d);
}

TEST(Sha256, UnfinishedHashingWriterLeavesNoFile) {
    test::TempDir dir;
    fs::path out = dir.path() / "partial";
    {
        HashingWriter w(out);
        w.write("abc", 3);
        EXPECT_TRUE(fs::exists(out));
    }
    EXPECT_FALSE(fs::exists(out));
    HashingWriter w(out);
    w.write("ab", 2);
    w.write("c", 1);
    EXPECT_EQ(w.finish(true), (FileDigest{3, sha256_hex("abc")}));
    EXPECT_EQ(fs::file_size(out), 3u);
}
