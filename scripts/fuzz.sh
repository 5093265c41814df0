#!/usr/bin/env bash
# Runs libFuzzer on one fuzz target (tests/fuzz, README "Fuzzing") or on all
# in turn. Usage: scripts/fuzz.sh TARGET|all SECONDS [LIBFUZZER_FLAG...]
# Builds build-fuzz/ first (scripts/build.sh fuzz: clang, ccache). Seeds:
# tests/fuzz/TARGET/ (with its regressions/) and the target's extra seeds
# (image_probe: tests/images), read only; the dictionary
# tests/fuzz/TARGET.dict. New corpus entries go to
# build-fuzz/fuzz-work/TARGET/corpus/ (kept between runs, never the repo);
# a finding's reproducer to build-fuzz/fuzz-work/TARGET/findings-TIME/
# (crash-*, timeout-*, oom-*, leak-*), named on stderr. Exit status: 0 when no target found
# anything, 1 otherwise (every target still runs).
# Environment: LF_FUZZ_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)); then
  echo "usage: $0 TARGET|all SECONDS [LIBFUZZER_FLAG...]" >&2
  exit 2
fi
which="$1" seconds="$2"
shift 2
# The order scripts/fuzz.sh all runs them (tests/fuzz/fuzz_target_list.cc).
all_targets=(multipart_parser response_parser image_probe csv_writer config lfemu_config endpoint)
if [[ $which == all ]]; then
  targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $which "* ]]; then
  targets=("$which")
else
  echo "$0: unknown target \"$which\"; targets: ${all_targets[*]} (or all)" >&2
  exit 2
fi
[[ ${LF_FUZZ_NO_BUILD:-0} == 1 ]] || bash scripts/build.sh fuzz

status=0
for t in "${targets[@]}"; do
  work="build-fuzz/fuzz-work/$t"
  mkdir -p "$work/corpus"
  seeds=("tests/fuzz/$t")
  max_len=8192
  if [[ $t == image_probe ]]; then
    # Files over 2 * FileWindow::kEdgeBytes take the windowed path.
    seeds+=(tests/images)
    max_len=65536
  fi
  # Each run's reproducers in a directory of its own: whatever is in it is a finding.
  findings="$work/findings-$(date +%Y%m%dT%H%M%S)"
  mkdir -p "$findings"
  flags=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -print_final_stats=1
         -artifact_prefix="$findings/")
  [[ -f tests/fuzz/$t.dict ]] && flags+=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz $t for ${seconds}s (log: $work/fuzz.log) =="
  rc=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "build-fuzz/tests/fuzz/fuzz_$t" "${flags[@]}" "$@" "$work/corpus" "${seeds[@]}" \
    >"$work/fuzz.log" 2>&1 || rc=$?
  # libFuzzer's last status line: executions, coverage, features, corpus.
  grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true
  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done )' "$work/fuzz.log" || true
  if ((rc != 0)) || [[ -n "$(ls -A "$findings")" ]]; then
    status=1
    echo "fuzz $t: FINDING (exit $rc); the end of $work/fuzz.log:" >&2
    tail -n 40 "$work/fuzz.log" >&2
    for f in "$findings"/*; do
      [[ -e $f ]] && echo "fuzz $t: reproducer: $f" >&2
    done
    echo "fuzz $t: replay with build-fuzz/tests/fuzz/fuzz_$t REPRODUCER; once fixed, keep it in" \
         "tests/fuzz/$t/regressions/ (fuzz_replay_test runs it in every tree)" >&2
  else
    rmdir "$findings"
  fi
done
exit $status
