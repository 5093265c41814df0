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

# `timed FILE CMD...`: runs CMD, writes "wall user sys" seconds to FILE.
timed() {
  local out="$1"; shift
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>"$work/stderr" ; } 2>"$out"
  if [[ -s "$work/stderr" ]]; then cat "$work/stderr" >&2; fi
}

"$lfbatch" init --db "$work/lf.db" --quiet
timed "$work/t_lfbatch" "$lfbatch" enqueue --db "$work/lf.db" --from-file "$work/list.txt" --quiet
total="$("$lfbatch" status --db "$work/lf.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
if [[ "$total" != "$n" ]]; then
  echo "bench_enqueue: expected $n jobs, status says $total" >&2
  exit 1
fi

sqlite3 "$work/base.db" 'CREATE TABLE sources (source TEXT);'
timed "$work/t_sqlite" sqlite3 "$work/base.db" ".import --csv $work/list.txt sources"
rows="$(sqlite3 "$work/base.db" 'SELECT count(*) FROM sources;')"
if [[ "$rows" != "$n" ]]; then
  echo "bench_enqueue: sqlite3 imported $rows rows, expected $n" >&2
  exit 1
fi

read -r lf_wall lf_user lf_sys <"$work/t_lfbatch"
read -r sq_wall sq_user sq_sys <"$work/t_sqlite"
awk -v n="$n" -v lw="$lf_wall" -v lu="$lf_user" -v ls="$lf_sys" \
    -v sw="$sq_wall" -v su="$sq_user" -v ss="$sq_sys" -v cores="$(nproc)" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  lc = lu + ls; sc = su + ss
  printf "enqueue of %d URL sources (%d cores, load average %s)\n", n, cores, load
  printf "                                    wall       cpu (user+sys)\n"
  printf "  lfbatch enqueue --from-file   %7.2f s  %7.2f s   %.0f sources/s\n", lw, lc, n / lw
  printf "  sqlite3 .import (baseline)    %7.2f s  %7.2f s   %.0f rows/s\n", sw, sc, n / sw
  printf "  ratio                         %7.2fx  %7.2fx\n", lw / sw, (sc > 0 ? lc / sc : 0)
  ok = (lw < 15 && lw / sw < 5)
  printf "  target (wall): < 15 s and < 5x sqlite3: %s\n", ok ? "PASS" : "MISS"
}'
