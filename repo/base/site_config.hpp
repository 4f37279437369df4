#pragma once
// The site's defaults for the applier's long options (/etc/ovirt-airgap/applier.conf), so that
// the trust certificate and the Engine's address are not typed on every host. What the
// command line gives always wins.
#include <filesystem>
#include <map>
#include <string>

namespace airgap::repo {

class SiteConfig {
public:
    /// The keys a site config may set, each named like the option it stands for.
    static const char* const kKeys[];

    /// /etc/ovirt-airgap/applier.conf, inside `root` when one is given.
    static std::filesystem::path default_file(const std::filesystem::path& root);

    /// Reads `file`: lines "key = value", '#' starts a comment line. A missing file is an empty
    /// config unless `required`. Paths in it are paths of the system under `root` (a relative
    /// one is relative to the file's directory). Throws ConfigError "FILE:LINE: ..." on a line
    /// it cannot read or a key it does not know.
    static SiteConfig load(const std::filesystem::path& file, const std::filesystem::path& root, bool required);

    /// Sets `field` from `key` when the command line left it empty.
    void fill(std::string& field, const std::string& key) const;
    void fill(std::filesystem::path& field, const std::string& key) const;

    /// The file read ("" when there was none), for messages that point to it.
    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path file_;
    std::filesystem::path root_;
    std::map<std::string, std::string> values_;
};

}  // namespace airgap::repo
