#include "repo/base/rfc3339.hpp"

#include <gtest/gtest.h>

using namespace airgap::repo;

TEST(Rfc3339, FormatsWholeSecondsAndParsesOnlyUtc) {
    using namespace std::chrono;
    auto t = system_clock::from_time_t(1764079200) + milliseconds(750);
    EXPECT_EQ(format_rfc3339(t), "2025-11-25T14:00:00Z");
    EXPECT_EQ(parse_rfc3339("2025-11-25T14:00:00Z"), system_clock::from_time_t(1764079200));
    EXPECT_EQ(parse_rfc3339("2025-11-25T14:00:00.123456Z"), system_clock::from_time_t(1764079200));
    EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), system_clock::from_time_t(1709164800));
    for (const char* bad :
         {"2025-02-29T00:00:00Z", "2025-11-25T24:00:00Z", "2025-11-25T14:00:00", "2025-11-25T14:00:00+01:00",
          "2025-11-25t14:00:00z", "2025-13-01T00:00:00Z", "2025-11-25T14:00:00.Z", "2025-11-25"})
        EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
}
