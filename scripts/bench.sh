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
#             ceilings `openssl speed -evp sha256` (one core; the target) and with -multi
#             (all cores: verify hashes files on a thread per core)
#   stage     bench_stage (each listed file copied into a private directory while hashed, as
#             the applier stages)  vs  cp -r of the same tree + sha256sum of the copy
#   progress  the cost of progress reporting: bench_progress verifies the 1,100 MB bundle (.tar)
#             with no reporter, with its progress drawn as on a terminal and written as a log,
#             alternately; prints the overhead (target: under 2%) and the time to the first
#             progress line
#   download  bench_fetch (MetadataFetcher + fetch_packages, 4 parallel)  vs  dnf download
#             (4 parallel), both from one python3 -m http.server on 127.0.0.1, caches emptied
#   serve     20 hosts downloading a published 1 GB bundle (--quick: 200 MB) at once over HTTPS
#             from the engine's Apache stand-in (tests/shared/apache_standin.py, a test CA made
#             with openssl), each with its own curl as a host's yum reads it, one file after the
#             other: the aggregate throughput and the server's peak memory (VmHWM)
#   el7       the EL7 package (scripts/package-el7.sh --from-build BUILD): its size, and the
#             start-up (`ovirt-applier --version`, 20 runs) of the packaged applier chroot'ed in
#             an EL7-like root (the RPM unpacked alone) vs the native binary; needs root
#
# Data: scripts/bench/gen_repos.py builds a synthetic EL7-like world (rpm-md repos base/updates/
# EPEL-like with >30,000 packages, and a ~1,500-package installed root with a real rpmdb; --quick:
# a tenth of that) under --data (default <build>/bench-data, <build>/bench-data-quick with
# --quick) and reuses it while the generator and its arguments are unchanged (resolve only).
# pack and verify use random RPM-like payload trees of 100 MB and 1,100 MB (--quick: 50 and
# 200 MB) from scripts/bench/gen_payload.py; download a repo of 200 real RPMs of ~3 MB (--quick:
# 30 of ~2 MB) from scripts/bench/gen_rpm_repo.py; both kept under DATA/files and reused likewise.
# All timings are warm-cache: the page cache cannot be dropped here, so each command runs once,
# untimed, first. Binaries are taken from --build (default ./build; bench_pack, bench_fetch and
# bench_stage, bench_progress: `cmake --build BUILD --target bench_pack bench_fetch bench_stage bench_progress`). Results go to stdout and to
# <build>/bench-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

all_benches=(resolve pack verify stage progress download serve el7)
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
    payload_small=50 payload_large=200 rpm_count=30 rpm_mb=2 serve_mb=200
else
    scale=1.0 installed=1500
    data=${data:-$build/bench-data}
    payload_small=100 payload_large=1100 rpm_count=200 rpm_mb=3 serve_mb=1024
fi
data=$(realpath -m "$data")
results="$build/bench-results.txt"
bundler="$build/bundler/ovirt-bundler"
applier="$build/applier/ovirt-applier"
bench_pack_bin="$build/tests/bench_pack"
bench_fetch_bin="$build/tests/bench_fetch"
bench_stage_bin="$build/tests/bench_stage"
bench_progress_bin="$build/tests/bench_progress"

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
    # Rollback copies of installed packages (reason "rollback") are carried, not installed:
    # dnf has nothing to compare them with.
    local ours_n ours_detail our_med our_rss our_all
    read -r ours_n ours_detail < <(python3 - "$work/ours.out" <<'PY'
import collections, json, sys
reasons = collections.Counter(p["reason"] for p in json.load(open(sys.argv[1]))["packages"])
print(sum(n for r, n in reasons.items() if r != "rollback"),
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

# --- shared by pack, verify and download --------------------------------------------------------

# mbps BYTES SECONDS: throughput in MB/s (10^6 bytes).
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? b / 1e6 / t : 0) }'; }
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# tree_bytes DIR: bytes in the regular files under DIR.
tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }
# tree_files DIR: number of regular files under DIR.
tree_files() { find "$1" -type f | wc -l; }

# need_tools TOOL...: true when all are there, else says which is missing.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null && continue
        say "skipped: $tool is missing (scripts/setup.sh installs it)"
        return 1
    done
}

# sum_times LABEL A B: LABEL.times gets, run by run, the seconds of A and B added up and the
# larger of their peak RSS (one job done by two commands in a row).
sum_times() {
    paste -d' ' "$work/$2.times" "$work/$3.times" |
        awk '{ printf "%.2f %d\n", $1 + $3, ($2 > $4 ? $2 : $4) }' >"$work/$1.times"
}

