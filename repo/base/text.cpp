#include "repo/base/text.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace airgap::repo {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view blanks = " \t\r\n\v\f";
    auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

std::optional<std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return std::nullopt;
    return content;
}

std::string format_bytes(std::uint64_t bytes, ByteUnit unit) {
    static const char* const names[] = {"KiB", "MiB", "GiB", "TiB"};
    const auto index = static_cast<int>(unit);
    double value = static_cast<double>(bytes);
    for (int i = 0; i <= index; ++i) value /= 1024.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", value, names[index]);
    return buf;
}

std::string human_size(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    auto unit = ByteUnit::kib;
    for (auto next : {ByteUnit::mib, ByteUnit::gib, ByteUnit::tib})
        if (bytes >= (std::uint64_t{1} << (10 * (static_cast<int>(next) + 1)))) unit = next;
    return format_bytes(bytes, unit);
}

}  // namespace airgap::repo
