#!/usr/bin/env bash
# Benchmark: `lfbatch run` and `lfbatch status` on a large queue, beside the
# same on a queue of 10,000 jobs (the baseline), measured in the same run.
# For each queue size:
#   - first request: from starting `lfbatch run` to lfemu counting its first
#     request (polling lfemu's /_admin/stats every 2 ms);
#   - status: wall time of `lfbatch status` (the median of 3);
#   - peak RSS of that run, which sends R requests (/usr/bin/time -v).
# Targets at 5,000,000 jobs: first request and status within 2 s; peak RSS
# about the same as at 10,000 (bounded whatever the queue size).
#
# The queues hold file_id jobs, inserted by sqlite3 (one INSERT ... SELECT)
# into a database `lfbatch init` made: the same schema, indexes and triggers
# as `lfbatch enqueue`'s rows, in seconds instead of minutes (enqueue has its
# own benchmark, scripts/bench_enqueue.sh). lfemu answers each with
# IMAGE_ID_NOT_EXIST, a permanent failure: one request per job, no upload.
#
# Usage: scripts/bench_large_queue.sh [N] [R]   (default 5000000 and 5000;
#        env: LF_BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
big="${1:-5000000}"
requests="${2:-5000}"
small=10000
build="${LF_BUILD_DIR:-build}"
lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"
if [[ ! -x "$lfemu" || ! -x "$lfbatch" ]]; then
  echo "bench_large_queue: building lfemu and lfbatch in $build" >&2
  bash scripts/build.sh normal >/dev/null
fi
command -v sqlite3 >/dev/null || { echo "bench_large_queue: sqlite3 is missing: run scripts/setup.sh" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench_large_queue: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lf_bench_large.XXXXXX")
source scripts/lib_lfemu.sh
cleanup() {
  stop_lfemu
  rm -rf "$work"
}
trap cleanup EXIT

export LINKFACE_API_ID=bench LINKFACE_API_SECRET=bench-secret-123
unset LFBATCH_CONFIG LFBATCH_DB

start_lfemu

# make_queue DB N: N pending file_id jobs, due now. Prints the seconds taken.
make_queue() {
  local db=$1 n=$2 now start
  "$lfbatch" --quiet init --db "$db" >/dev/null
  now=$(($(date +%s) * 1000))
  start=$(date +%s.%N)
  sqlite3 "$db" "PRAGMA cache_size = -262144;
    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
    INSERT INTO jobs (source_kind, source, state, next_attempt_at, created_at, updated_at)
    SELECT 'file_id', printf('img-%09d', i), 'pending', $now, $now, $now FROM s;"
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)"
}

# measure DB: prints "first_request_s status_s peak_rss_kib run_wall_s".
measure() {
  python3 - "$lfbatch" "$1" "$url" "$endpoint" "$requests" "$work/time.txt" <<'EOF'
import json, statistics, subprocess, sys, time, urllib.request
lfbatch, db, url, endpoint, requests, time_file = sys.argv[1:]
def seen():
    with urllib.request.urlopen(url + "/_admin/stats") as r:
        return json.load(r)["requests_total"]
def status_seconds():
    t = time.monotonic()
    subprocess.run([lfbatch, "--quiet", "status", "--db", db], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t
status = statistics.median(status_seconds() for _ in range(3))
before = seen()
start = time.monotonic()
run = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_file, lfbatch, "--quiet", "run", "--db", db,
                        "--endpoint", endpoint, "--max-requests", requests, "--concurrency", "16",
                        "--progress", "none"], stdout=subprocess.DEVNULL)
first = None
while first is None and run.poll() is None:
    if seen() > before:
        first = time.monotonic() - start
    else:
        time.sleep(0.002)
run.wait()
wall = time.monotonic() - start
if first is None:
    sys.exit(f"bench_large_queue: lfemu saw no request from the run (exit {run.returncode})")
rss = next(int(l.split(":")[1]) for l in open(time_file) if "Maximum resident set size" in l)
print(f"{first:.3f} {status:.3f} {rss} {wall:.2f}")
EOF
}

echo "large queue: $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null) build"
small_built=$(make_queue "$work/small.db" "$small")
read -r s_first s_status s_rss s_wall < <(measure "$work/small.db")
rm -f "$work/small.db"*
echo "small queue done; building $big jobs (sqlite3)" >&2
big_built=$(make_queue "$work/big.db" "$big")
big_size=$(du -m "$work/big.db" | cut -f1)
read -r b_first b_status b_rss b_wall < <(measure "$work/big.db")

python3 - "$small" "$big" "$requests" "$s_first" "$b_first" "$s_status" "$b_status" "$s_rss" "$b_rss" \
  "$s_wall" "$b_wall" "$small_built" "$big_built" "$big_size" <<'EOF'
import sys
small, big, requests = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sf, bf, ss, bs, sr, br, sw, bw = map(float, sys.argv[4:12])
sb, bb, size = sys.argv[12], sys.argv[13], sys.argv[14]
print(f"{'':38}{small:>12,} jobs{big:>14,} jobs")
print(f"{'lfbatch run: first request after':38}{sf:>15.3f} s{bf:>17.3f} s   (target < 2 s)")
print(f"{'lfbatch status':38}{ss:>15.3f} s{bs:>17.3f} s   (target < 2 s)")
print(f"{f'peak RSS of a run of {requests:,} requests':38}{sr/1024:>13.1f} MiB{br/1024:>15.1f} MiB")
print(f"{'  that run, wall':38}{sw:>15.2f} s{bw:>17.2f} s")
print(f"{'queue built by sqlite3 in':38}{float(sb):>15.1f} s{float(bb):>17.1f} s   ({size} MB file)")
ok = bf < 2 and bs < 2
print(f"targets at {big:,} jobs (first request and status < 2 s): {'PASS' if ok else 'MISS'}")
EOF