# inner_median FILE WORD: median of the seconds in "WORD ... in N s" lines of FILE.
inner_median() {
    awk -v w="$2" '$1 == w { for (i = 1; i < NF; i++) if ($i == "in") print $(i + 1) }' "$1" | sort -n |
        awk '{ t[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2) }'
}

# One payload of each size for pack and verify, made once per run of this script.
payloads_ready=0
gen_payloads() {
    [ "$payloads_ready" = 0 ] || return 0
    local t0=$SECONDS mb
    for mb in "$payload_small" "$payload_large"; do
        python3 scripts/bench/gen_payload.py --out "$files/payload-$mb" --mb "$mb"
    done
    payloads_ready=1
    say "payload trees: $files/payload-{$payload_small,$payload_large}/tree (ready in $((SECONDS - t0)) s)"
    for mb in "$payload_small" "$payload_large"; do
        say "  $mb MB: $(cat "$files/payload-$mb/summary.txt")"
    done
}

# --- pack: hash + ISO vs xorriso + sha256sum; pax tar vs bsdtar ---------------------------------

bench_pack() {
    say ""
    say "== pack: ISO with hashing and pax tar, ours vs xorriso + sha256sum and bsdtar (warm cache, median of $runs) =="
    need_tools xorriso bsdtar sha256sum || return 0
    gen_payloads
    local ours_on=1 ours_err=""
    [ -x "$bench_pack_bin" ] || { ours_on=0; ours_err="no $bench_pack_bin (cmake --build $build --target bench_pack)"; }
    say "ours: bench_pack --hash TREE OUT.iso: hash_file() of every file, then write_iso() (libisofs); the"
    say "      build hashes while copying into the bundle tree, so this hashes in an extra read pass"
    say "      bench_pack TREE OUT.tar: write_tar() (libarchive pax)"
    say "peer: xorriso -as mkisofs -quiet -R -J -o OUT.iso TREE, then sha256sum of every file of TREE"
    say "      bsdtar --format pax -cf OUT.tar -C TREE ."
    rm -f "$work"/pack-*.times "$work"/pack-*.out
    local out="$work/pack-out" mb tree i label rc
    for mb in "$payload_small" "$payload_large"; do
        tree="$files/payload-$mb/tree"
        # Run 0 warms the page cache and is not counted.
        for ((i = 0; i <= runs; i++)); do
            label=pack-$mb
            [ "$i" -gt 0 ] || label=pack-warm
            timed "$label-xorriso" "$work/pack.log" xorriso -as mkisofs -quiet -R -J -o "$out.iso" "$tree"
            rm -f "$out.iso"
            timed "$label-sha256sum" "$work/pack.log" sh -c 'cd "$1" && find . -type f -print0 | xargs -0 sha256sum' \
                sh "$tree"
            if [ "$ours_on" = 1 ]; then
                rc=0
                timed "$label-ours-iso" "$work/pack-ours.log" "$bench_pack_bin" --hash "$tree" "$out.iso" || rc=$?
                cat "$work/pack-ours.log" >>"$work/$label-ours-iso.out"
                rm -f "$out.iso"
                [ "$rc" -eq 0 ] || { ours_on=0; ours_err="bench_pack --hash exit $rc: $(tail -n 1 "$work/pack-ours.log.err")"; }
            fi
            timed "$label-bsdtar" "$work/pack.log" bsdtar --format pax -cf "$out.tar" -C "$tree" .
            rm -f "$out.tar"
            if [ "$ours_on" = 1 ]; then
                rc=0
                timed "$label-ours-tar" "$work/pack-ours.log" "$bench_pack_bin" "$tree" "$out.tar" || rc=$?
                rm -f "$out.tar"
                [ "$rc" -eq 0 ] || { ours_on=0; ours_err="bench_pack (tar) exit $rc: $(tail -n 1 "$work/pack-ours.log.err")"; }
            fi
        done
    done
    [ "$ours_on" = 1 ] || say "ours: FAILED or missing: $ours_err"

    local bytes xo_med xo_rss sha_med peer_med peer_rss peer_all our_med our_rss our_all bt_med bt_rss bt_all
    local hash_s pack_s
    for mb in "$payload_small" "$payload_large"; do
        tree="$files/payload-$mb/tree"
        bytes=$(tree_bytes "$tree")
        say "-- $mb MB payload ($(tree_files "$tree") files, $bytes bytes)"
        sum_times "pack-$mb-peer-iso" "pack-$mb-xorriso" "pack-$mb-sha256sum"
        read -r xo_med xo_rss _ < <(median_of "pack-$mb-xorriso")
        read -r sha_med _ _ < <(median_of "pack-$mb-sha256sum")
        read -r peer_med peer_rss peer_all < <(median_of "pack-$mb-peer-iso")
        say "ISO peer: xorriso + sha256sum median $peer_med s = $(mbps "$bytes" "$peer_med") MB/s (runs: $peer_all;" \
            "xorriso $xo_med s = $(mbps "$bytes" "$xo_med") MB/s, sha256sum $sha_med s), peak RSS $xo_rss MB"
        read -r bt_med bt_rss bt_all < <(median_of "pack-$mb-bsdtar")
        if [ -s "$work/pack-$mb-ours-iso.times" ] && [ -s "$work/pack-$mb-ours-tar.times" ]; then
            read -r our_med our_rss our_all < <(median_of "pack-$mb-ours-iso")
            hash_s=$(inner_median "$work/pack-$mb-ours-iso.out" hashed)
            pack_s=$(inner_median "$work/pack-$mb-ours-iso.out" packed)
            say "ISO ours: hash + write_iso median $our_med s = $(mbps "$bytes" "$our_med") MB/s (runs: $our_all;" \
                "hash $hash_s s = $(mbps "$bytes" "$hash_s") MB/s, pack $pack_s s = $(mbps "$bytes" "$pack_s") MB/s), peak RSS $our_rss MB"
            say "ISO ratio (throughput ours/peer): $(ratio "$peer_med" "$our_med") with hashing (target >= 1.0);" \
                "write_iso alone vs xorriso alone: $(ratio "$xo_med" "$pack_s")"
            read -r our_med our_rss our_all < <(median_of "pack-$mb-ours-tar")
            say "tar peer: bsdtar median $bt_med s = $(mbps "$bytes" "$bt_med") MB/s (runs: $bt_all), peak RSS $bt_rss MB"
            say "tar ours: write_tar median $our_med s = $(mbps "$bytes" "$our_med") MB/s (runs: $our_all), peak RSS $our_rss MB"
            say "tar ratio (throughput ours/bsdtar): $(ratio "$bt_med" "$our_med")"
        else
            say "tar peer: bsdtar median $bt_med s = $(mbps "$bytes" "$bt_med") MB/s (runs: $bt_all), peak RSS $bt_rss MB"
        fi
    done
    if [ "$ours_on" = 1 ]; then
        local r1 r2 t1 t2
        r1=$(median_of "pack-$payload_small-ours-iso" | cut -d' ' -f2)
        r2=$(median_of "pack-$payload_large-ours-iso" | cut -d' ' -f2)
        t1=$(median_of "pack-$payload_small-ours-tar" | cut -d' ' -f2)
        t2=$(median_of "pack-$payload_large-ours-tar" | cut -d' ' -f2)
        say "ours peak RSS, $payload_small MB -> $payload_large MB: ISO $r1 -> $r2 MB, tar $t1 -> $t2 MB (target: flat, < 64 MB)"
    fi
}

