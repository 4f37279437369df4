#pragma once
// How a plan is shown: a dnf-like table grouped by repo, or DESIGN.md's JSON.
#include <iosfwd>

#include "repo/plan.hpp"

namespace airgap::bundler {

/// `resolve --json`: {"packages": [{"nevra", "repo", "size", "reason"}], "problems": [...],
/// "locked": [what a Node's version lock holds back]}.
void print_plan_json(const repo::Plan& plan, std::ostream& out);

/// Per repo: package, version, arch, size, why; then totals.
void print_plan_table(const repo::Plan& plan, std::ostream& out);

/// 1536 -> "1.5 KiB".
std::string human_size(std::uint64_t bytes);

}  // namespace airgap::bundler
