#pragma once
// librpm's log while libsolv reads an rpmdb through it. rpm 4.18 reads EL7's Berkeley DB rpmdb
// read-only (bdb_ro) and warns, on every read, about each index rpm 4.11 never had
// (Filetriggername, Recommendname, ...), and that it picked bdb_ro over the configured backend.
// Both are expected on every CentOS 7 machine: this drops exactly those warnings and lets
// every other message (errors above all) through to librpm's own output.

namespace airgap::repo {

/// While alive, librpm's expected EL7 rpmdb warnings are dropped. A no-op when librpm is not
/// loaded (a libsolv that reads the rpmdb without it).
class RpmLogFilter {
public:
    RpmLogFilter();
    ~RpmLogFilter();
    RpmLogFilter(const RpmLogFilter&) = delete;
    RpmLogFilter& operator=(const RpmLogFilter&) = delete;

private:
    void* previous_ = nullptr;  // the callback librpm had before
    bool installed_ = false;
};

}  // namespace airgap::repo