# --- verify: ovirt-applier verify vs sha256sum -c, against openssl speed ------------------------

# make_bench_bundles OURS: the signed bundles verify and stage read:
# $work/bundle-{SMALL,LARGE}{,.tar,.sums}, made afresh
# each time (hard links to the payload, hashing in python, tar by bsdtar in pax format, the
# format our writer writes): a few seconds per GB. Signing key in $files/signing-key.
# OURS: the binary the benchmark times; nothing is made (return 1) without it or the tools.
make_bench_bundles() {
    need_tools openssl sha256sum bsdtar || return 1
    if [ ! -x "$1" ] || [ ! -x "$bundler" ]; then
        say "ours: not available (no $1 or $bundler: build first)"
        return 1
    fi
    gen_payloads
    local key="$files/signing-key"
    if [ ! -e "$key/signing-cert.pem" ]; then
        rm -rf "$key"
        "$bundler" keygen --out "$key" >"$work/keygen.log" 2>&1 ||
            { say "ours: ovirt-bundler keygen failed: $(tail -n 1 "$work/keygen.log")"; return 1; }
    fi
    local mb dir t0=$SECONDS
    for mb in "$payload_small" "$payload_large"; do
        dir="$work/bundle-$mb"
        python3 scripts/bench/make_bundle.py --tree "$files/payload-$mb/tree" --out "$dir" --sums "$dir.sums"
        openssl cms -sign -binary -outform DER -in "$dir/bundle.json" -signer "$key/signing-cert.pem" \
            -inkey "$key/signing-key.pem" -out "$dir/bundle.json.p7s" -md sha384
        rm -f "$dir.tar"
        bsdtar --format pax -cf "$dir.tar" -C "$dir" .
    done
    say "bundles: $work/bundle-{$payload_small,$payload_large}{,.tar}, signed with openssl cms (ready in $((SECONDS - t0)) s)"
}

