#!/usr/bin/env bash
# Three runners, one PostgreSQL queue, one account: a throwaway PostgreSQL
# cluster and lfemu (an account limited to 50 req/s, told to no runner),
# JOBS distinct photos queued once, three `lfbatch run`s started at once on
# this host, one of them killed with SIGKILL a third of the way through.
# The other two finish its jobs once its leases expire; the figures say
# what the account saw.
#
# Usage: scripts/demo_cluster.sh [JOBS]   (default 1,500: about 35 s)
#        scripts/demo_cluster.sh --bench  (the issue's benchmark: 20,000 jobs, about 7 min;
#                                          then PostgreSQL's and SQLite's req/s against
#                                          unlimited lfemu, one runner and three)
# Env: LF_BUILD_DIR (default build), LEASE (default 5s).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=0
jobs=1500
if [[ "${1:-}" == "--bench" ]]; then bench=1; jobs=20000; elif [[ -n "${1:-}" ]]; then jobs=$1; fi
build="${LF_BUILD_DIR:-build}"
lease="${LEASE:-5s}"
limit=50

bash scripts/setup.sh
bash scripts/build.sh normal >/dev/null
lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"

work=$(mktemp -d)
chmod 755 "$work"  # the cluster's server runs as postgres when we are root
source scripts/lib_lfemu.sh
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  stop_lfemu
  bash scripts/pg_cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export LINKFACE_API_ID=demo LINKFACE_API_SECRET=demo-secret-123
export PGOPTIONS="--client-min-messages=warning"  # no NOTICE lines from psql
unset LFBATCH_CONFIG LFBATCH_DB

echo "== a throwaway PostgreSQL cluster"
pg_url=$(bash scripts/pg_cluster.sh start "$work/pg")
echo "   $pg_url"

