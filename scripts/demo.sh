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