bench_verify() {
    say ""
    say "== verify: ovirt-applier verify (directory, .tar) vs sha256sum -c, ceiling openssl speed (warm cache, median of $runs) =="
    make_bench_bundles "$applier" || return 0
    local key="$files/signing-key"
    local speed
    speed=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub(/k$/, "", $2); printf "%.0f", $2 / 1000 }')
    say "ceiling: openssl speed -evp sha256 -bytes 1048576 -seconds 3: $speed MB/s (one core)"
    # verify hashes whole files on one thread per core (repo/archive/parallel_hash.hpp): the machine's
    # own ceiling is every core hashing, shown beside the one-core target.
    local cores speed_all
    cores=$(nproc)
    speed_all=$(openssl speed -multi "$cores" -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub(/k$/, "", $2); printf "%.0f", $2 / 1000 }')
    say "ceiling: openssl speed -multi $cores -evp sha256 -bytes 1048576 -seconds 3: $speed_all MB/s (all $cores cores)"
    say "ours: $applier verify BUNDLE(.tar) --trust CERT --state-dir EMPTY"
    say "peer: cd BUNDLE && sha256sum -c --quiet SUMS"
    rm -f "$work"/verify-*.times
    local i label rc ours_on=1 ours_err="" state="$work/verify-state"
    for mb in "$payload_small" "$payload_large"; do
        dir="$work/bundle-$mb"
        for ((i = 0; i <= runs; i++)); do
            label=verify-$mb
            [ "$i" -gt 0 ] || label=verify-warm
            timed "$label-sha256sum" "$work/verify.log" sh -c 'cd "$1" && sha256sum -c --quiet "$2"' sh "$dir" "$dir.sums" ||
                { say "sha256sum -c FAILED: $(tail -n 1 "$work/verify.log")"; return 0; }
            [ "$ours_on" = 1 ] || continue
            rm -rf "$state" && mkdir -p "$state"
            rc=0
            timed "$label-ours-dir" "$work/verify-ours.log" "$applier" verify "$dir" --trust "$key/signing-cert.pem" \
                --state-dir "$state" || rc=$?
            [ "$rc" -eq 0 ] || { ours_on=0; ours_err="verify DIR exit $rc: $(tail -n 1 "$work/verify-ours.log.err")"; continue; }
            rm -rf "$state" && mkdir -p "$state"
            timed "$label-ours-tar" "$work/verify-ours.log" "$applier" verify "$dir.tar" --trust "$key/signing-cert.pem" \
                --state-dir "$state" || rc=$?
            [ "$rc" -eq 0 ] || { ours_on=0; ours_err="verify TAR exit $rc: $(tail -n 1 "$work/verify-ours.log.err")"; }
        done
    done
    [ "$ours_on" = 1 ] || say "ours: FAILED: $ours_err"

    local bytes med rss all peer_med form
    for mb in "$payload_small" "$payload_large"; do
        bytes=$(tree_bytes "$files/payload-$mb/tree")
        say "-- $mb MB bundle ($(tree_files "$files/payload-$mb/tree") files, $bytes bytes)"
        read -r peer_med rss all < <(median_of "verify-$mb-sha256sum")
        say "peer: sha256sum -c median $peer_med s = $(mbps "$bytes" "$peer_med") MB/s (runs: $all), peak RSS $rss MB"
        [ "$ours_on" = 1 ] || continue
        for form in dir tar; do
            read -r med rss all < <(median_of "verify-$mb-ours-$form")
            say "ours ($form): median $med s = $(mbps "$bytes" "$med") MB/s (runs: $all), peak RSS $rss MB;" \
                "vs openssl speed $(ratio "$(mbps "$bytes" "$med")" "$speed") (target >= 0.9)," \
                "vs openssl speed -multi $cores $(ratio "$(mbps "$bytes" "$med")" "$speed_all"), vs sha256sum -c $(ratio "$peer_med" "$med")"
        done
    done
    if [ "$ours_on" = 1 ]; then
        say "ours peak RSS, $payload_small MB -> $payload_large MB:" \
            "directory $(median_of "verify-$payload_small-ours-dir" | cut -d' ' -f2) -> $(median_of "verify-$payload_large-ours-dir" | cut -d' ' -f2) MB," \
            "tar $(median_of "verify-$payload_small-ours-tar" | cut -d' ' -f2) -> $(median_of "verify-$payload_large-ours-tar" | cut -d' ' -f2) MB (target: flat)"
    fi
}

