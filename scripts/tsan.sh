#!/usr/bin/env bash
# ThreadSanitizer over the code with threads of its own: builds build-tsan/
# (scripts/build.sh tsan: the runner's tests with its StoreWorker thread,
# lfemu's unit tests and lfemu_e2e_test, which starts the TSan-built lfemu)
# and runs the tests labelled "tsan". Every report, from a test or from an
# lfemu it started, goes to build-tsan/tsan-reports/ and fails the run.
# Known false positives in libraries are in scripts/tsan.supp, one reason each.
# Usage: scripts/tsan.sh [CTEST_ARG...]   (LF_TSAN_NO_BUILD=1 skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${LF_TSAN_NO_BUILD:-0} == 1 ]] || bash scripts/build.sh tsan
reports="$PWD/build-tsan/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=0 second_deadlock_stack=1 log_path=$reports/report exitcode=66"
status=0
ctest --test-dir build-tsan -L tsan --output-on-failure -j "$(nproc)" "$@" || status=1
if compgen -G "$reports/report*" >/dev/null; then
  echo "tsan: ThreadSanitizer reports (build-tsan/tsan-reports/):" >&2
  for f in "$reports"/report*; do
    echo "---- $f" >&2
    cat "$f" >&2
  done
  status=1
fi
exit $status
