#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy) over the library and the two programs, one file per
# core, with the compile commands of a configured build tree (default ./build, which
# scripts/setup.sh makes). Prints the findings and exits 1 when there is any.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "clang-tidy.sh: $build/compile_commands.json is missing: configure the build first (scripts/setup.sh)" >&2
  exit 2
fi
log="$build/clang-tidy.log"
start=$SECONDS
# Only our sources: repo/ (also as tests/CMakeLists.txt compiles it for EL7), cli/, bundler/, applier/.
if run-clang-tidy -quiet -p "$build" -j "$(nproc)" "^$PWD/(repo/[a-z]+|bundler|applier|cli)/[^/]+\.cpp\$" >"$log" 2>&1; then
  echo "clang-tidy: no findings in repo/ cli/ bundler/ applier/ ($((SECONDS - start)) s)"
else
  # The findings without run-clang-tidy's command lines and clang's "N warnings generated".
  grep -vE '^(clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated\.|Suppressed [0-9]+ warnings|Use -header-filter)' "$log" >&2 || true
  echo "clang-tidy: findings above (all of its output: $log)" >&2
  exit 1
fi