# --- progress: the cost of showing progress ----------------------------------------------------

# Progress must cost next to nothing: the same verify of the large bundle with no reporter, with
# its progress drawn as on a terminal and written as a log, one after the other in each round
# (each round in another order) so that the machine's drift hits all three alike. bench_progress times the verification itself.
bench_progress() {
    say ""
    say "== progress: verify of the $payload_large MB bundle with progress (terminal, log) vs without (warm cache, median of $runs) =="
    make_bench_bundles "$bench_progress_bin" || return 0
    local key="$files/signing-key" bundle="$work/bundle-$payload_large.tar" state="$work/progress-state"
    say "ours: $bench_progress_bin BUNDLE.tar CERT STATE none|terminal|log"
    rm -f "$work"/progress-*.times "$work"/progress-first-*.ms
    local i mode secs first
    local -a order=(none terminal log)
    for ((i = 0; i <= runs; i++)); do
        # Each round starts with another mode: no mode always runs first, on the coldest cache.
        for mode in "${order[@]:i%3}" "${order[@]:0:i%3}"; do
            rm -rf "$state" && mkdir -p "$state"
            "$bench_progress_bin" "$bundle" "$key/signing-cert.pem" "$state" "$mode" >"$work/progress.log" \
                2>"$work/progress.log.err" </dev/null ||
                { say "ours: bench_progress $mode FAILED: $(tail -n 1 "$work/progress.log.err")"; return 0; }
            [ "$i" -gt 0 ] || continue  # the first round warms the cache
            secs=$(sed -n 's/.* in \([0-9.]*\) s;.*/\1/p' "$work/progress.log")
            first=$(sed -n 's/.*first progress line after \([-0-9.]*\) ms.*/\1/p' "$work/progress.log")
            echo "$secs 0" >>"$work/progress-$mode.times"
            echo "$first 0" >>"$work/progress-first-$mode.times"
        done
    done
    local none_med t_med l_med rss all none_all t_all l_all first_t first_l
    read -r none_med rss none_all < <(median_of progress-none)
    read -r t_med rss t_all < <(median_of progress-terminal)
    read -r l_med rss l_all < <(median_of progress-log)
    read -r first_t rss all < <(median_of progress-first-terminal)
    read -r first_l rss all < <(median_of progress-first-log)
    say "without progress: median $none_med s (runs: $none_all)"
    # On a busy machine the spread of the runs is larger than the cost measured; the best run of
    # each mode (the one the machine disturbed least) is compared too.
    local best_none best_t best_l
    best_none=$(sort -n "$work/progress-none.times" | head -n 1 | cut -d' ' -f1)
    best_t=$(sort -n "$work/progress-terminal.times" | head -n 1 | cut -d' ' -f1)
    best_l=$(sort -n "$work/progress-log.times" | head -n 1 | cut -d' ' -f1)
    say "best runs: without $best_none s, terminal $best_t s" \
        "($(awk -v a="$best_t" -v b="$best_none" 'BEGIN { printf("%+.1f%%", (b > 0 ? (a / b - 1) * 100 : 0)) }')), log $best_l s" \
        "($(awk -v a="$best_l" -v b="$best_none" 'BEGIN { printf("%+.1f%%", (b > 0 ? (a / b - 1) * 100 : 0)) }'))"
    say "terminal: median $t_med s (runs: $t_all): overhead" \
        "$(awk -v a="$t_med" -v b="$none_med" 'BEGIN { printf("%+.1f%%", (b > 0 ? (a / b - 1) * 100 : 0)) }') (target: under 2%);" \
        "first progress line after $first_t ms"
    say "log: median $l_med s (runs: $l_all): overhead" \
        "$(awk -v a="$l_med" -v b="$none_med" 'BEGIN { printf("%+.1f%%", (b > 0 ? (a / b - 1) * 100 : 0)) }') (target: under 2%);" \
        "first progress line after $first_l ms (a line every 5 s; -1: done before the first)"
}

# --- download: librepo fetch_packages vs dnf download --------------------------------------------

http_pid=""
stop_http() {
    [ -z "$http_pid" ] || { kill "$http_pid" 2>/dev/null || true; wait "$http_pid" 2>/dev/null || true; }
    http_pid=""
}
trap stop_http EXIT

