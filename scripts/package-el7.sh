#!/usr/bin/env bash
# Builds the self-contained CentOS/RHEL 7 package of ovirt-applier on this Debian 12 machine:
#
#   scripts/package-el7.sh [--build-dir DIR | --from-build DIR] [--out DIR] [--release N]
#                          [--sign-key NAME [--gnupg-home DIR]]
#
# writes OUT/ovirt-airgap-applier-VERSION-RELEASE.el7.x86_64.rpm (OUT: ./dist) and, beside
# it, OUT/ovirt-applier-VERSION-RELEASE.debug, the debug info stripped from the binary.
#
# EL7 has glibc 2.17, OpenSSL 1.0.2 and libsolv 0.6; the applier is built here against Debian's
# libraries, so the package carries every shared library the binary loads, and the dynamic
# loader itself, in /usr/lib64/ovirt-airgap. /usr/bin/ovirt-applier names that loader as its
# interpreter and that directory as its RPATH (not $ORIGIN: the loader resolves $ORIGIN
# through /proc, which a chroot or an early boot may lack), so it runs whatever the host has.
# Nothing is required from the host (AutoReqProv: no) but the programs the applier runs:
# the host's own yum and rpm. Payload gzip and SHA-256 file digests: rpm 4.11 reads both.
#
# --build-dir (default ./build-el7) is where the Release build is made; --from-build packages
# the ovirt-applier an existing build tree already holds instead (the tests package the binary
# they test, without a second build).
# VERSION is CMake's project version; RELEASE defaults to the number of commits plus the
# abbreviated hash when built from git (so a later build updates an earlier one), else 1.
# --sign-key signs with rpmsign (the header signature and the header+payload one EL7's rpm
# checks), with the key NAME from GnuPG's default home or --gnupg-home.
# Needs cmake, g++, patchelf, rpm (rpmbuild, rpmsign), binutils (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

build="$top/build-el7"
from_build=0
out="$top/dist"
release=""
sign_key=""
gnupg_home=""
libdir=/usr/lib64/ovirt-airgap

die() { echo "package-el7.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) build="${2:?--build-dir needs a directory}"; shift 2 ;;
        --from-build) build="${2:?--from-build needs a build directory}"; from_build=1; shift 2 ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --release) release="${2:?--release needs a value}"; shift 2
            [[ "$release" =~ ^[0-9A-Za-z._+]+$ ]] || die "--release must be letters, digits, '.', '_' or '+'" ;;
        --sign-key) sign_key="${2:?--sign-key needs a key name}"; shift 2 ;;
        --gnupg-home) gnupg_home="${2:?--gnupg-home needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1" ;;
    esac
done
for tool in cmake patchelf rpmbuild objcopy strip readelf ldd; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
done
[ -z "$sign_key" ] || command -v rpmsign >/dev/null || die "rpmsign is missing"
build=$(realpath -m "$build")
out=$(realpath -m "$out")

if [ "$from_build" = 0 ]; then
    # Release build with debug info, which is split off below: the package ships it stripped.
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g -DAIRGAP_TESTS=OFF \
        "${launcher[@]}" >/dev/null
    cmake --build "$build" --target ovirt-applier -j"$(nproc)" >/dev/null
fi
[ -x "$build/applier/ovirt-applier" ] || die "no $build/applier/ovirt-applier"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || die "no project version in $build/CMakeCache.txt"
if [ -z "$release" ]; then
    release=1
    if count=$(git -C "$top" rev-list --count HEAD 2>/dev/null); then
        release="$count.g$(git -C "$top" rev-parse --short HEAD)"
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/package-el7.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
mkdir -p "$stage/usr/bin" "$stage$libdir" "$out"

bin="$stage/usr/bin/ovirt-applier"
debug="$out/ovirt-applier-$version-$release.debug"
cp "$build/applier/ovirt-applier" "$bin"
objcopy --only-keep-debug "$bin" "$debug"
strip --strip-debug --strip-unneeded "$bin"
objcopy --add-gnu-debuglink="$debug" "$bin"

