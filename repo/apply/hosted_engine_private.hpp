#pragma once
// Is this engine a hosted engine whose cluster is not in global maintenance? Asked of the
// engine's database, the way engine-setup asks it before it changes anything (ovirt-engine
// 4.3.10, packaging/setup/plugins/ovirt-engine-common/ovirt-engine/system/he.py): the VM named
// by the HostedEngineVmName option (default "HostedEngine"), the host it runs on, and that
// host's vds_statistics.ha_global_maintenance. /etc/ovirt-hosted-engine/hosted-engine.conf
// lives on the hosts, not on the engine VM, so it says nothing here.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace airgap::repo {

/// The engine's database connection as engine-setup reads it: ENGINE_DB_* from
/// ROOT/usr/share/ovirt-engine/services/ovirt-engine/ovirt-engine.conf, then
/// ROOT/etc/ovirt-engine/engine.conf and engine.conf.d/*.conf (sorted), later files winning.
struct EngineDatabase {
    std::string host, port, user, password, database;
};

/// nullopt when no ENGINE_DB_PASSWORD is set: engine-setup then sets up a new database and
/// does not ask (plugins/ovirt-engine-common/ovirt-engine/db/connection.py).
std::optional<EngineDatabase> engine_database(const std::filesystem::path& root);

/// What he.py's _validate decides, with `query(sql)` returning psql's unaligned, tuples-only
/// output ("a|b" lines). A reason to refuse ("the hosted engine VM HostedEngine runs on host
/// ID and global maintenance is off"), or nullopt.
std::optional<std::string> hosted_engine_refusal(const std::function<std::string(const std::string&)>& query);

/// The SQL literal for `text` ('...' with quotes doubled).
std::string sql_literal(const std::string& text);

}  // namespace airgap::repo
