#!/usr/bin/env bash
# ovirt-airgap's benchmarks. Each one times our command against the peer tool that does the same
# job today, side by side in the same run, on the same data and with warm caches for both, and
# prints the ratio (ours/peer): absolute seconds depend on the machine, the ratio much less.
#
#   scripts/bench.sh [--only resolve[,...]] [--quick] [--runs N] [--data DIR] [--build DIR]
#
# Benchmarks (one bench_<name> function each):
#   resolve   ovirt-bundler resolve --inventory  vs  dnf --installroot upgrade --assumeno
#   pack      hash + ISO (bench_pack --hash)  vs  xorriso -as mkisofs -R -J + sha256sum;
#             pax tar (bench_pack)  vs  bsdtar --format pax
#   verify    ovirt-applier verify (directory and .tar)  vs  sha256sum -c, and against the
#             ceiling `openssl speed -evp sha256` (one core)
#   download  bench_fetch (MetadataFetcher + fetch_packages, 4 parallel)  vs  dnf download
#             (4 parallel), both from one python3 -m http.server on 127.0.0.1, caches emptied
#
# Data: scripts/bench/gen_repos.py builds a synthetic EL7-like world (rpm-md repos base/updates/
# EPEL-like with >30,000 packages, and a ~1,500-package installed root with a real rpmdb; --quick:
# a tenth of that) under --data (default <build>/bench-data, <build>/bench-data-quick with
# --quick) and reuses it while the generator and its arguments are unchanged. Binaries are
# taken from --build (default ./build). Results go to stdout and to <build>/bench-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

all_benches=(resolve pack verify download)
only=""
quick=0
runs=3
build="$top/build"
data=""

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --only) only="${2:?--only needs a name}"; shift 2 ;;
        --only=*) only="${1#--only=}"; shift ;;
        --quick) quick=1; shift ;;
        --runs) runs="${2:?--runs needs a number}"; shift 2
            [[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --runs needs a positive number" >&2; exit 1; } ;;
        --data) data="${2:?--data needs a directory}"; shift 2 ;;
        --build) build="${2:?--build needs a directory}"; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench.sh: unknown option $1" >&2; usage 1 >&2 ;;
    esac
done
build=$(realpath -m "$build")
if [ "$quick" = 1 ]; then
    scale=0.1 installed=200
    data=${data:-$build/bench-data-quick}
    payload_small=50 payload_large=200 rpm_count=30 rpm_mb=2
else
    scale=1.0 installed=1500
    data=${data:-$build/bench-data}
    payload_small=100 payload_large=1100 rpm_count=200 rpm_mb=3
fi
data=$(realpath -m "$data")
results="$build/bench-results.txt"
bundler="$build/bundler/ovirt-bundler"
applier="$build/applier/ovirt-applier"
bench_pack_bin="$build/tests/bench_pack"
bench_fetch_bin="$build/tests/bench_fetch"

selected=()
if [ -n "$only" ]; then
    IFS=, read -r -a selected <<<"$only"
    for b in "${selected[@]}"; do
        [[ " ${all_benches[*]} " == *" $b "* ]] || { echo "bench.sh: unknown benchmark '$b' (have: ${all_benches[*]})" >&2; exit 1; }
    done
else
    selected=("${all_benches[@]}")
fi

for tool in /usr/bin/time rpmbuild createrepo_c rpm dnf python3; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done

mkdir -p "$build"
: >"$results"
# Everything printed goes to the terminal and to the results file.
say() { printf '%s\n' "$*" | tee -a "$results"; }

# --- helpers ------------------------------------------------------------------------------------

# timed LABEL OUT CMD...: runs CMD with stdout to OUT and stderr to OUT.err, appends
# "seconds peak_rss_kb" to $work/LABEL.times; returns CMD's exit code.
timed() {
    local label=$1 out=$2
    shift 2
    local t="$work/.time" rc=0
    /usr/bin/time -f '%e %M' -o "$t" "$@" >"$out" 2>"$out.err" </dev/null || rc=$?
    tail -n 1 "$t" >>"$work/$label.times"
    return $rc
}

