#!/usr/bin/env python3
"""A stand-in oVirt Engine 4.3 for tests: the REST API v4 paths and JSON shapes the applier uses.

It behaves like the Engine's own source, ovirt/ovirt-engine tag ovirt-engine-4.3.10, read where
cited below (paths under backend/manager/modules/bll/src/main/java/org/ovirt/engine/core/bll/
unless they say otherwise), and the API model ovirt/ovirt-engine-api-model 4.3.x:

- POST hosts/{id}/upgrade only validates and answers (hostdeploy/UpgradeHostCommand.java):
  status Up, Maintenance, NonOperational or InstallFailed (common ActionUtils.java), and
  update_available true (validator/UpgradeHostValidator.java updatesAvailable). Maintenance
  then runs asynchronously as *internal* maintenance (MaintenanceNumberOfVdssCommand.java:
  user_migratable VMs count as non-migratable there), and hostdeploy/HostUpgradeCallback.java
  logs 17 VDS_MAINTENANCE_FAILED and 841 HOST_UPGRADE_FAILED when it fails; the host stays or
  goes back Up. Success (hostdeploy/UpgradeHostInternalCommand.java): Installing, the reboot
  (SshHostRebootCommand.java: Reboot, then NonResponsive, or Maintenance when the host
  started there), update_available false, then 888 (842 without a reboot; an ovirt_node host
  is always rebooted); the monitoring brings a rebooted host Up again.
- POST hosts/{id}/upgradecheck (hostdeploy/HostUpdatesChecker.java): 884; 887 for a status
  other than Up, NonOperational, Maintenance (common VDSStatus.isEligibleForOnDemandCheckUpdates);
  886 while a check runs; 885 ("found updates for packages ..." or "no updates found.") is
  logged BEFORE update_available is stored; 839 when the check fails.
- POST clusters/{id}/upgrade exists from 4.3.3 (restapi BackendClusterResource.java); a start
  while the flag is set fails (packaging/dbscripts/clusters_sp.sql SetClusterUpgradeRunning).
- The upgrade's `timeout` parameter is read from 4.3.6.6 on (restapi BackendHostResource.java).
- Events carry `index` (the model's Event.index; AuditLogType.java gives the codes and
  dal .../bundles/AuditLogMessages.properties the texts).
- Migration picks, per VM, a host with room for it; none: 166 VM_MIGRATION_NO_VDS_TO_MIGRATE_TO.

Faithful where the applier can tell: /ovirt-engine/sso/oauth/token (password grant, form
body), bearer tokens, `Accept: application/json` and `Version: 4`, values rendered as
strings ("update_available": "false", "memory": "4294967296"), an empty collection rendered
as {}, faults as {"reason", "detail"}, and host status transitions that take time. Faults
are injected through POST /__control (JSON); GET /__control/log returns what happened.

Usage: fake_engine.py --scenario FILE --cert CERT --key KEY --port-file FILE
       fake_engine.py --control URL --ca CA [--data JSON]   (a client of /__control: prints the answer)
"""
import argparse
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/ovirt-engine/api"
LOCK = threading.Lock()
STATE = {}
LOG = []  # "POST hosts/host1/upgrade", "login", "logout", ...
TOKENS = set()
TIMERS = []  # (due, fn) applied by the ticker thread


def log(entry):
    LOG.append(entry)


def later(ms, fn):
    TIMERS.append((time.monotonic() + ms / 1000.0, fn))


def ticker():
    import os
    parent = os.getppid()
    while True:
        time.sleep(0.01)
        if os.getppid() != parent:
            os._exit(0)  # the test died: do not outlive it
        with LOCK:
            now = time.monotonic()
            due = [t for t in TIMERS if t[0] <= now]
            for t in due:
                TIMERS.remove(t)
            for _, fn in sorted(due, key=lambda t: t[0]):
                fn()


