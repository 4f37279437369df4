#include "repo/solv/inventory.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "repo/base/error.hpp"
#include "repo/base/target.hpp"
#include "repo/base/text.hpp"
#include "repo/repos/repo_config.hpp"

extern "C" {
#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/solvable.h>
#include <solv/testcase.h>
}

namespace fs = std::filesystem;

namespace airgap::repo {

namespace {

const char* const kMagic = "ovirt-airgap-inventory";

// Header values are one line each whatever the machine says.
std::string one_line(std::string value) {
    for (char& c : value)
        if (c == '\n' || c == '\r') c = ' ';
    return value;
}

// os-release is shell-like KEY=value with optional quotes (os-release(5)).
std::string os_release_value(const fs::path& root, const std::string& key) {
    for (const char* rel : {"etc/os-release", "usr/lib/os-release"}) {
        std::ifstream in(root / rel);
        if (!in) continue;
        std::string line;
        while (std::getline(in, line)) {
            if (line.compare(0, key.size() + 1, key + "=") != 0) continue;
            std::string v(trim(line.substr(key.size() + 1)));
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
                v = v.substr(1, v.size() - 2);
            std::string out;
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (v[i] == '\\' && i + 1 < v.size()) ++i;
                out += v[i];
            }
            return out;
        }
        return "";
    }
    return "";
}

// yum's $releasever: the system-release(releasever) provide, else the version of the
// package providing redhat-release or system-release, else os-release's VERSION_ID.
std::string releasever_of(SolvPool& spool, const std::string& version_id) {
    Pool* pool = spool.get();
    Repo* installed = spool.installed();
    if (!installed) return version_id;
    Id rel = pool_str2id(pool, "system-release(releasever)", 0);
    Id fallbacks[] = {pool_str2id(pool, "redhat-release", 0), pool_str2id(pool, "system-release", 0)};
    std::string from_package;
    Queue q;
    queue_init(&q);
    Id p;
    Solvable* s;
    std::string result;
    FOR_REPO_SOLVABLES(installed, p, s) {
        solvable_lookup_idarray(s, SOLVABLE_PROVIDES, &q);
        for (int i = 0; i < q.count && result.empty(); ++i) {
            Id dep = q.elements[i];
            Id name = dep;
            Id evr = 0;
            if (ISRELDEP(dep)) {
                Reldep* rd = GETRELDEP(pool, dep);
                name = rd->name;
                evr = rd->flags == REL_EQ ? rd->evr : 0;
            }
            if (rel && name == rel) {
                result = evr ? pool_id2str(pool, evr) : "";
                if (result.empty()) from_package = pool_id2str(pool, s->evr);
            } else if (from_package.empty() && name && (name == fallbacks[0] || name == fallbacks[1])) {
                from_package = pool_id2str(pool, s->evr);
            }
        }
        if (!result.empty()) break;
    }
    queue_free(&q);
    if (!result.empty()) return result;
    if (!from_package.empty()) {
        // "[epoch:]version-release": yum takes the version.
        auto colon = from_package.find(':');
        if (colon != std::string::npos) from_package = from_package.substr(colon + 1);
        return from_package.substr(0, from_package.rfind('-'));
    }
    return version_id;
}

// "VG-LV" of a /dev/mapper name, where device-mapper doubles the dashes inside each name.
std::string lv_of_mapper_name(const std::string& name) {
    std::size_t split = 0;
    while ((split = name.find('-', split)) != std::string::npos && name.compare(split, 2, "--") == 0) split += 2;
    if (split == std::string::npos) return "";
    std::string lv;
    for (std::size_t i = split + 1; i < name.size(); ++i) {
        lv += name[i];
        if (name[i] == '-' && i + 1 < name.size() && name[i + 1] == '-') ++i;
    }
    return lv;
}

// imgbased names the running layer after the logical volume mounted on / (imgbase.py,
// current_layer) and writes that volume's path, /dev/VG/LV, into the root entry of each new
// layer's /etc/fstab (plugins/osupdater.py, update_fstab); the installer may have written
// /dev/mapper/VG-LV for the first one. A layer is its base's name plus "+N" (naming.py).
// Empty when / is no such volume.
std::string running_layer(const fs::path& root) {
    std::ifstream in(root / "etc/fstab");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string source, target;
        if (!(fields >> source >> target) || source[0] == '#' || target != "/") continue;
        std::string lv;
        const std::string mapper = "/dev/mapper/";
        if (source.compare(0, mapper.size(), mapper) == 0) {
            lv = lv_of_mapper_name(source.substr(mapper.size()));
        } else if (source.compare(0, 5, "/dev/") == 0 && std::count(source.begin(), source.end(), '/') == 3) {
            lv = source.substr(source.rfind('/') + 1);
        }
        auto plus = lv.rfind('+');
        if (plus == std::string::npos || plus == 0 || plus + 1 == lv.size() ||
            lv.find_first_not_of("0123456789", plus + 1) != std::string::npos)
            return "";
        return lv;
    }
    return "";
}