# median_of LABEL: "median_seconds max_rss_mb all_seconds" over the timed runs of LABEL.
median_of() {
    sort -n "$work/$1.times" | awk '{ t[NR] = $1; if ($2 > m) m = $2; all = all (NR > 1 ? " " : "") $1 }
        END { printf "%.2f %.0f %s\n", (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2), m / 1024, all }'
}

# --- data ---------------------------------------------------------------------------------------

gen_data() {
    local t0=$SECONDS
    # The generator replaces a stale data dir: never let it replace something that is not one.
    if [ -d "$data" ] && [ -n "$(ls -A "$data")" ] && [ ! -e "$data/stamp" ] && [ ! -e "$data/.bench-data" ]; then
        echo "bench.sh: $data exists and is not benchmark data; choose another --data" >&2
        exit 1
    fi
    python3 scripts/bench/gen_repos.py --out "$data" --scale "$scale" --installed "$installed"
    say "data: $data (ready in $((SECONDS - t0)) s)"
    sed 's/^/  /' "$data/summary.txt" | tee -a "$results"
}

# --- resolve: ovirt-bundler resolve vs dnf upgrade --assumeno -----------------------------------

# dnf_counts OUT: "installs upgrades" from dnf's Transaction Summary (0 0 when nothing to do).
dnf_counts() {
    awk '/^Install +[0-9]+ Package/ { i = $2 } /^Upgrade +[0-9]+ Package/ { u = $2 }
        END { printf "%d %d\n", i, u }' "$1"
}