def s(value):
    """The Engine renders booleans and numbers as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def host_by_id(hid):
    return next((h for h in STATE["hosts"] if h["id"] == hid), None)


def host_by_name(name):
    return next((h for h in STATE["hosts"] if h["name"] == name), None)


def cluster_of(host):
    return next(c for c in STATE["clusters"] if c["name"] == host["cluster"])


def render_host(h):
    c = cluster_of(h)
    return {
        "href": f"{API}/hosts/{h['id']}",
        "id": h["id"],
        "name": h["name"],
        "address": h["name"] + ".example.com",
        "status": h["status"],
        # "rhel" or "ovirt_node" (the model's HostType; "ovirt_node" is oVirt Node NG).
        "type": h.get("type", "rhel"),
        "memory": s(h.get("memory", 68719476736)),
        "max_scheduling_memory": s(h["max_scheduling_memory"]),
        "update_available": s(h["update_available"]),
        "spm": {"priority": "5", "status": "spm" if h.get("spm") else "none"},
        "cluster": {"href": f"{API}/clusters/{c['id']}", "id": c["id"]},
        "link": [{"href": f"{API}/hosts/{h['id']}/nics", "rel": "nics"}],
        # The model's Host.version is VDSM's (vds_dynamic.software_version as the monitoring
        # reads it from vdsm's getCapabilities); only given when the scenario says one.
        **({"version": {"full_version": f"vdsm-{h['vdsm']}"}} if h.get("vdsm") else {}),
    }


def affinity(v):
    # The model's VmAffinity: migratable, user_migratable (IMPLICITLY_NON_MIGRATABLE), pinned.
    if v.get("pinned"):
        return "pinned"
    return "user_migratable" if v.get("user_migratable") else "migratable"


def render_vm(v):
    out = {
        "href": f"{API}/vms/{v['id']}",
        "id": v["id"],
        "name": v["name"],
        "status": v["status"],
        "memory": s(v["memory"]),
        "type": "server",
        "placement_policy": {"affinity": affinity(v)},
        "link": [
            {"href": f"{API}/vms/{v['id']}/hostdevices", "rel": "hostdevices"},
            {"href": f"{API}/vms/{v['id']}/nics", "rel": "nics"},
        ],
    }
    if v.get("mdev_type"):
        out["custom_properties"] = {"custom_property": [{"name": "mdev_type", "value": v["mdev_type"]}]}
    h = host_by_name(v["host"]) if v.get("host") else None
    if h and v["status"] != "down":
        out["host"] = {"href": f"{API}/hosts/{h['id']}", "id": h["id"]}
    if v.get("pinned") and h:
        out["placement_policy"]["hosts"] = {"host": [{"href": f"{API}/hosts/{h['id']}", "id": h["id"]}]}
    return out


def collection(key, items):
    # The real Engine renders an empty collection as an empty object.
    return {key: items} if items else {}


def search_terms(query):
    terms = {}
    for part in query.split():
        if "=" in part:
            k, v = part.split("=", 1)
            terms[k.strip().lower()] = v.strip()
    return terms


def non_migratable(v, internal=False):
    # MaintenanceNumberOfVdssCommand.java: PINNED_TO_HOST always, IMPLICITLY_NON_MIGRATABLE
    # (user_migratable) when the maintenance is internal, as the upgrade's is. VMs with host
    # devices or a vGPU stay where they are too.
    return v.get("pinned") or v.get("mdev_type") or v.get("host_devices") or (internal and v.get("user_migratable"))


def running_on(host):
    return [v for v in STATE["vms"] if v.get("host") == host["name"] and v["status"] != "down"]


def set_spm_elsewhere(host):
    if not host.get("spm"):
        return
    host["spm"] = False
    for other in STATE["hosts"]:
        if other is not host and other["cluster"] == host["cluster"] and other["status"] == "up":
            other["spm"] = True
            log(f"spm moved to {other['name']}")
            return


def migration_target(v, host):
    """The scheduler's choice for one VM: an Up host of the cluster with room for it (the
    most room first); None when there is none."""
    targets = [o for o in STATE["hosts"] if o is not host and o["status"] == "up"
               and o["cluster"] == host["cluster"] and o["max_scheduling_memory"] >= v["memory"]]
    return max(targets, key=lambda o: o["max_scheduling_memory"]) if targets else None


def move_vm(v, source, target):
    target["max_scheduling_memory"] -= v["memory"]
    source["max_scheduling_memory"] += v["memory"]
    v["host"] = target["name"]
    log(f"vm {v['name']} migrated to {target['name']}")


def migrate_vms(host):
    """Migrates every VM off `host`, one at a time, each where it fits; the first that cannot
    move ends it with its event (140 a failed migration, 166 no host for it)."""
    for v in running_on(host):
        if v.get("migration_fails"):
            add_event(140, "Migration failed while Host is in 'preparing for maintenance' state.\n  Consider "
                      "manual intervention: stopping/migrating Vms as Host's state will not\n  turn to maintenance "
                      f"while VMs are still running on it.(VM: {v['name']}, Source: {host['name']}, Destination: "
                      "<UNKNOWN>).", host, v)
            return False
        target = migration_target(v, host)
        if not target:
            add_event(166, f"No available host was found to migrate VM {v['name']} to.", host, v)
            return False
        move_vm(v, host, target)
    return True


def set_status(host, status):
    host["status"] = status
    host.setdefault("history", []).append(status)
    log(f"status {host['name']} {status}")


def start_upgrade(host, reboot):
    """UpgradeHostCommand + HostUpgradeCallback + UpgradeHostInternalCommand + SshHostRebootCommand:
    internal maintenance (refused with 17/841 when a VM cannot leave), Installing, then the
    reboot, or, without one on a plain host, 842 and back to the status it started from."""
    ms = STATE.get("transition_ms", 150)
    initial = host["status"]
    fault = host.get("fault")
    host["op"] = op = host.get("op", 0) + 1
    node = host.get("type") == "ovirt_node"

    def held(fn):
        # A host with "hold": true stays where it is until a test releases it (deterministic
        # windows instead of sleeps), with "hold": "STATUS" once it reaches STATUS;
        # {"abandon": true} drops an upgrade under way.
        def run():
            if host.get("op") != op:
                return
            hold = host.get("hold")
            if hold is True or (hold and hold == host["status"]):
                later(10, run)
            else:
                fn()
        return run

    def failed(back_to):
        # HostUpgradeCallback.handleActionFailed, then onFailed: the host back where it was.
        add_event(17, f"Failed to switch Host {host['name']} to Maintenance mode.", host)
        add_event(841, f"Failed to upgrade Host {host['name']} (User: admin@internal).", host)
        if host["status"] != back_to:
            set_status(host, back_to)

    def to_maintenance():
        if not migrate_vms(host):
            set_status(host, "unassigned")
            later(ms, held(lambda: failed("up")))
            return
        set_spm_elsewhere(host)
        set_status(host, "maintenance")
        later(ms, held(to_installing))

    def to_installing():
        set_status(host, "installing")
        later(ms, held(after_installing))

    def after_installing():
        if fault == "install_failed":
            host["fault"] = None  # a retry succeeds
            set_status(host, "install_failed")
            add_event(841, f"Failed to upgrade Host {host['name']} (User: admin@internal).", host)
        elif node or reboot:
            set_status(host, "reboot")
            host["update_available"] = False
            host["upgraded"] = host.get("upgraded", 0) + 1
            add_event(888, f"Upgrade was successful and host {host['name']} will be rebooted.", host)
            later(ms, held(after_reboot))
        else:
            host["update_available"] = False
            host["upgraded"] = host.get("upgraded", 0) + 1
            set_status(host, "maintenance" if initial == "maintenance" else "up")
            add_event(842, f"Host {host['name']} upgrade was completed successfully.", host)

    def after_reboot():
        if initial == "maintenance":
            set_status(host, "maintenance")
            return
        set_status(host, "non_responsive")
        if fault != "non_responsive":  # "non_responsive": the host never comes back by itself
            later(2 * ms, held(lambda: set_status(host, "up")))

    if initial == "maintenance":
        later(ms, held(to_installing))
        return
    if fault == "fast":
        # A host quicker than any poll: the whole upgrade between two looks at it.
        def all_at_once():
            set_status(host, "preparing_for_maintenance")
            migrate_vms(host)
            set_spm_elsewhere(host)
            for st in ("maintenance", "installing", "reboot"):
                set_status(host, st)
            host["update_available"] = False
            host["upgraded"] = host.get("upgraded", 0) + 1
            add_event(888, f"Upgrade was successful and host {host['name']} will be rebooted.", host)
            set_status(host, "non_responsive")
            set_status(host, "up")
        later(ms, held(all_at_once))
        return
    stuck = [v["name"] for v in running_on(host) if non_migratable(v, internal=True)]
    if stuck:
        # The maintenance child command fails its validation: the host never leaves Up.
        later(ms, held(lambda: failed(initial)))
        return
    set_status(host, "preparing_for_maintenance")
    later(ms, held(to_maintenance))


def add_event(code, description, host=None, vm=None):
    """The Engine's audit log, as /events shows it: strictly increasing indexes."""
    events = STATE["events"]
    event = {"index": (events[-1]["index"] + 1) if events else 1, "code": code, "description": description,
             "time": int(time.time() * 1000)}
    if host:
        event["host"] = host["id"]
    if vm:
        event["vm"] = vm["id"]
    events.append(event)


