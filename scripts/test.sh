#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the normal and
# the sanitizer trees, and runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
for flavour in normal sanitize; do
  bash scripts/build.sh "$flavour"
  dir=build; [[ $flavour == sanitize ]] && dir=build-asan
  echo "== tests ($flavour build) =="
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" || status=1
done
exit $status
