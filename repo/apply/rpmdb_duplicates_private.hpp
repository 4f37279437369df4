#pragma once
// What a package-manager transaction cut short leaves in the rpmdb (a kill -9 or a power loss
// in yum's cleanup phase): the new version of a package installed and the old one not yet
// erased, both in the rpmdb. yum finishes such a transaction with yum-complete-transaction
// (from the transaction-all/transaction-done files it leaves in /var/lib/yum), or
// `package-cleanup --cleandupes` erases the older copy of each duplicate; a later `yum update`
// sees "Nothing to do" and fixes neither.
#include <filesystem>
#include <string>
#include <vector>

namespace airgap::repo {

/// The older copy (name-[epoch:]version-release.arch) of every package installed twice in the
/// rpmdb of `root` ("/" or empty: this machine), as package-cleanup --dupes finds them: the
/// same name with the same arch, or archs that cannot be installed side by side (noarch with
/// x86_64, or two of i386..i686/noarch). kernel* and gpg-pubkey are left out: they are
/// installed side by side on purpose. Sorted.
std::vector<std::string> older_duplicates(const std::filesystem::path& root);

/// yum's journal of a transaction that did not finish: ROOT/var/lib/yum/transaction-all.* and
/// transaction-done.*. Sorted; empty when there is none.
std::vector<std::filesystem::path> unfinished_yum_transactions(const std::filesystem::path& root);

}  // namespace airgap::repo