bench_resolve() {
    say ""
    say "== resolve: ovirt-bundler resolve --inventory vs dnf upgrade --assumeno (warm caches, median of $runs) =="
    local root="$data/root" dnfcache="$work/dnf-cache" ourcache="$work/our-cache"
    # dnf gets what it would have on a real machine: its metadata and .solv caches filled by a
    # first run, then -C (cache only); logs and history kept out of the root.
    local dnf=(dnf -c "$data/dnf.conf" --noplugins --installroot "$root" --releasever 7
        --setopt=reposdir="$data/yum.repos.d" --setopt=cachedir="$dnfcache"
        --setopt=logdir="$work/dnf-log" --setopt=persistdir="$work/dnf-persist")
    mkdir -p "$dnfcache" "$ourcache" "$work/dnf-log" "$work/dnf-persist"
    rm -f "$work"/resolve-*.times
    say "peer: ${dnf[*]} [-C] upgrade --assumeno"

    # Ours: the inventory is read once (it is carried out of the site, not part of resolving).
    local inv="$work/engine.inventory" missing=""
    if [ ! -x "$bundler" ] || [ ! -x "$applier" ]; then
        missing="no $bundler or $applier (build first: scripts/setup.sh)"
    elif ! "$bundler" resolve --help >/dev/null 2>&1; then
        missing="$bundler has no resolve command"
    elif ! "$applier" inventory --role engine --root "$root" -o "$inv" >"$work/inventory.out" 2>&1; then
        missing="ovirt-applier inventory failed: $(tail -n 1 "$work/inventory.out")"
    fi
    local ours=("$bundler" resolve -m "$data/manifest.yaml" --inventory "$inv" --cache "$ourcache" --json)
    say "ours: ${ours[*]}"
    say "      (INV: $applier inventory --role engine --root $root -o INV, once, not timed)"

    local rc=0 dnf_rc=0 ours_rc=0 ours_on=0
    timed resolve-dnf-warm "$work/dnf-warm.out" "${dnf[@]}" upgrade --assumeno || true
    if [ -z "$missing" ]; then
        timed resolve-ours-warm "$work/ours-warm.out" "${ours[@]}" || ours_rc=$?
        [ "$ours_rc" -ne 0 ] || ours_on=1
    fi
    # Runs alternate between the two, so that a change in the machine's load hits both alike.
    local i
    for ((i = 1; i <= runs; i++)); do
        dnf_rc=0
        timed resolve-dnf "$work/dnf.out" "${dnf[@]}" -C upgrade --assumeno || dnf_rc=$?
        if [ "$ours_on" = 1 ]; then
            rc=0
            timed resolve-ours "$work/ours.out" "${ours[@]}" || rc=$?
            [ "$rc" -eq 0 ] || { ours_on=0; ours_rc=$rc; cp "$work/ours.out" "$work/ours-warm.out"; }
        fi
    done

    # --assumeno makes dnf exit 1 after "Operation aborted."; anything else is a failure.
    local dnf_ok=1
    cat "$work/dnf.out" "$work/dnf.out.err" >"$work/dnf.all"
    if ! grep -q -e '^Operation aborted' -e '^Nothing to do' "$work/dnf.all" || grep -q '^ *Problem' "$work/dnf.all"; then
        dnf_ok=0
        say "dnf: FAILED (exit $dnf_rc), last lines of its output:"
        tail -n 15 "$work/dnf.all" | sed 's/^/  /' | tee -a "$results"
    fi
    local dnf_i dnf_u dnf_med dnf_rss dnf_all
    read -r dnf_i dnf_u < <(dnf_counts "$work/dnf.all")
    read -r dnf_med dnf_rss dnf_all < <(median_of resolve-dnf)
    say "dnf:  median $dnf_med s (runs: $dnf_all; first run, filling its caches: $(cut -d' ' -f1 "$work/resolve-dnf-warm.times") s), peak RSS $dnf_rss MB"
    say "      would install $dnf_i + upgrade $dnf_u = $((dnf_i + dnf_u)) packages"

    if [ -n "$missing" ]; then
        say "ours: ovirt-bundler resolve: not available yet ($missing)"
        return 0
    fi
    if [ "$ours_on" = 0 ]; then
        say "ours: ovirt-bundler resolve FAILED (exit $ours_rc):"
        tail -n 3 "$work/ours-warm.out.err" | cut -c1-300 | sed 's/^/  /' | tee -a "$results"
        python3 - "$work/ours-warm.out" <<'PY' 2>/dev/null | tee -a "$results" || true
import json, sys
problems = json.load(open(sys.argv[1]))["problems"]
print(f"  {len(problems)} problems; the first ones:")
for p in problems[:5]:
    lines = p.split("\n")
    print("  " + lines[0][:300] + "".join("\n    " + line.strip()[:300] for line in lines[1:4]))
PY
        say "      (dnf resolved the same data: $((dnf_i + dnf_u)) packages)"
        return 0
    fi
    # Rollback copies of installed packages (reason "installed") are carried, not installed:
    # dnf has nothing to compare them with.
    local ours_n ours_detail our_med our_rss our_all
    read -r ours_n ours_detail < <(python3 - "$work/ours.out" <<'PY'
import collections, json, sys
reasons = collections.Counter(p["reason"] for p in json.load(open(sys.argv[1]))["packages"])
print(sum(n for r, n in reasons.items() if r != "installed"),
      ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) or "none")
PY
)
    read -r our_med our_rss our_all < <(median_of resolve-ours)
    say "ours: median $our_med s (runs: $our_all; first run, filling its cache: $(cut -d' ' -f1 "$work/resolve-ours-warm.times") s), peak RSS $our_rss MB"
    say "      would install or upgrade $ours_n packages (by reason: $ours_detail)"
    say "ratio ours/dnf: $(awk -v a="$our_med" -v b="$dnf_med" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') (target <= 0.5)"
    if [ "$dnf_ok" = 1 ] && [ "$ours_n" -ne $((dnf_i + dnf_u)) ]; then
        say "MISMATCH: dnf would install or upgrade $((dnf_i + dnf_u)) packages (install $dnf_i, upgrade $dnf_u), ours $ours_n"
    fi
}

# --- main ---------------------------------------------------------------------------------------

say "ovirt-airgap benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, load average $(cut -d' ' -f1 /proc/loadavg)"
gen_data
work="$data/work"
mkdir -p "$work"
for b in "${selected[@]}"; do
    "bench_$b"
done
say ""
say "results written to $results"