# Staging is what the applier reads the medium for (once: the hash of the bytes written
# decides): it must keep up with the two-pass peer, cp then sha256sum of the copy.
bench_stage() {
    say ""
    say "== stage: bench_stage (copy while hashing) vs cp -r + sha256sum of the copy (warm cache, median of $runs) =="
    make_bench_bundles "$bench_stage_bin" || return 0
    local key="$files/signing-key"
    say "ours: $bench_stage_bin BUNDLE CERT STAGING_ROOT (the signature checked, then every listed file copied and hashed)"
    say "peer: cp -r BUNDLE COPY && cd COPY && sha256sum -c --quiet SUMS"
    rm -f "$work"/stage-*.times
    local mb dir i label ours_on=1 ours_err="" dest="$work/stage-dest"
    for mb in "$payload_small" "$payload_large"; do
        dir="$work/bundle-$mb"
        for ((i = 0; i <= runs; i++)); do
            label=stage-$mb
            [ "$i" -gt 0 ] || label=stage-warm
            rm -rf "$dest"
            timed "$label-peer" "$work/stage.log" sh -c 'cp -r "$1" "$2" && cd "$2" && sha256sum -c --quiet "$3"' \
                sh "$dir" "$dest" "$dir.sums" || { say "cp + sha256sum FAILED: $(tail -n 1 "$work/stage.log")"; return 0; }
            rm -rf "$dest"
            [ "$ours_on" = 1 ] || continue
            timed "$label-ours" "$work/stage-ours.log" "$bench_stage_bin" "$dir" "$key/signing-cert.pem" "$dest" ||
                { ours_on=0; ours_err="$(tail -n 1 "$work/stage-ours.log.err")"; }
            rm -rf "$dest"
        done
    done
    [ "$ours_on" = 1 ] || { say "ours: FAILED: $ours_err"; return 0; }
    local bytes med rss all peer_med
    for mb in "$payload_small" "$payload_large"; do
        bytes=$(tree_bytes "$files/payload-$mb/tree")
        say "-- $mb MB bundle ($(tree_files "$files/payload-$mb/tree") files, $bytes bytes)"
        read -r peer_med rss all < <(median_of "stage-$mb-peer")
        say "peer: cp -r + sha256sum median $peer_med s = $(mbps "$bytes" "$peer_med") MB/s (runs: $all), peak RSS $rss MB"
        read -r med rss all < <(median_of "stage-$mb-ours")
        say "ours: median $med s = $(mbps "$bytes" "$med") MB/s (runs: $all), peak RSS $rss MB;" \
            "vs cp + sha256sum $(ratio "$peer_med" "$med") (target >= 1.0)"
    done
}

