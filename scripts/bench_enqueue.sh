#!/usr/bin/env bash
# Benchmark: `lfbatch enqueue --from-file` of 1,000,000 URL sources into a
# fresh database, beside the baseline `sqlite3 .import` of the same list into
# a one-column table, measured in the same run. Target: under 15 s and within
# 5x of sqlite3.
# Usage: scripts/bench_enqueue.sh [N]   (LFBATCH=path/to/lfbatch to pick a binary)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
lfbatch="${LFBATCH:-build/src/cli/lfbatch}"
if [[ ! -x "$lfbatch" ]]; then
  bash scripts/setup.sh
  bash scripts/build.sh normal
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/lf_bench_enqueue.XXXXXX")"
trap 'rm -rf "$work"' EXIT

seq 1 "$n" | awk '{ print "http://127.0.0.1:1/img/" $1 ".jpg" }' >"$work/list.txt"

now() { echo "$EPOCHREALTIME"; }

"$lfbatch" init --db "$work/lf.db" --quiet
t0="$(now)"
"$lfbatch" enqueue --db "$work/lf.db" --from-file "$work/list.txt" --quiet
t1="$(now)"
total="$("$lfbatch" status --db "$work/lf.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
if [[ "$total" != "$n" ]]; then
  echo "bench_enqueue: expected $n jobs, status says $total" >&2
  exit 1
fi

sqlite3 "$work/base.db" 'CREATE TABLE sources (source TEXT);'
t2="$(now)"
sqlite3 "$work/base.db" ".import --csv $work/list.txt sources"
t3="$(now)"
rows="$(sqlite3 "$work/base.db" 'SELECT count(*) FROM sources;')"
if [[ "$rows" != "$n" ]]; then
  echo "bench_enqueue: sqlite3 imported $rows rows, expected $n" >&2
  exit 1
fi

awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  lf = b - a; base = d - c; ratio = lf / base
  printf "enqueue of %d URL sources\n", n
  printf "  lfbatch enqueue --from-file   %7.2f s  (%.0f sources/s)\n", lf, n / lf
  printf "  sqlite3 .import (baseline)    %7.2f s  (%.0f rows/s)\n", base, n / base
  printf "  ratio                         %7.2fx  (target: < 15 s and < 5x)\n", ratio
  ok = (lf < 15 && ratio < 5)
  printf "  %s\n", ok ? "PASS" : "MISS"
}'
