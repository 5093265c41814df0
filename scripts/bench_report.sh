#!/usr/bin/env bash
# Benchmark: `lfbatch report --format csv` of N jobs (default 1,000,000, with
# ~1.1 attempts each) beside the baseline `sqlite3 -csv` of the same query
# (the same columns, ISO 8601 times and pass/fail computed in SQL), measured
# in the same run on the same database. Best of 3 runs each; peak memory of
# each. Target: within 3x of sqlite3, in seconds, flat memory.
# Usage: scripts/bench_report.sh [N]   (LFBATCH=path/to/lfbatch to pick a binary)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
lfbatch="${LFBATCH:-build/src/cli/lfbatch}"
if [[ ! -x "$lfbatch" ]]; then
  bash scripts/setup.sh
  bash scripts/build.sh normal
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/lf_bench_report.XXXXXX")"
trap 'rm -rf "$work"' EXIT
db="$work/lf.db"

now() { echo "$EPOCHREALTIME"; }
calc() { awk "BEGIN { print $1 }"; }

t0="$(now)"
"$lfbatch" init --db "$db" --quiet
{ echo ".parameter set :jobs $n"; cat scripts/report_sample_db.sql; } | sqlite3 "$db"
t1="$(now)"
jobs="$(sqlite3 "$db" 'SELECT count(*) FROM jobs')"
attempts="$(sqlite3 "$db" 'SELECT count(*) FROM attempts')"
printf 'database: %s jobs, %s attempts, %s MB, built in %.1f s\n' "$jobs" "$attempts" \
  "$(( $(stat -c %s "$db") / 1000000 ))" "$(calc "$t1 - $t0")"

# The query JobCursor runs, with the CSV's formatting done by SQLite.
iso="'%Y-%m-%dT%H:%M:%fZ'"
query="SELECT j.id, j.source, j.state, j.verify_score,
  CASE WHEN j.verify_score IS NULL THEN '' WHEN j.verify_score >= 0.7 THEN 'pass' ELSE 'fail' END,
  j.image_id, j.request_id, j.api_status, j.reason, j.attempts,
  strftime($iso, (SELECT MIN(a.started_at) FROM attempts a WHERE a.job_id = j.id) / 1000.0, 'unixepoch'),
  strftime($iso, (SELECT MAX(a.started_at) FROM attempts a WHERE a.job_id = j.id) / 1000.0, 'unixepoch'),
  j.tag
FROM jobs j ORDER BY j.id"

# Same rows? (lines: header + jobs; no field in the sample holds a newline)
"$lfbatch" report --db "$db" --threshold 0.7 -o "$work/lfbatch.csv" --quiet
sqlite3 -csv -header "$db" "$query" >"$work/sqlite3.csv"
lf_lines="$(wc -l <"$work/lfbatch.csv")"
sq_lines="$(wc -l <"$work/sqlite3.csv")"
if [[ "$lf_lines" != "$sq_lines" || "$lf_lines" != "$((jobs + 1))" ]]; then
  echo "bench_report: lfbatch wrote $lf_lines lines, sqlite3 $sq_lines, expected $((jobs + 1))" >&2
  exit 1
fi
printf 'output: %s rows; lfbatch %s MB, sqlite3 %s MB\n' "$jobs" \
  "$(( $(stat -c %s "$work/lfbatch.csv") / 1000000 ))" "$(( $(stat -c %s "$work/sqlite3.csv") / 1000000 ))"
rm -f "$work/lfbatch.csv" "$work/sqlite3.csv"

# best-of-3 wall time (s) and the peak RSS (KB) of the best run, stdout to /dev/null
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
best = None
for _ in range(3):
    t = time.perf_counter()
    p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"bench_report: {sys.argv[1]} exited {p.returncode}")
    # ru_maxrss of children is the maximum so far; runs are the same size, so it is each run's peak.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if best is None or elapsed < best[0]:
        best = (elapsed, rss)
print(f"{best[0]:.3f} {best[1]}")
PY
}

read -r lf_s lf_kb < <(measure "$lfbatch" report --db "$db" --threshold 0.7 -o /dev/null --quiet)
read -r sq_s sq_kb < <(measure sqlite3 -csv -header "$db" "$query")
printf 'lfbatch report --format csv: %6.2f s  %6.1f MB peak RSS\n' "$lf_s" "$(calc "$lf_kb / 1000")"
printf 'sqlite3 -csv (same query):   %6.2f s  %6.1f MB peak RSS\n' "$sq_s" "$(calc "$sq_kb / 1000")"
printf 'ratio lfbatch/sqlite3: %.2fx (target: within 3x)\n' "$(calc "$lf_s / $sq_s")"