bench_download() {
    say ""
    say "== download: librepo fetch_packages vs dnf download, from python3 -m http.server on 127.0.0.1 (median of $runs) =="
    need_tools rpmbuild createrepo_c dnf || return 0
    local t0=$SECONDS repo="$files/rpmrepo"
    python3 scripts/bench/gen_rpm_repo.py --out "$repo" --count "$rpm_count" --mb "$rpm_mb"
    local bytes count
    bytes=$(tree_bytes "$repo/repo/Packages")
    count=$(tree_files "$repo/repo/Packages")
    say "repo: $repo/repo, $count RPMs, $bytes bytes (ready in $((SECONDS - t0)) s)"

    python3 -u -m http.server --bind 127.0.0.1 0 --directory "$repo/repo" >"$work/http.log" 2>&1 &
    http_pid=$!
    local port="" i
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\).*/\1/p' "$work/http.log")
        [ -z "$port" ] || break
        sleep 0.1
    done
    [ -n "$port" ] || { say "skipped: python3 -m http.server did not start: $(tail -n 1 "$work/http.log")"; stop_http; return 0; }
    local url="http://127.0.0.1:$port/" dl="$work/download"
    mkdir -p "$dl/repos.d"
    printf '[bench]\nname=bench\nbaseurl=%s\ngpgcheck=0\nenabled=1\n' "$url" >"$dl/repos.d/bench.repo"
    # download is a dnf plugin: all plugins off but that one (Debian's 'local' plugin breaks things).
    local dnf=(dnf --disableplugin='*' --enableplugin=download --releasever 7 --setopt=reposdir="$dl/repos.d"
        --setopt=cachedir="$dl/dnf-cache" --setopt=logdir="$dl/dnf-log" --setopt=persistdir="$dl/dnf-persist"
        --setopt=max_parallel_downloads=4 download --destdir "$dl/dnf-dest")
    local names
    mapfile -t names <"$repo/names.txt"
    say "ours: bench_fetch $url CACHE 4 (MetadataFetcher, then fetch_packages of every package, 4 parallel)"
    say "peer: ${dnf[*]} <all $count names>"
    local ours_on=1 ours_err="" rc label
    [ -x "$bench_fetch_bin" ] || { ours_on=0; ours_err="no $bench_fetch_bin (cmake --build $build --target bench_fetch)"; }
    rm -f "$work"/download-*.times
    # Both start from empty caches every run, so both really download (metadata included).
    for ((i = 0; i <= runs; i++)); do
        label=download
        [ "$i" -gt 0 ] || label=download-warm
        rm -rf "$dl/dnf-cache" "$dl/dnf-dest"
        rc=0
        timed "$label-dnf" "$work/download-dnf.log" "${dnf[@]}" "${names[@]}" || rc=$?
        [ "$rc" -eq 0 ] || { say "dnf download FAILED (exit $rc): $(tail -n 1 "$work/download-dnf.log.err")"; stop_http; return 0; }
        [ "$(tree_files "$dl/dnf-dest")" -eq "$count" ] || say "MISMATCH: dnf downloaded $(tree_files "$dl/dnf-dest") of $count"
        [ "$ours_on" = 1 ] || continue
        rm -rf "$dl/our-cache"
        timed "$label-ours" "$work/download-ours.log" "$bench_fetch_bin" "$url" "$dl/our-cache" 4 || rc=$?
        cat "$work/download-ours.log" >>"$work/$label-ours.out"
        [ "$rc" -eq 0 ] || { ours_on=0; ours_err="bench_fetch exit $rc: $(tail -n 1 "$work/download-ours.log.err")"; continue; }
        [ "$(tree_files "$dl/our-cache/packages")" -eq "$count" ] ||
            say "MISMATCH: bench_fetch downloaded $(tree_files "$dl/our-cache/packages") of $count"
    done
    stop_http
    local med rss all peer_med
    read -r peer_med rss all < <(median_of download-dnf)
    say "peer: dnf download median $peer_med s = $(mbps "$bytes" "$peer_med") MB/s (runs: $all), peak RSS $rss MB"
    if [ "$ours_on" = 0 ]; then
        say "ours: FAILED or missing: $ours_err"
        return 0
    fi
    read -r med rss all < <(median_of download-ours)
    local fetch_s
    fetch_s=$(inner_median "$work/download-ours.out" downloaded)
    say "ours: median $med s = $(mbps "$bytes" "$med") MB/s (runs: $all; fetch_packages alone $fetch_s s =" \
        "$(mbps "$bytes" "$fetch_s") MB/s, the rest is metadata and start), peak RSS $rss MB"
    say "ratio (throughput ours/dnf): $(ratio "$peer_med" "$med")"
}

# --- serve: the engine's Apache stand-in serving a published bundle to 20 hosts at once --------

bench_serve() {
    say ""
    say "== serve: 20 hosts download a published ${serve_mb} MB bundle at once over HTTPS from the engine's Apache stand-in =="
    need_tools openssl curl || return 0
    local dir="$files/serve" hosts=20 i
    local tree="$dir/docroot/ovirt-airgap/00000000-0000-4000-8000-000000000000"
    # Sparse RPM-sized files (10 MB each): made at once, and the page cache serves them as the
    # engine's would serve a bundle read a moment before.
    if [ ! -e "$dir/.ready-$serve_mb" ]; then
        rm -rf "$dir"
        mkdir -p "$tree/repos/ovirt-4.3/Packages"
        for ((i = 0; i < serve_mb / 10; i++)); do
            truncate -s 10M "$tree/repos/ovirt-4.3/Packages/pkg-$i.rpm"
        done
        ln -s "$(basename "$tree")" "$dir/docroot/ovirt-airgap/current"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 \
            -subj "/CN=bench engine CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/ext"
        openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
            -out "$dir/server.pem" -days 30 -extfile "$dir/ext" 2>/dev/null
        : >"$dir/.ready-$serve_mb"
    fi
    local bytes count
    bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }')
    count=$(tree_files "$tree")
    rm -f "$work/serve.port"
    python3 tests/shared/apache_standin.py --docroot "$dir/docroot" --cert "$dir/server.pem" \
        --key "$dir/server.key" --port-file "$work/serve.port" >"$work/serve.log" 2>&1 &
    http_pid=$!
    for ((i = 0; i < 100; i++)); do
        [ ! -s "$work/serve.port" ] || break
        sleep 0.1
    done
    [ -s "$work/serve.port" ] || { say "skipped: the Apache stand-in did not start: $(tail -n 1 "$work/serve.log")"; stop_http; return 0; }
    local url="https://127.0.0.1:$(cat "$work/serve.port")/ovirt-airgap/current/repos/ovirt-4.3/Packages"
    local args=()
    for ((i = 0; i < count; i++)); do args+=(-o /dev/null "$url/pkg-$i.rpm"); done
    say "server: tests/shared/apache_standin.py (python3 ssl, a thread per connection); $count files, $bytes bytes"
    say "hosts: $hosts x curl --cacert CA, the files one after the other on one connection"
    local t0 t1 pids=() failed=0
    t0=$(date +%s.%N)
    for ((i = 0; i < hosts; i++)); do
        curl -sS --fail --cacert "$dir/ca.pem" "${args[@]}" 2>"$work/serve-host-$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
    t1=$(date +%s.%N)
    local hwm
    hwm=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$http_pid/status" 2>/dev/null || echo "?")
    stop_http
    [ "$failed" -eq 0 ] || { say "FAILED: $failed of $hosts hosts: $(cat "$work"/serve-host-*.err | head -n 1)"; return 0; }
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    say "all $hosts hosts done in $secs s: aggregate $(mbps $((bytes * hosts)) "$secs") MB/s," \
        "$(mbps "$bytes" "$secs") MB/s per host; server peak RSS $hwm MB"
}