std::vector<std::string> enabled_repos(const fs::path& root, const Vars& vars) {
    std::vector<std::string> ids;
    fs::path dir = Target(root).path("/etc/yum.repos.d");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return ids;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".repo") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
        for (const auto& repo : parse_repofile(file, vars))
            if (repo.enabled) ids.push_back(repo.id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

std::string testtags_of(Repo* repo) {
    char* buf = nullptr;
    std::size_t len = 0;
    FILE* f = open_memstream(&buf, &len);
    if (!f) throw std::bad_alloc();
    testcase_write_testtags(repo, f);
    std::fclose(f);
    std::string out(buf, len);
    std::free(buf);
    return out;
}

void check_role(const std::string& role, const std::string& where) {
    const auto& roles = inventory_roles();
    if (std::find(roles.begin(), roles.end(), role) == roles.end())
        throw ConfigError(where + "unknown role '" + role + "' (expected engine, host or node)");
}

}  // namespace

// An oVirt Node says so in os-release (VARIANT_ID="ovirt-node") and carries imgbased, which
// installs /usr/sbin/imgbase and keeps its state (persisted RPMs, ...) in /var/imgbased.
bool is_ovirt_node(const fs::path& root) {
    if (os_release_value(root, "VARIANT_ID") != "ovirt-node") return false;
    std::error_code ec;
    return fs::exists(root / "usr/sbin/imgbase", ec) || fs::is_directory(root / "var/imgbased", ec);
}

const std::vector<std::string>& inventory_roles() {
    static const std::vector<std::string> roles = {"engine", "host", "node"};
    return roles;
}

std::string make_inventory(const InventoryOptions& options) {
    const Target target(options.root);
    const fs::path& root = target.root();
    InventoryHeader h;
    h.role = options.role;
    if (is_ovirt_node(root)) {
        h.variant = "ovirt-node";
        h.layer = running_layer(root);
        // A Node only ever updates as a Node (its image-update package); it never runs the Engine.
        if (h.role.empty()) h.role = "node";
        if (h.role == "engine")
            throw ConfigError(root.string() +
                              " is an oVirt Node (VARIANT_ID=\"ovirt-node\", imgbased): it cannot "
                              "have role engine");
    } else if (h.role.empty()) {
        throw ConfigError("--role is required: " + root.string() +
                          " is not an oVirt Node (no VARIANT_ID=\"ovirt-node\" in /etc/os-release with imgbased)");
    }
    check_role(h.role, "");
    utsname uts{};
    uname(&uts);
    h.arch = uts.machine;
    h.kernel = uts.release;
    if (!options.root.empty()) h.root = fs::absolute(options.root).lexically_normal().string();
    h.hostname = target.hostname();
    if (h.hostname.empty()) h.hostname = "unknown";
    h.os_name = os_release_value(root, "PRETTY_NAME");
    h.os_version_id = os_release_value(root, "VERSION_ID");

    SolvPool pool(h.arch);
    // Every file: an update may require any file of an installed package, as dnf sees them.
    pool.set_installed_rpmdb(root);
    h.releasever = releasever_of(pool, h.os_version_id);
    h.repos = enabled_repos(root, Vars{{"releasever", h.releasever}, {"basearch", h.arch}, {"arch", h.arch}});
    h.packages = pool.installed_packages().size();

    std::ostringstream out;
    out << "#" << kMagic << ": " << kInventoryFormat << "\n";
    out << "# Installed packages of one machine, for ovirt-bundler. Packages follow in libsolv's testtags\n"
           "# format: =Pkg: name version release arch, then its +Req: requires, +Prv: provides,\n"
           "# +Obs: obsoletes, +Con: conflicts and +Fls: the names of its files (never their content).\n";
    out << "#hostname: " << one_line(h.hostname) << "\n";
    out << "#role: " << h.role << "\n";
    out << "#os-release: " << one_line(h.os_name) << "\n";
    out << "#os-version-id: " << one_line(h.os_version_id) << "\n";
    out << "#arch: " << one_line(h.arch) << "\n";
    out << "#releasever: " << one_line(h.releasever) << "\n";
    if (!h.variant.empty()) out << "#variant: " << h.variant << "\n";
    if (!h.layer.empty()) out << "#layer: " << one_line(h.layer) << "\n";
    if (h.root.empty()) {
        out << "#kernel: " << one_line(h.kernel) << "\n";
    } else {
        out << "#root: " << one_line(h.root) << "\n";
        out << "#kernel: " << one_line(h.kernel) << " (running kernel of the host that read --root, not of the root)\n";
    }
    out << "#repos: " << one_line(join(h.repos)) << "\n";
    out << "#packages: " << h.packages << "\n";
    out << testtags_of(pool.installed());
    return out.str();
}

