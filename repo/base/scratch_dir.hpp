#pragma once
// A private temporary directory for work that never becomes part of an output (downloads to
// check, a signing probe, an archive's manifest read for verification).
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "repo/base/error.hpp"

namespace airgap::repo {

/// A fresh directory $TMPDIR/PREFIX.XXXXXX (mode 0700), removed with its content when the object
/// dies. Throws ConfigError "cannot create a temporary directory in TMPDIR: REASON". Not copyable.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& prefix) {
        const std::filesystem::path tmp = std::filesystem::temp_directory_path();
        std::string templ = (tmp / (prefix + ".XXXXXX")).string();
        if (!::mkdtemp(templ.data()))
            throw ConfigError("cannot create a temporary directory in " + tmp.string() + ": " + std::strerror(errno));
        path_ = templ;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    /// The directory; valid as long as this object lives.
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace airgap::repo
