#!/usr/bin/env bash
# The demo (README's first command): sets up and builds ovirt-airgap, builds the test world
# (real signed RPM repos modelled on oVirt 4.3.7 -> 4.3.10, and a 4.3.7 engine and host made
# with dnf; tests/data/world/README.md), then runs the main job on it end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

world="$PWD/build/world"
scripts/make-world.sh "$world"
work="$PWD/build/demo"
rm -rf "$work"
mkdir -p "$work"

echo
echo "== At the secured site: describe the engine and a host (plain text, reviewable)"
for role in engine host; do
    build/applier/ovirt-applier inventory --role "$role" --root "$world/roots/$role-4.3.7" -o "$work/$role.inventory"
    echo "$work/$role.inventory: $(grep -c '^=Pkg:' "$work/$role.inventory") packages, header:"
    grep '^#[a-z-]*:' "$work/$role.inventory" | sed 's/^/    /'
done

echo
echo "== At the connected site: the upstream repos, served over HTTP on loopback"
# The world's manifest says file://; the demo overrides each repo's URL as a site would.
# The log is created first: the background job opens its redirection only once it runs.
: >"$work/http.log"
python3 -u -m http.server --bind 127.0.0.1 --directory "$world/repos" 0 >"$work/http.log" 2>&1 &
http_pid=$!
trap 'kill "$http_pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 50); do
    port=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\).*/\1/p' "$work/http.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "demo: the HTTP server did not start" >&2; cat "$work/http.log" >&2; exit 1; }
overrides=()
for repo in centos-base centos-updates ovirt-4.3-epel ovirt-4.3; do
    overrides+=(--repo-url "$repo=http://127.0.0.1:$port/$repo")
    echo "    $repo: http://127.0.0.1:$port/$repo"
done

echo
echo "== At the connected site: resolve what the bundle must carry"
build/bundler/ovirt-bundler resolve -m "$world/manifest.yaml" "${overrides[@]}" --cache "$work/cache" \
    --inventory "$work/engine.inventory" --inventory "$work/host.inventory"

echo
echo "== At the connected site: a signing key, then the signed bundle on an ISO image"
build/bundler/ovirt-bundler keygen --out "$work/keys" --subject "Demo site bundle signing"
build/bundler/ovirt-bundler build -m "$world/manifest.yaml" "${overrides[@]}" --cache "$work/cache" \
    --inventory "$work/engine.inventory" --inventory "$work/host.inventory" \
    --sign-key "$work/keys/signing-key.pem" --sign-cert "$work/keys/signing-cert.pem" \
    -o "$work/ovirt-4.3.10.iso"
build/bundler/ovirt-bundler inspect "$work/ovirt-4.3.10.iso"
kill "$http_pid" 2>/dev/null || true

echo
echo "== The security officer's own check, with openssl alone"
mkdir -p "$work/officer"
bsdtar -xf "$work/ovirt-4.3.10.iso" -C "$work/officer" bundle.json bundle.json.p7s
openssl cms -verify -binary -inform DER -content "$work/officer/bundle.json" \
    -in "$work/officer/bundle.json.p7s" -CAfile "$work/keys/signing-cert.pem" -purpose any >/dev/null

echo
echo "== At the secured site: verify, then update the 4.3.7 engine (a copy of it) offline"
engine_root="$work/engine-root"
cp -a "$world/roots/engine-4.3.7" "$engine_root"
applier_opts=(--trust "$work/keys/signing-cert.pem" --root "$engine_root" --state-dir "$work/engine-state"
              --package-manager "$world/bin/dnf")
build/applier/ovirt-applier verify "$work/ovirt-4.3.10.iso" --trust "$work/keys/signing-cert.pem" \
    --state-dir "$work/engine-state"
build/applier/ovirt-applier engine "$work/ovirt-4.3.10.iso" "${applier_opts[@]}" --dry-run
build/applier/ovirt-applier engine "$work/ovirt-4.3.10.iso" "${applier_opts[@]}"
build/applier/ovirt-applier status --state-dir "$work/engine-state"
echo "engine-setup stand-in calls (program, installed setup version, arguments):"
sed 's/^/    /' "$engine_root/var/log/ovirt-airgap-test/calls.log"

echo
echo "== At the secured site: a host (a copy of it) updated from the same medium (appendix C)"
host_root="$work/host-root"
cp -a "$world/roots/host-4.3.7" "$host_root"
build/applier/ovirt-applier host "$work/ovirt-4.3.10.iso" --update --trust "$work/keys/signing-cert.pem" \
    --root "$host_root" --state-dir "$work/host-state" --package-manager "$world/bin/dnf"

echo
echo "== Result"
for r in "$engine_root" "$host_root"; do
    echo "$r:"
    # rpm -q exits non-zero for the names a root does not have: list only what it has.
    { rpm --root "$r" --define "_dbpath /var/lib/rpm" -q ovirt-engine ovirt-engine-setup vdsm kernel || true; } \
        | grep -v 'not installed' | sed 's/^/    /'
done
echo "demo: done"
