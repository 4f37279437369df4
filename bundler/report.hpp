#pragma once
// How a plan is shown: dnf-like tables, one per machine, or JSON.
#include <iosfwd>

#include "repo/base/text.hpp"
#include "repo/bundle/plan.hpp"

namespace airgap::bundler {

/// `resolve --json`: {"packages": [{"nevra", "repo", "size", "reason"}], "problems": [...],
/// "locked": [what a Node's version lock holds back]}.
void print_plan_json(const repo::Plan& plan, std::ostream& out);

/// Per machine (inventory or role), dnf's transaction table in at most 80 columns: sections
/// Installing (roots, installonly kernels), Upgrading (old -> new), Installing dependencies,
/// "replacing" lines for obsoletes, and a summary counted by the reasons --json gives; then the
/// rollback packages and the total to carry.
void print_plan_table(const repo::Plan& plan, std::ostream& out);

/// 1536 -> "1.5 KiB".
using repo::human_size;

}  // namespace airgap::bundler