def render_event(e):
    # Event.index is the audit log's sequence (the model: `id` need not be ordered; the
    # Engine renders the same number in both).
    out = {"href": f"{API}/events/{e['index']}", "id": s(e["index"]), "index": s(e["index"]),
           "code": s(e["code"]), "description": e["description"], "severity": "normal", "time": s(e["time"])}
    if e.get("host"):
        out["host"] = {"href": f"{API}/hosts/{e['host']}", "id": e["host"]}
    if e.get("vm"):
        out["vm"] = {"href": f"{API}/vms/{e['vm']}", "id": e["vm"]}
    return out


def update_check(h):
    """HostUpdatesChecker.checkForUpdates: 884 at once; after a while 885 with the answer (or
    839), and only later is update_available stored. 887 when the status is not eligible,
    886 while another check of the host runs."""
    ms = STATE.get("transition_ms", 150)
    fault = h.get("fault")
    add_event(884, f"Started to check for available updates on host {h['name']}.", h)
    if h["status"] not in ("up", "non_operational", "maintenance"):
        add_event(887, f"Failed to check for available updates on host {h['name']}: Unsupported host status.", h)
        return
    if h.get("checking"):
        add_event(886, f"Failed to check for available updates on host {h['name']}: Another process is "
                  "already running.", h)
        return
    h["checking"] = True

    def done():
        if fault == "check_silent":
            return  # an Engine whose events are not seen: the applier falls back to its timeout
        h["checking"] = False
        if fault == "check_failed":
            add_event(839, f"Failed to check for available updates on host {h['name']} with message "
                      "'Failed to run check-update of host'.", h)
        elif fault == "no_update" or not h.get("packages_available", True):
            add_event(885, f"Check for available updates on host {h['name']} was completed successfully "
                      "with message 'no updates found.'.", h)
        else:
            add_event(885, f"Check for available updates on host {h['name']} was completed successfully "
                      f"with message 'found updates for packages {h.get('update_packages', 'vdsm, vdsm-client')}'.",
                      h)
            later(STATE.get("flag_delay_ms", 2 * ms), lambda: h.update(update_available=True))
    later(h.get("check_ms", ms), done)


