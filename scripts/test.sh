#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the normal and
# the sanitizer trees, runs every test in both, and runs the demo's short form
# (scripts/demo.sh --short: the same steps with fewer photos) and the chaos
# script's short form (scripts/chaos.sh: SIGKILLs, then nothing lost) on the
# normal tree, the bill of an archive with duplicates and rejects
# (scripts/economy.sh: one call per distinct valid image), three runners on
# one PostgreSQL queue with one killed (scripts/demo_cluster.sh 600), then
# the install and the package (scripts/test_install.sh:
# cmake --install and the demo with the installed binaries;
# scripts/test_package.sh: the .deb built from ccache, dpkg -i, checked, dpkg -r),
# and last the fuzz smoke: build-fuzz/ (clang) and each libFuzzer target for
# 8 s from its seeds (scripts/fuzz.sh all 8, README "Fuzzing"). The TSan run
# (scripts/tsan.sh) is not part of it: its cold build alone takes about 8 min.
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
  if [[ $flavour == normal ]]; then
    echo "== demo (scripts/demo.sh --short, on the normal build) =="
    bash scripts/demo.sh --short --no-build || status=1
    echo "== chaos (scripts/chaos.sh 600 4 16, strict: nothing lost, wrong or unrecorded) =="
    CHAOS_STRICT=1 bash scripts/chaos.sh 600 4 16 || status=1
    echo "== economy (scripts/economy.sh 400: billed calls per distinct valid image must be 1.00) =="
    bash scripts/economy.sh 400 || status=1
    echo "== cluster demo (scripts/demo_cluster.sh 600: three runners on one PostgreSQL queue, one killed) =="
    bash scripts/demo_cluster.sh 600 || status=1
    echo "== install (scripts/test_install.sh: cmake --install, the demo's steps with the installed binaries) =="
    bash scripts/test_install.sh --no-build || status=1
    echo "== package (scripts/test_package.sh: the .deb installed, checked, removed) =="
    bash scripts/test_package.sh || status=1
  fi
done
echo "== fuzz smoke (scripts/fuzz.sh all 8: each libFuzzer target 8 s from its seeds) =="
bash scripts/fuzz.sh all 8 || status=1
exit $status
