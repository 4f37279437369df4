#include "repo/base/rfc3339.hpp"

#include <cstddef>
#include <ctime>

namespace airgap::repo {

namespace {

int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    if (secs > t) secs -= std::chrono::seconds(1);  // floor, also before 1970
    std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS then an optional fraction (ignored) and 'Z'.
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (s.size() < 20) return std::nullopt;
    for (size_t i = 0; i < 19; ++i) {
        bool digit = s[i] >= '0' && s[i] <= '9';
        if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return std::nullopt;
    }
    size_t pos = 19;
    if (s[pos] == '.') {
        size_t digits = 0;
        while (++pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++digits;
        if (digits == 0) return std::nullopt;
    }
    if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
    auto num = [&](size_t at, size_t len) {
        int v = 0;
        for (size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    std::tm tm{};
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(5, 2) - 1;
    tm.tm_mday = num(8, 2);
    tm.tm_hour = num(11, 2);
    tm.tm_min = num(14, 2);
    tm.tm_sec = num(17, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > days_in_month(num(0, 4), tm.tm_mon + 1) ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace airgap::repo
