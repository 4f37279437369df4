#pragma once
// Small text helpers every area uses: joining words, trimming a line, reading a whole file,
// and sizes written for people. One definition each, so that messages agree across the tools.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airgap::repo {

/// `items` separated by `sep`: {"a", "b"} -> "a, b" with ", "; empty for no items.
std::string join(const std::vector<std::string>& items, std::string_view sep = " ");

/// `s` without leading and trailing blanks (space, tab, CR, LF, vertical tab, form feed).
std::string_view trim(std::string_view s);

/// The whole content of `file`, byte for byte; nullopt when it cannot be opened or read.
std::optional<std::string> read_file(const std::filesystem::path& file);

/// A binary unit for format_bytes().
enum class ByteUnit { kib, mib, gib, tib };

/// `bytes` in `unit` with one decimal: 1536, kib -> "1.5 KiB".
std::string format_bytes(std::uint64_t bytes, ByteUnit unit);

/// `bytes` in the largest unit that leaves at least 1: "512 B", "150.3 KiB", "4.0 GiB".
std::string human_size(std::uint64_t bytes);

}  // namespace airgap::repo
