#include "repo/base/text.hpp"

#include <gtest/gtest.h>

#include "tests/shared/testkit.hpp"

using namespace airgap::repo;
namespace fs = std::filesystem;

TEST(Text, JoinSeparatesOnlyBetweenItems) {
    EXPECT_EQ(join({}), "");
    EXPECT_EQ(join({"a"}, ", "), "a");
    EXPECT_EQ(join({"a", "b", "c"}), "a b c");
    EXPECT_EQ(join({"host1", "host2"}, ", "), "host1, host2");
    EXPECT_EQ(join({"", "x", ""}, ";"), ";x;") << "empty items keep their place";
}

TEST(Text, TrimDropsBlanksAtBothEndsOnly) {
    EXPECT_EQ(trim("  key = value \t\r"), "key = value");
    EXPECT_EQ(trim("\t\n"), "");
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim("a b"), "a b");
    std::string line = " [ovirt-4.3] ";
    std::string_view t = trim(line);
    EXPECT_EQ(t.data(), line.data() + 1) << "a view into the line, not a copy";
}

TEST(Text, ReadFileGivesTheExactBytesOrNothing) {
    airgap::test::TempDir t;
    std::string bytes("a\0b\r\nlast", 9);
    airgap::test::write_file(t.path() / "f", bytes);
    EXPECT_EQ(read_file(t.path() / "f"), bytes);
    EXPECT_EQ(read_file(t.path() / "missing"), std::nullopt);
}

TEST(Text, SizesAreWrittenInBinaryUnits) {
    EXPECT_EQ(format_bytes(1536, ByteUnit::kib), "1.5 KiB");
    EXPECT_EQ(format_bytes(3u << 20, ByteUnit::mib), "3.0 MiB");
    EXPECT_EQ(format_bytes(std::uint64_t{8} << 30, ByteUnit::gib), "8.0 GiB");
    EXPECT_EQ(format_bytes(512, ByteUnit::mib), "0.0 MiB");
    EXPECT_EQ(human_size(0), "0 B");
    EXPECT_EQ(human_size(1023), "1023 B");
    EXPECT_EQ(human_size(1024), "1.0 KiB");
    EXPECT_EQ(human_size(153907), "150.3 KiB");
    EXPECT_EQ(human_size(std::uint64_t{4} << 30), "4.0 GiB");
    EXPECT_EQ(human_size(std::uint64_t{3} << 40), "3.0 TiB");
}
