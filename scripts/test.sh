#!/usr/bin/env bash
# Sets up and builds (with -Wconversion -Werror on the library and the programs), runs
# clang-tidy over them, then every test (unit and end to end) with ctest. Any failure fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/clang-tidy.sh build
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
