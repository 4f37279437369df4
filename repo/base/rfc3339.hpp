#pragma once
// RFC 3339 UTC timestamps, "YYYY-MM-DDTHH:MM:SSZ": bundle.json's created and expires, the
// journal's times, certificate validity as keygen shows it.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace airgap::repo {

/// "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds, rounded down).
std::string format_rfc3339(std::chrono::system_clock::time_point t);

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC only); nullopt when malformed or out of range.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace airgap::repo