def fault_response(status, detail):
    return status, {"reason": "Operation Failed", "detail": f"[{detail}]"}


def version():
    return tuple(int(x) for x in STATE.get("version", "4.3.10.4").split("."))


def action(kind, ident, verb, body):
    ms = STATE.get("transition_ms", 150)
    if kind == "clusters":
        c = next((c for c in STATE["clusters"] if c["id"] == ident), None)
        if not c or verb != "upgrade" or version() < (4, 3, 3):
            return 404, {"detail": "Not found"}
        act = body.get("upgrade_action")
        if act not in ("start", "finish"):
            return fault_response(400, "Invalid upgrade_action")
        if act == "start" and c.get("upgrade_running"):
            return fault_response(400, f"Failed to set upgrade running flag on cluster '{c['id']}'.")
        if c.get("fault") == act:
            return fault_response(400, "Internal Engine Error")
        c["upgrade_running"] = act == "start"
        return 200, {"status": "complete"}
    if kind == "vms":
        v = next((v for v in STATE["vms"] if v["id"] == ident), None)
        if not v:
            return 404, {"detail": "Not found"}
        if verb == "shutdown":
            v["status"] = "powering_down"
            later(ms, lambda: v.update(status="down"))
        elif verb == "start":
            v["status"] = "wait_for_launch"
            later(ms, lambda: v.update(status="up"))
        elif verb == "migrate":
            # MigrateVmCommand: a non-migratable VM only with force; pinned VMs not at all here.
            forced = body.get("force") in (True, "true")
            if non_migratable(v) or (v.get("user_migratable") and not forced):
                return fault_response(409, f"Cannot migrate VM. VM {v['name']} is non migratable.")
            source = host_by_name(v["host"])
            target = migration_target(v, source)
            if not target:
                return fault_response(409, "Cannot migrate VM. There is no host that satisfies current scheduling "
                                      "constraints.")
            v["status"] = "migrating"

            def moved():
                move_vm(v, source, target)
                v["status"] = "up"
            later(ms, moved)
        else:
            return 404, {"detail": "Not found"}
        return 200, {"status": "complete"}
    h = host_by_id(ident)
    if not h:
        return 404, {"detail": "Not found"}
    if verb == "upgradecheck":
        update_check(h)
        return 200, {"status": "complete"}
    if verb == "upgrade":
        h.setdefault("upgrade_bodies", []).append(body)
        if h["status"] not in ("up", "non_operational", "maintenance", "install_failed"):
            return fault_response(409, "Cannot upgrade Host. Valid Host statuses for upgrade are Up, Maintenance, "
                                  "and Non-Operational.")
        if not h["update_available"]:
            return fault_response(409, "Cannot upgrade Host. There are no available updates for the host.")
        add_event(840, f"Host {h['name']} upgrade was started (User: admin@internal).", h)
        # UpgradeHostParameters: reboot defaults to true.
        start_upgrade(h, body.get("reboot", True) not in (False, "false"))
        return 200, {"status": "complete"}
    if verb == "activate":
        set_status(h, "activating")
        later(ms, lambda: set_status(h, "up"))
        return 200, {"status": "complete"}
    if verb == "deactivate":
        # User maintenance (not internal): user_migratable VMs migrate; pinned ones refuse it.
        stuck = [v["name"] for v in running_on(h) if non_migratable(v)]
        if stuck:
            return fault_response(409, f"Cannot switch the following Hosts to Maintenance mode: {h['name']}.\n"
                                  "One or more running VMs are indicated as non-migratable. The non-migratable VMs "
                                  "are: " + ", ".join(stuck) + ".")
        set_status(h, "preparing_for_maintenance")

        def to_maintenance():
            # A failed migration leaves the host preparing for maintenance, as in the Engine.
            if migrate_vms(h):
                set_spm_elsewhere(h)
                set_status(h, "maintenance")
        later(ms, to_maintenance)
        return 200, {"status": "complete"}
    return 404, {"detail": "Not found"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def drop(self):
        # A connection that dies without an answer.
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        raw = self.body()
        if path.startswith("/__control"):
            return self.control(method, path, raw)
        with LOCK:
            if STATE.get("drop_all") or (STATE.get("drop", 0) > 0 and path.startswith(API)):
                if not STATE.get("drop_all"):
                    STATE["drop"] -= 1
                log(f"dropped {method} {path}")
                return self.drop()
            if path == "/ovirt-engine/sso/oauth/token" and method == "POST":
                return self.token(raw, url.query)
            if path == "/ovirt-engine/services/sso-logout":
                form = urllib.parse.parse_qs(raw.decode() or url.query)
                TOKENS.discard((form.get("token") or [""])[0])
                log("logout")
                return self.send_json(200, {})
            if not path.startswith(API):
                return self.send_json(404, {"detail": "Not found"})
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
                log(f"401 {method} {path}")
                return self.send_json(401, {"detail": "Unauthorized"},
                                      {"WWW-Authenticate": 'Bearer realm="RESTAPI"'})
            if self.headers.get("Accept") != "application/json" or self.headers.get("Version") != "4":
                return self.send_json(400, {"detail": "Accept: application/json and Version: 4 expected"})
            rel = path[len(API):].strip("/")
            parts = rel.split("/") if rel else []
            query = urllib.parse.parse_qs(url.query)
            if method == "GET":
                log(f"GET {rel}" + (f"?{url.query}" if url.query else ""))
                return self.send_json(*self.get(parts, query))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.send_json(*fault_response(400, "Malformed JSON"))
            if len(parts) != 3:
                return self.send_json(404, {"detail": "Not found"})
            name = parts[1]
            if parts[0] == "hosts" and host_by_id(parts[1]):
                name = host_by_id(parts[1])["name"]
            if parts[0] == "vms":
                name = next((v["name"] for v in STATE["vms"] if v["id"] == parts[1]), name)
            if parts[0] == "clusters":
                name = next((c["name"] for c in STATE["clusters"] if c["id"] == parts[1]), name)
                name += " " + str(body.get("upgrade_action"))
            log(f"POST {parts[0]}/{name}/{parts[2]}")
            return self.send_json(*action(parts[0], parts[1], parts[2], body))

    def token(self, raw, query):
        if query:
            return self.send_json(400, {"error_code": "invalid_request", "error": "credentials in the URL"})
        form = urllib.parse.parse_qs(raw.decode())
        get = lambda k: (form.get(k) or [""])[0]
        if get("grant_type") != "password" or get("scope") != "ovirt-app-api":
            return self.send_json(400, {"error_code": "invalid_request", "error": "bad grant or scope"})
        if get("username") != STATE["user"] or get("password") != STATE["password"]:
            log("login refused")
            return self.send_json(400, {"error_code": "access_denied", "error": "Cannot authenticate user '" +
                                        get("username") + "': The username or password is incorrect.."})
        tok = secrets.token_urlsafe(24)
        TOKENS.add(tok)
        log("login")
        exp = str(int(time.time() * 1000) + 3600 * 1000)
        return self.send_json(200, {"access_token": tok, "scope": "ovirt-app-api", "exp": exp,
                                    "token_type": "bearer"})

    def get(self, parts, query):
        search = search_terms((query.get("search") or [""])[0])
        if parts == []:
            # The API root: product_info.version as BackendApiResource renders it.
            v = version() + (0,) * (4 - len(version()))
            return 200, {"product_info": {"name": "oVirt Engine", "vendor": "ovirt.org", "version": {
                "major": s(v[0]), "minor": s(v[1]), "build": s(v[2]), "revision": s(v[3]),
                "full_version": ".".join(str(x) for x in v) + "-1.el7"}}}
        if parts == ["clusters"]:
            cs = [c for c in STATE["clusters"] if "name" not in search or c["name"] == search["name"]]
            return 200, collection("cluster", [{"href": f"{API}/clusters/{c['id']}", "id": c["id"],
                                                "name": c["name"], "version": {"major": "4", "minor": "3"}}
                                               for c in cs])
        if parts == ["hosts"]:
            hs = [h for h in STATE["hosts"] if ("cluster" not in search or h["cluster"] == search["cluster"])
                  and ("name" not in search or h["name"] == search["name"])]
            return 200, collection("host", [render_host(h) for h in hs])
        if len(parts) == 2 and parts[0] == "hosts":
            h = host_by_id(parts[1])
            return (200, render_host(h)) if h else (404, {"detail": "Not found"})
        if parts == ["vms"]:
            vs = [v for v in STATE["vms"] if "host" not in search or
                  (v.get("host") == search["host"] and v["status"] != "down")]
            return 200, collection("vm", [render_vm(v) for v in vs])
        if len(parts) == 2 and parts[0] == "vms":
            v = next((v for v in STATE["vms"] if v["id"] == parts[1]), None)
            return (200, render_vm(v)) if v else (404, {"detail": "Not found"})
        if parts == ["events"]:
            # Newest first; `from` keeps those after an index, `max` the newest N of them.
            after = int((query.get("from") or ["0"])[0])
            events = [e for e in reversed(STATE["events"]) if e["index"] > after]
            if query.get("max"):
                events = events[:int(query["max"][0])]
            return 200, collection("event", [render_event(e) for e in events])
        if len(parts) == 3 and parts[0] == "vms" and parts[2] == "hostdevices":
            v = next((v for v in STATE["vms"] if v["id"] == parts[1]), None)
            if not v:
                return 404, {"detail": "Not found"}
            devs = [{"href": f"{API}/vms/{v['id']}/hostdevices/pci_0000_3b_00_0", "id": "pci_0000_3b_00_0",
                     "name": "pci_0000_3b_00_0"}] if v.get("host_devices") else []
            return 200, collection("host_device", devs)
        return 404, {"detail": "Not found"}

    def control(self, method, path, raw):
        with LOCK:
            if method == "GET" and path == "/__control/log":
                return self.send_json(200, {"log": LOG, "hosts": {h["name"]: {
                    "status": h["status"], "spm": bool(h.get("spm")), "upgraded": h.get("upgraded", 0),
                    "history": h.get("history", []), "update_available": h["update_available"],
                    "upgrade_bodies": h.get("upgrade_bodies", [])} for h in STATE["hosts"]},
                    "vms": {v["name"]: {"status": v["status"], "host": v.get("host")} for v in STATE["vms"]},
                    "clusters": {c["name"]: bool(c.get("upgrade_running")) for c in STATE["clusters"]}})
            if method == "POST" and path == "/__control":
                change = json.loads(raw or b"{}")
                if change.get("expire_tokens"):
                    TOKENS.clear()
                for k in ("drop", "drop_all", "transition_ms"):
                    if k in change:
                        STATE[k] = change[k]
                for name, fields in change.get("hosts", {}).items():
                    h = host_by_name(name)
                    if fields.pop("abandon", False):
                        h["op"] = h.get("op", 0) + 1  # the upgrade under way goes no further
                    h.update(fields)
                return self.send_json(200, {})
        return self.send_json(404, {})


def load(scenario):
    STATE.update(scenario)
    STATE.setdefault("user", "admin@internal")
    STATE.setdefault("clusters", [{"name": "Default"}])
    for i, c in enumerate(STATE["clusters"]):
        c.setdefault("id", f"c{i:07d}-0000-0000-0000-000000000000")
    for i, h in enumerate(STATE["hosts"]):
        h.setdefault("id", f"h{i:07d}-0000-0000-0000-000000000000")
        h.setdefault("cluster", STATE["clusters"][0]["name"])
        h.setdefault("status", "up")
        h.setdefault("update_available", False)
        h.setdefault("max_scheduling_memory", 32 << 30)
    for i, v in enumerate(STATE.get("vms", [])):
        v.setdefault("id", f"v{i:07d}-0000-0000-0000-000000000000")
        v.setdefault("status", "up")
        v.setdefault("memory", 4 << 30)
    STATE.setdefault("vms", [])
    # Some history before the test: the applier must read only what follows its check.
    STATE.setdefault("events", [{"index": 4711, "code": 30, "description": "User admin@internal logged in.",
                                 "time": int(time.time() * 1000)}])
    for h in STATE["hosts"]:
        if h.pop("check_running", False):
            update_check(h)  # started by someone else before the test


def control_client(url, ca, data):
    import urllib.request
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url, data=data.encode() if data is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        print(resp.read().decode())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--port-file")
    p.add_argument("--control")
    p.add_argument("--ca")
    p.add_argument("--data")
    a = p.parse_args()
    if a.control:
        return control_client(a.control, a.ca, a.data)
    with open(a.scenario) as f:
        load(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=ticker, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