# --- el7: the self-contained EL7 package, its size and start-up -------------------------------

# startup_ms N CMD...: median wall time of N runs of CMD in milliseconds.
startup_ms() {
    local n=$1 i t0 t1
    shift
    for ((i = 0; i < n; i++)); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || { echo "failed"; return 0; }
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
    done | sort -n | awk '$1 == "failed" { print "failed"; exit } { t[NR] = $1 } END { if (NR) printf "%.1f\n", t[int((NR + 1) / 2)] / 1000 }'
}

bench_el7() {
    say ""
    say "== el7: the applier's EL7 package, size and start-up in an EL7-like root vs native =="
    if [ "$(id -u)" -ne 0 ]; then
        say "el7: skipped (chroot needs root)"
        return 0
    fi
    local dist="$work/el7-dist" root="$work/el7-root" rpm
    rm -rf "$dist" "$root"
    if ! rpm=$(scripts/package-el7.sh --from-build "$build" --out "$dist" --release bench 2>"$work/el7-package.err"); then
        say "el7: scripts/package-el7.sh FAILED: $(tail -n 1 "$work/el7-package.err")"
        return 0
    fi
    mkdir -p "$root/tmp" "$root/dev"
    (cd "$root" && rpm2cpio "$rpm" | cpio -idm --quiet)
    local size installed libs
    size=$(stat -c %s "$rpm")
    installed=$(rpm -qp --nosignature --qf '%{SIZE}' "$rpm")
    libs=$(find "$root/usr/lib64/ovirt-airgap" -type f | wc -l)
    say "package: $(basename "$rpm"): $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }') MB" \
        "($(awk -v b="$installed" 'BEGIN { printf "%.1f", b / 1048576 }') MB installed, $libs libraries with the loader)"
    local native chrooted
    startup_ms 3 "$applier" --version >/dev/null
    startup_ms 3 chroot "$root" /usr/bin/ovirt-applier --version >/dev/null
    native=$(startup_ms 20 "$applier" --version)
    chrooted=$(startup_ms 20 chroot "$root" /usr/bin/ovirt-applier --version)
    local chroot_alone
    chroot_alone=$(startup_ms 20 chroot "$root" /usr/lib64/ovirt-airgap/ld-linux-x86-64.so.2 --version)
    say "start-up (ovirt-applier --version, median of 20): EL7 root $chrooted ms, native $native ms" \
        "(chroot + the bundled loader alone: $chroot_alone ms)"
    say "ratio EL7 root/native: $(ratio "$chrooted" "$native")"
}

# --- main ---------------------------------------------------------------------------------------

say "ovirt-airgap benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, load average $(cut -d' ' -f1 /proc/loadavg)"
# The synthetic world is resolve's only; a data dir made here gets the generator's marker, so
# that a later resolve run may take it over.
if [[ " ${selected[*]} " == *" resolve "* ]]; then
    gen_data
elif [ ! -d "$data" ]; then
    mkdir -p "$data"
    : >"$data/.bench-data"
fi
work="$data/work"
files="$data/files"
mkdir -p "$work" "$files"
for b in "${selected[@]}"; do
    "bench_$b"
done
say ""
say "results written to $results"
