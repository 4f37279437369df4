#!/usr/bin/env bash
# Builds the ovirt-airgap test world into OUTDIR: real GPG-signed RPM repos modelled on
# oVirt 4.3.7 -> 4.3.10 on CentOS 7.7 -> 7.9, a bundle manifest for them, and 4.3.7 engine
# and host installroots made by dnf. What it contains and which traps it sets:
# tests/data/world/README.md.
#
#   scripts/make-world.sh OUTDIR
#
# Idempotent: OUTDIR/.stamp records a hash of this script and tests/data/world/; when it
# matches, nothing is done. Otherwise OUTDIR (which must be empty or an earlier world) is
# rebuilt from scratch. Needs rpmbuild, rpmsign, gpg, createrepo_c, modifyrepo_c, dnf.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 1
fi
src=$(cd "$(dirname "$0")/.." && pwd)
data="$src/tests/data/world"
out=$(realpath -m "$1")
self="$src/scripts/make-world.sh"

hash=$( (sha256sum "$self" | cut -d' ' -f1; cd "$data" && find . -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)

# Two builds of the same world (ctest and the demo) must not interleave.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9

if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$hash" ]; then
    echo "world: up to date in $out"
    exit 0
fi
if [ -e "$out" ] && [ ! -f "$out/.stamp" ] && [ -n "$(ls -A "$out")" ]; then
    echo "world: $out exists and is not a test world; refusing to overwrite it" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"

t_all=$(date +%s.%N)
t_step=$t_all
step() {  # one summary line per step, with its time
    local now
    now=$(date +%s.%N)
    awk -v a="$t_step" -v b="$now" -v what="$1" 'BEGIN { printf "world: %-66s %5.1f s\n", what, b - a }'
    t_step=$now
}

# Debian's rpm keeps its database in ~/.rpmdb; EL7 keeps it in /var/lib/rpm. Every rpm and
# dnf run below (and every test, through OUTDIR/bin/dnf) uses this HOME so that installroots
# get /var/lib/rpm, and nothing lands in the real home.
export HOME="$out/home"
mkdir -p "$HOME"
echo '%_dbpath /var/lib/rpm' >"$HOME/.rpmmacros"
mkdir -p "$out/bin"
cat >"$out/bin/dnf" <<EOF
#!/bin/sh
# dnf as the test world needs it: rpmdb in /var/lib/rpm inside installroots (see
# make-world.sh), no plugins (Debian's 'local' plugin breaks installroots), EL7's releasever.
HOME="$out/home" exec dnf --noplugins --releasever 7 "\$@"
EOF
chmod 0755 "$out/bin/dnf"

# --- signing key -------------------------------------------------------------------------
export GNUPGHOME="$out/gnupg"
mkdir -m 0700 "$GNUPGHOME"
# gpg starts an agent for this home; stop it however the script ends.
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT
key_uid="ovirt-airgap test world <world@airgap.invalid>"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "$key_uid" rsa3072 sign never 2>"$out/gnupg.log" || {
    cat "$out/gnupg.log" >&2
    echo "world: gpg could not make the signing key" >&2
    exit 1
}
mkdir -p "$out/keys"
gpg --batch --armor --export "$key_uid" >"$out/keys/RPM-GPG-KEY-airgap-world"
key_id=$(gpg --batch --with-colons --list-keys "$key_uid" 2>/dev/null | awk -F: '$1 == "pub" {print $5; exit}')
step "signing key $key_id (RSA 3072) in gnupg/, keys/RPM-GPG-KEY-airgap-world"

# --- packages ----------------------------------------------------------------------------
top="$out/rpmbuild"
# The parents of every build's own directories exist before the parallel builds start: rpmbuild
# creates a missing parent itself, and two doing so at once fail with "File exists".
mkdir -p "$top/tmp" "$top/out" "$top/build" "$top/buildroot" "$top/SRPMS"
build_one() {  # spec version release repo target ship stream
    local spec=$1 ver=$2 rel=$3 repo=$4 target=$5 ship=$6 stream=$7
    local rpmdir="$top/out/$spec-$ver-$rel-$target"
    rpmbuild -bb --quiet --nodeps --target "$target" \
        --define "_topdir $top" --define "_tmppath $top/tmp" \
        --define "_builddir $top/build/$spec-$ver-$rel-$target" \
        --define "_buildrootdir $top/buildroot/$spec-$ver-$rel-$target" \
        --define "_rpmdir $rpmdir" \
        --define "_binary_payload w9.gzdio" --define "__os_install_post %{nil}" \
        --define "debug_package %{nil}" --define "_build_id_links none" \
        --define "ver $ver" --define "rel $rel" --define "stream $stream" \
        --define "worldfiles $data/files" --define "worldkey $out/keys/RPM-GPG-KEY-airgap-world" --define "worlddnf $out/bin/dnf" \
        "$data/specs/$spec.spec" >"$rpmdir.log" 2>&1 || {
        cat "$rpmdir.log" >&2
        echo "world: rpmbuild of $spec $ver-$rel for $target failed" >&2
        return 1
    }
    mkdir -p "$out/repos/$repo/Packages"
    local rpm name
    for rpm in "$rpmdir"/*/*.rpm; do
        name=${rpm##*/}
        name=${name%-"$ver-$rel".*.rpm}
        if [ -n "$ship" ] && [[ " ${ship//+/ } " != *" $name "* ]]; then continue; fi
        mv "$rpm" "$out/repos/$repo/Packages/"
    done
}
builds=0
pids=()
while read -r spec ver rel repo targets stream; do
    case "$spec" in '' | '#'*) continue ;; esac
    IFS=, read -r -a target_list <<<"$targets"
    for t in "${target_list[@]}"; do
        target=${t%%=*}
        ship=""
        [ "$t" = "$target" ] || ship=${t#*=}
        build_one "$spec" "$ver" "$rel" "$repo" "$target" "$ship" "$stream" &
        pids+=($!)
        builds=$((builds + 1))
        # rpmbuild is mostly process start-up: run a few at once.
        if [ ${#pids[@]} -ge 6 ]; then
            wait "${pids[0]}"
            pids=("${pids[@]:1}")
        fi
    done
done <"$data/packages.list"
for pid in "${pids[@]}"; do wait "$pid"; done
count=$(find "$out/repos" -name '*.rpm' | wc -l)
step "built $count packages in $builds rpmbuild runs"

# rpmsign warns about GPG_TTY without a terminal; the key has no passphrase, so no pinentry.
# --rpmv3 adds the header+payload signature that EL7's rpm 4.11 checks, as EL7 packages carry.
find "$out/repos" -name '*.rpm' -print0 | sort -z |
    GPG_TTY=/dev/null xargs -0 -P 4 -n 24 rpmsign --define "%__gpg /usr/bin/gpg" --define "_gpg_name $key_uid" \
        --define "_gpg_digest_algo sha256" --addsign --rpmv3 >/dev/null
step "signed $count packages (RSA/SHA256, key $key_id)"

# --- repos -------------------------------------------------------------------------------
for repo in centos-base centos-updates ovirt-4.3-epel ovirt-4.3; do
    createrepo_c --quiet --database "$out/repos/$repo" >/dev/null
done
modifyrepo_c --mdtype updateinfo "$data/files/updateinfo.xml" "$out/repos/centos-updates/repodata" \
    >/dev/null
step "createrepo_c: repos/{centos-base,centos-updates,ovirt-4.3-epel,ovirt-4.3} (+updateinfo)"

mkdir -p "$out/yum.repos.d"
sed -e "s|@OUTDIR@|$out|g" "$data/files/world.repo.in" >"$out/yum.repos.d/airgap-world.repo"
sed -e "s|@OUTDIR@|$out|g" "$data/files/manifest.yaml.in" >"$out/manifest.yaml"
step "manifest.yaml and yum.repos.d/airgap-world.repo"

# --- installed roots ---------------------------------------------------------------------
make_root() {  # name hostname
    local name=$1 hostname=$2
    local root="$out/roots/$name"
    mkdir -p "$root"
    rpm --root "$root" --define "_dbpath /var/lib/rpm" --import "$out/keys/RPM-GPG-KEY-airgap-world"
    mapfile -t nevras < <(grep -v '^#' "$data/roots/$name.list" | grep .)
    "$out/bin/dnf" --installroot "$root" --setopt=reposdir="$out/yum.repos.d" \
        --setopt=install_weak_deps=False -y -q \
        install "${nevras[@]}" >"$out/roots/$name.log" 2>&1 || {
        cat "$out/roots/$name.log" >&2
        echo "world: dnf could not install roots/$name" >&2
        return 1
    }
    echo "$hostname" >"$root/etc/hostname"
    if [ "$name" = engine-4.3.7 ]; then
        # What engine-setup wrote when it set up the engine's database (read by the psql stand-in).
        mkdir -p "$root/etc/ovirt-engine/engine.conf.d"
        printf '%s\n' 'ENGINE_DB_HOST="localhost"' 'ENGINE_DB_PORT="5432"' 'ENGINE_DB_USER="engine"' \
            'ENGINE_DB_PASSWORD="airgap-world"' 'ENGINE_DB_DATABASE="engine"' 'ENGINE_DB_SECURED="False"' \
            >"$root/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"
    fi
    rm -rf "$root/var/cache/dnf"
}
make_root engine-4.3.7 engine.airgap.invalid &
engine_pid=$!
make_root host-4.3.7 host1.airgap.invalid &
host_pid=$!
wait "$engine_pid"
wait "$host_pid"
step "dnf installroots: roots/engine-4.3.7, roots/host-4.3.7"

echo "$hash" >"$out/.stamp"
awk -v a="$t_all" -v b="$(date +%s.%N)" -v out="$out" 'BEGIN { printf "world: done in %.1f s: %s\n", b - a, out }'
