#pragma once
// librpm's log while libsolv reads an rpmdb through it. rpm 4.18 reads EL7's Berkeley DB rpmdb
// read-only (bdb_ro) and warns, on every read, about each of the six indexes rpm 4.11 never had
// (Filetriggername, Recommendname, ...). That is expected on every CentOS 7 machine: this drops
// exactly those warnings and lets every other message (errors above all) through to librpm's
// own output.
#include <filesystem>
#include <string>

namespace airgap::repo {

/// While alive, librpm's warnings that an index in `dbdir` cannot be opened are dropped. A
/// no-op when librpm is not loaded (a libsolv that reads the rpmdb without it).
class RpmLogFilter {
public:
    explicit RpmLogFilter(const std::filesystem::path& dbdir);
    ~RpmLogFilter();
    RpmLogFilter(const RpmLogFilter&) = delete;
    RpmLogFilter& operator=(const RpmLogFilter&) = delete;

    /// True for the message this filter drops: bdb_ro's warning about an index of `dbdir`.
    bool drops(int priority, const char* text) const;

private:
    std::string missing_index_;  // "could not open DBDIR/"
    void* previous_ = nullptr;   // the callback librpm had before
    bool installed_ = false;
};

}  // namespace airgap::repo