# Every library the binary loads, by the name it asks for, and the loader: ldd lists both.
loader=""
while read -r name arrow path _; do
    if [ "$arrow" = "=>" ] && [ -f "$path" ]; then
        cp -L "$path" "$stage$libdir/$name"
    elif [[ "$name" == /*ld-linux* ]]; then
        loader=$(basename "$name")
        cp -L "$name" "$stage$libdir/$loader"
    fi
done < <(ldd "$build/applier/ovirt-applier")
[ -n "$loader" ] || die "ldd named no dynamic loader for $build/applier/ovirt-applier"
chmod 0755 "$stage$libdir"/*
# DT_RPATH (not RUNPATH) so that the libraries' own dependencies are found there too.
patchelf --set-interpreter "$libdir/$loader" --force-rpath --set-rpath "$libdir" "$bin"
for lib in "$stage$libdir"/*; do
    if readelf -d "$lib" 2>/dev/null | grep -q '(RUNPATH)'; then
        patchelf --force-rpath --set-rpath "$libdir" "$lib"
    fi
done

mans=()
for m in "$top"/docs/man/ovirt-applier*.[1-8]; do
    [ -f "$m" ] && mans+=("$m")
done
mkdir -p "$stage/usr/share/doc/ovirt-airgap-applier"
cp "$top/README.md" "$stage/usr/share/doc/ovirt-airgap-applier/"
man_files=""
if [ ${#mans[@]} -gt 0 ]; then
    for m in "${mans[@]}"; do
        section="${m##*.}"
        mkdir -p "$stage/usr/share/man/man$section"
        gzip -9n -c "$m" >"$stage/usr/share/man/man$section/$(basename "$m").gz"
        man_files+="/usr/share/man/man$section/$(basename "$m").gz"$'\n'
    done
fi

cat >"$work/ovirt-airgap-applier.spec" <<EOF
Name: ovirt-airgap-applier
Version: $version
Release: $release.el7
Summary: Verify and apply ovirt-airgap bundles on an isolated oVirt 4.3 site
License: ASL 2.0
# Self-contained: the libraries are in $libdir, the host gives only yum and rpm.
AutoReqProv: no

%description
ovirt-applier verifies signed ovirt-airgap bundles and runs the oVirt 4.3 minor update
sequence on isolated CentOS 7 engines and hosts. It carries its own shared libraries and
dynamic loader in $libdir and needs nothing from the system but yum.

%install
cp -a "$stage/." %{buildroot}/

%files
/usr/bin/ovirt-applier
%dir $libdir
$libdir/*
%doc /usr/share/doc/ovirt-airgap-applier/README.md
$man_files
EOF

# Debian's rpm would add build-id links, a debuginfo package and its own post-install
# scripts; the digests and payload are the ones rpm 4.11 reads.
rpmbuild -bb --quiet --target x86_64 \
    --define "_topdir $work/rpmbuild" \
    --define "_build_id_links none" --define "debug_package %{nil}" \
    --define "__os_install_post %{nil}" \
    --define "_binary_payload w9.gzdio" \
    --define "_binary_filedigest_algorithm 8" \
    --define "_source_filedigest_algorithm 8" \
    "$work/ovirt-airgap-applier.spec" >"$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; die "rpmbuild failed"; }
rpm_name="ovirt-airgap-applier-$version-$release.el7.x86_64.rpm"
built="$work/rpmbuild/RPMS/x86_64/$rpm_name"
[ -f "$built" ] || die "rpmbuild made no $rpm_name"

if [ -n "$sign_key" ]; then
    gpg_path=()
    [ -z "$gnupg_home" ] || gpg_path=(--define "_gpg_path $gnupg_home")
    # --rpmv3 adds the header+payload signature EL7's rpm 4.11 checks; no terminal, no pinentry.
    GPG_TTY=/dev/null rpmsign --define "__gpg /usr/bin/gpg" --define "_gpg_name $sign_key" \
        --define "_gpg_digest_algo sha256" "${gpg_path[@]}" --addsign --rpmv3 "$built" >/dev/null \
        || die "rpmsign with key '$sign_key' failed"
fi
mv "$built" "$out/$rpm_name"
echo "$out/$rpm_name"