InventoryHeader read_inventory_header(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw ConfigError("cannot read inventory " + file.string() + ": " + std::strerror(errno));
    const std::string where = file.string() + ": ";
    InventoryHeader h;
    bool have_magic = false;
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty()) continue;
        if (line[0] != '#') break;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key(trim(line.substr(1, colon - 1)));
        std::string value(trim(line.substr(colon + 1)));
        if (lineno == 1 && key == kMagic) {
            have_magic = true;
            char* end = nullptr;
            long v = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end || v != kInventoryFormat)
                throw ConfigError(where + "inventory format '" + value + "' is not supported (this version reads " +
                                  std::to_string(kInventoryFormat) + ")");
            h.format = static_cast<int>(v);
        } else if (key == "hostname") {
            h.hostname = value;
        } else if (key == "role") {
            h.role = value;
        } else if (key == "os-release") {
            h.os_name = value;
        } else if (key == "os-version-id") {
            h.os_version_id = value;
        } else if (key == "arch") {
            h.arch = value;
        } else if (key == "releasever") {
            h.releasever = value;
        } else if (key == "variant") {
            h.variant = value;
        } else if (key == "layer") {
            h.layer = value;
        } else if (key == "kernel") {
            h.kernel = value;
        } else if (key == "root") {
            h.root = value;
        } else if (key == "repos") {
            std::istringstream ids(value);
            for (std::string id; ids >> id;) h.repos.push_back(id);
        } else if (key == "packages") {
            char* end = nullptr;
            h.packages = std::strtoul(value.c_str(), &end, 10);
            if (value.empty() || *end) throw ConfigError(where + "bad '#packages:' line: '" + value + "'");
            h.has_package_count = true;
        }
    }
    if (!have_magic) throw ConfigError(where + "not an ovirt-airgap inventory (no '#" + kMagic + ":' first line)");
    if (h.role.empty()) throw ConfigError(where + "inventory has no '#role:' line");
    check_role(h.role, where);
    if (h.arch.empty()) throw ConfigError(where + "inventory has no '#arch:' line");
    return h;
}

InventoryHeader load_inventory(SolvPool& pool, const fs::path& file, const std::string& expected_role) {
    InventoryHeader h = read_inventory_header(file);
    const std::string where = file.string() + ": ";
    if (!expected_role.empty() && h.role != expected_role)
        throw ConfigError(where + "inventory is of role " + h.role + ", not " + expected_role);
    if (h.arch != pool.arch()) throw ConfigError(where + "inventory is for arch " + h.arch + ", not " + pool.arch());
    pool.set_installed_testtags(file);
    // A truncated copy (a cut transfer, a full disk) must not pass for a smaller machine.
    std::size_t loaded = pool.installed_packages().size();
    if (h.has_package_count && loaded != h.packages)
        throw ConfigError(where + "inventory lists " + std::to_string(loaded) + " packages but its header says " +
                          std::to_string(h.packages) + " (truncated?)");
    return h;
}

}  // namespace airgap::repo
