#!/usr/bin/env bash
# Installs every Debian 12 package ovirt-airgap needs to build, test, demo and benchmark,
# then configures and builds it in ./build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  cmake g++ make pkg-config
  # static checks in scripts/test.sh (run-clang-tidy comes with it)
  clang-tidy
  libsolv-dev libsolvext-dev librepo-dev libarchive-dev libisofs-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libgtest-dev
  librpm-dev
  # real peers in the tests and the demo world
  rpm createrepo-c dnf gnupg python3 openssl xorriso libarchive-tools
  # the applier's EL7 package (scripts/package-el7.sh) and its EL7-like root test: patchelf,
  # rpm2cpio | cpio, and python3-rpm + Perl's DB_File to write an EL7 Berkeley DB rpmdb
  patchelf binutils rpm2cpio cpio python3-rpm perl libperl5.36
  # man pages and bash completion checked by the install test
  groff-base man-db bash
  # benchmark
  time
  # dnf repoclosure, which checks the test world (tests/e2e/test_world.cpp)
  dnf-plugins-core
  # libsolv's testsolv replays the resolution cases (tests/repo/solv/test_resolve_cases.cpp)
  libsolv-tools
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
