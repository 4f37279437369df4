#pragma once
// The inventory a secured site carries out (docs/inventory-format.md): plain, reviewable text.
// A header of `#key: value` lines, then the installed packages in libsolv's testtags format
// (=Pkg:, +Req:/-Req:, +Prv:/-Prv:, ...). testtags readers skip the `#` lines.
#include <filesystem>
#include <string>
#include <vector>

#include "repo/solv/solv_pool.hpp"

namespace airgap::repo {

/// The inventory format this version writes and reads (`#ovirt-airgap-inventory: 1`).
constexpr int kInventoryFormat = 1;

/// engine, host, node.
const std::vector<std::string>& inventory_roles();

/// What the header says about the machine.
struct InventoryHeader {
    int format = kInventoryFormat;
    std::string hostname;
    std::string role;                // engine | host | node
    std::string os_name;             // os-release PRETTY_NAME
    std::string os_version_id;       // os-release VERSION_ID
    std::string arch;                // base arch, e.g. x86_64
    std::string releasever;          // yum's $releasever
    std::string variant;             // "ovirt-node" on an oVirt Node, else empty
    std::string layer;               // on a Node: the imgbased layer it runs, e.g. ovirt-node-ng-4.3.9-0.20200324.0+1
    std::string kernel;              // running kernel (uname -r); see `root`
    std::string root;                // set when taken with --root: `kernel` is then the host's
    std::vector<std::string> repos;  // enabled repo ids, sorted
    std::size_t packages = 0;        // installed packages listed (`#packages:`)
    bool has_package_count = false;  // the header had a `#packages:` line: load_inventory checks it
};

struct InventoryOptions {
    std::string role;  // one of inventory_roles(); empty: node on an oVirt Node

    std::filesystem::path root;  // empty: this machine
};

/// Describes the machine under `options.root`: its rpmdb, /etc/os-release,
/// /etc/yum.repos.d/*.repo, hostname and kernel; on an oVirt Node (os-release
/// VARIANT_ID="ovirt-node" and imgbased installed) also the variant and the running layer.
/// Returns the whole inventory text. Throws ConfigError (bad role, no role off a Node, role
/// engine on a Node, no rpmdb, unreadable repo file).
std::string make_inventory(const InventoryOptions& options);

/// An oVirt Node: /etc/os-release under `root` says VARIANT_ID="ovirt-node" and imgbased is
/// there (/usr/sbin/imgbase or /var/imgbased).
bool is_ovirt_node(const std::filesystem::path& root);

/// Reads and validates the header of an inventory file. Throws ConfigError, one line naming
/// the file: not an inventory, an unsupported format version, a missing or unknown role.
InventoryHeader read_inventory_header(const std::filesystem::path& file);

/// read_inventory_header, then checks it against `pool` (arch) and `expected_role` (when not
/// empty) and loads its packages as the pool's installed system; a package count other than
/// the header's (a truncated file) is refused. Throws ConfigError.
InventoryHeader load_inventory(SolvPool& pool, const std::filesystem::path& file,
                               const std::string& expected_role = {});

}  // namespace airgap::repo
