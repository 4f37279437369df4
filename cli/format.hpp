#pragma once
// How sizes are written for people, the same in every table, progress line and summary.
#include <cstdint>
#include <string>

namespace airgap::cli {

/// 1536 -> "1.5 KiB"; below 1 KiB in bytes ("512 B"), then one decimal in KiB .. TiB.
std::string human_size(std::uint64_t bytes);

}  // namespace airgap::cli