# Distinct 64x48 PNGs (a tEXt chunk numbers each: no two share content).
make_images() {  # args: n
  /usr/bin/python3 - "$work/imgs" "$1" <<'EOF'
import os, struct, sys, zlib
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
w, h = 64, 48
raw = b"".join(b"\x00" + bytes([(x * 4 + y * 2) & 0xff for x in range(w) for _ in range(3)]) for y in range(h))
head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
for i in range(n):
    p = os.path.join(out, f"{i:07d}.png")
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(head + chunk(b"tEXt", b"n\x00" + str(i).encode()) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOF
}

# A fresh database DB in the cluster with JOBS queued.
fresh_queue() {  # args: db n
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  local db_url="${pg_url%/*}/$1"
  "$lfbatch" --quiet init --db "$db_url" >/dev/null
  head -n "$2" < <(ls "$work/imgs" | sed "s|^|$work/imgs/|") >"$work/list.txt"
  "$lfbatch" --quiet enqueue --db "$db_url" --from-file "$work/list.txt" >/dev/null
  echo "$db_url"
}

make_images "$jobs"
echo "== lfemu: one account, $limit req/s (the runners are not told), 20 ms latency"
echo "{\"defaults\": {\"rps\": $limit, \"latency_ms\": 20}}" >"$work/emu.json"
start_lfemu --config "$work/emu.json" --call-log 1000000
db=$(fresh_queue demo "$jobs")
echo "== $jobs jobs queued in $(sed 's|//[^@]*@|//|' <<<"$db")"

echo "== three runners at once (lease $lease); the second is killed with SIGKILL a third of the way"
t0=$(date +%s%3N)
for i in 1 2 3; do
  "$lfbatch" run --db "$db" --endpoint "$endpoint" --concurrency 16 --lease "$lease" \
    --progress lines --json >"$work/run$i.json" 2>"$work/run$i.err" &
  pids+=($!)
done
third=$((jobs / 3))
while (($(psql -qtA "$db" -c "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed')") < third)); do
  sleep 0.2
done
kill -9 "${pids[1]}"
echo "   killed runner 2 (pid ${pids[1]}) at $(psql -qtA "$db" -c "SELECT count(*) FROM jobs WHERE state IN ('done','failed')") jobs done"
failed=0
for i in 0 2; do
  code=0
  wait "${pids[$i]}" || code=$?
  if ((code != 0)); then
    echo "   runner $((i + 1)) exited $code:"; tail -5 "$work/run$((i + 1)).err"; failed=1
  fi
done
wait "${pids[1]}" 2>/dev/null || true
pids=()
t1=$(date +%s%3N)

echo "== what the queue says"
"$lfbatch" status --db "$db"
psql -q "$db" -c "SELECT id AS run, ended_how, requests, done, failed, throttled FROM runs ORDER BY id"

echo "== what the account saw (lfemu's counters)"
curl -s "$url/_admin/calls?limit=1000000" >"$work/calls.jsonl"  # $url: lfemu's (lib_lfemu.sh)
/usr/bin/python3 - "$work/calls.jsonl" "$t0" "$t1" "$limit" "$jobs" \
  "$(psql -qtA "$db" -c "SELECT count(*) FROM attempts WHERE disposition = 'in_doubt'")" <<'EOF'
import collections, json, sys
calls, t0, t1, limit, jobs, in_doubt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rows = [json.loads(l) for l in open(calls) if l.strip()]
api = [r for r in rows if r["http_status"] != 404]
throttled = sum(1 for r in api if r["api_status"] == "RATE_LIMIT_EXCEEDED")
admitted = len(api) - throttled
secs = (t1 - t0) / 1000
billed = collections.Counter(r["sha256"] for r in api if r["billed"])
twice = sum(n - 1 for n in billed.values() if n > 1)
print(f"   {len(api)} requests in {secs:.1f} s: {admitted} admitted = {admitted / secs:.1f} req/s "
      f"= {100 * admitted / (limit * secs):.1f}% of the {limit:.0f} req/s limit; "
      f"throttled {throttled} = {100 * throttled / max(len(api), 1):.2f}%")
print(f"   content billed twice: {twice} (the killed runner had {in_doubt} requests in doubt)")
if twice > in_doubt:
    sys.exit("demo_cluster: FAILED: content billed twice beyond the killed runner's requests in doubt")
EOF

left=$(psql -qtA "$db" -c "SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'failed')")
if ((left != 0 || failed)); then
  echo "demo_cluster: FAILED: $left jobs not final, or a runner did not finish cleanly" >&2
  exit 1
fi

echo "== the report, from the same PostgreSQL queue"
"$lfbatch" report --db "$db" --format summary 2>&1 | head -20

if ((bench)); then
  echo
  echo "== runner req/s against unlimited lfemu, $jobs jobs each (PostgreSQL beside SQLite)"
  stop_lfemu
  start_lfemu
  # rate LABEL RUNNERS DB: all runners at once on DB, jobs / wall time.
  rate() {
    local label=$1 n=$2 db=$3 t0 t1 i
    local -a ps=()
    t0=$(date +%s%3N)
    for ((i = 0; i < n; i++)); do
      "$lfbatch" --quiet run --db "$db" --endpoint "$endpoint" --concurrency 64 --rate 1000000 \
        --progress none >/dev/null 2>"$work/bench$i.err" &
      ps+=($!)
    done
    for p in "${ps[@]}"; do wait "$p" || echo "   a runner exited $?"; done
    t1=$(date +%s%3N)
    printf '   %-34s %7d req/s\n' "$label" $((jobs * 1000 / (t1 - t0)))
  }
  sqlite_db="$work/bench.db"
  "$lfbatch" --quiet init --db "$sqlite_db" >/dev/null
  "$lfbatch" --quiet enqueue --db "$sqlite_db" --from-file "$work/list.txt" >/dev/null
  rate "SQLite, one runner:" 1 "$sqlite_db"
  rate "PostgreSQL, one runner:" 1 "$(fresh_queue bench1 "$jobs")"
  rate "PostgreSQL, three runners:" 3 "$(fresh_queue bench3 "$jobs")"
  echo "   (SQLite takes one runner per database file: a second one exits 69)"
fi
