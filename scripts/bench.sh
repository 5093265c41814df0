#!/usr/bin/env bash
# One benchmark run, one machine, one lfemu build: figures side by side.
#
# (1) Clients against lfemu without limits, the same PNGs, the same number
#     of requests in flight: wrk (the ceiling: no files, no database),
#     lfbatch (every result committed to SQLite), GNU parallel + curl, and a
#     Python aiohttp script. Each: req/s, CPU seconds per 1,000 requests
#     (user + system, children included) and peak RSS, and the ratios.
# (2) Rate scenarios, lfbatch told nothing of the limits (concurrency 32
#     unless said), lfemu's own counters as the judge:
#     - an unknown 50 req/s limit, 500 jobs and 3,000 jobs;
#     - a limit that moves 50 -> 20 -> 50 req/s over 60 s;
#     - 4 requests in flight per account, 50 ms latency (ideal 80 req/s);
#     - 200 ms latency, concurrency 64, no limit (Little's law: 320 req/s),
#       40 s of work: a run pays about 0.6 s once (start-up, the slow-start
#       ramp, the last answers' 200 ms), a 20 s run would show that instead;
#     - a 30 s gateway outage (502 pages) in a 2,000-job run at 50 req/s.
#
# Usage: scripts/bench.sh [seconds-per-client]   (env: LF_BUILD_DIR, default
#        build; CONCURRENCY, default 64; BENCH_PARTS="clients scenarios";
#        BENCH_ONLY=TEXT runs only the scenarios whose label contains TEXT)
# Not part of CI: it takes about 5 minutes and wants a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
build="${LF_BUILD_DIR:-build}"
concurrency="${CONCURRENCY:-64}"
parts="${BENCH_PARTS:-clients scenarios}"

for tool in wrk parallel curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing: run scripts/setup.sh" >&2; exit 2; }
done
/usr/bin/python3 -c "import aiohttp" 2>/dev/null ||
  { echo "bench: python3-aiohttp is missing: run scripts/setup.sh" >&2; exit 2; }
lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"
if [[ ! -x "$lfemu" || ! -x "$lfbatch" ]]; then
  echo "bench: building lfemu and lfbatch in $build" >&2
  bash scripts/build.sh normal >/dev/null
fi

work=$(mktemp -d)
source scripts/lib_lfemu.sh
cleanup() { stop_lfemu; rm -rf "$work"; }
trap cleanup EXIT
export LINKFACE_API_ID=bench LINKFACE_API_SECRET=bench-secret-123
unset LFBATCH_CONFIG LFBATCH_DB

# Distinct 64x48 PNGs (1.6 KB): a tEXt chunk numbers each, so no two share
# content (identical files would be verified once).
make_images() {  # args: n
  /usr/bin/python3 - "$work/imgs" "$1" <<'EOF'
import os, struct, sys, zlib
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
w, h = 64, 48
raw = b"".join(b"\x00" + bytes([(x * 4 + y * 2) & 0xff for x in range(w) for _ in range(3)]) for y in range(h))
head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
for i in range(n):
    p = os.path.join(out, f"{i:07d}.png")
    if not os.path.exists(p):
        open(p, "wb").write(head + chunk(b"tEXt", b"Comment\0" + f"{i:010d}".encode()) + chunk(b"IEND", b""))
EOF
}

make_queue() {  # args: db n
  local db=$1 n=$2
  make_images "$n"
  rm -f "$db" "$db"-*
  "$lfbatch" --quiet init --db "$db" >/dev/null
  head -n "$n" < <(ls "$work/imgs" | sed "s|^|$work/imgs/|") >"$work/list.txt"
  "$lfbatch" --quiet enqueue --db "$db" --from-file "$work/list.txt" >/dev/null
}

stats() { curl -s "$url/_admin/stats"; }
reset_stats() { curl -s -X POST "$url/_admin/reset-stats" >/dev/null; }
# `timed FILE CMD...`: runs CMD under /usr/bin/time; FILE gets "user sys maxrss_kb".
timed() { local f=$1; shift; /usr/bin/time -o "$f" -f "%U %S %M" "$@"; }

echo "bench: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "       lfemu and every client on loopback; lfemu 1 thread"
echo

if [[ " $parts " == *" clients "* ]]; then
  n_images=$((seconds * 9000))
  make_images "$n_images"
  ls "$work/imgs" | sed "s|^|$work/imgs/|" >"$work/all.txt"
  start_lfemu
  results="$work/clients.tsv"
  : >"$results"
  record() {  # args: name requests seconds timefile
    # The last line: time(1) puts "Command exited with ..." before it on a non-zero exit.
    read -r user sys rss < <(tail -n 1 "$4")
    echo -e "$1\t$2\t$3\t$user\t$sys\t$rss" >>"$results"
  }

  # wrk: one PNG, the runner's multipart form, no files read.
  write_wrk_upload_lua "$work/upload.lua"
  reset_stats
  LF_BENCH_IMAGE="$work/imgs/0000000.png" timed "$work/t.wrk" \
    wrk -t1 -c"$concurrency" -d"${seconds}s" -s "$work/upload.lua" "$url" >"$work/wrk.txt"
  wrk_n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk.txt")
  record wrk "$wrk_n" "$seconds" "$work/t.wrk"

  # lfbatch: the same number in flight, distinct files, SQLite.
  make_queue "$work/tp.db" "$n_images"
  reset_stats
  timed "$work/t.lfbatch" "$lfbatch" --quiet run --db "$work/tp.db" --endpoint "$endpoint" \
    --concurrency "$concurrency" --for "${seconds}s" --json --progress none >"$work/lfbatch.json" || true
  read -r lf_n lf_s < <(/usr/bin/python3 -c "import json; s=json.load(open('$work/lfbatch.json')); print(s['requests'], s['elapsed_s'])")
  record lfbatch "$lf_n" "$lf_s" "$work/t.lfbatch"

  # GNU parallel + curl: one curl per file, as many at once.
  reset_stats
  start=$(date +%s.%N)
  timed "$work/t.parallel" timeout "${seconds}s" parallel -j "$concurrency" --halt never \
    curl -s -o /dev/null -F api_id="$LINKFACE_API_ID" -F api_secret="$LINKFACE_API_SECRET" \
    -F "file=@{}" "$endpoint" :::: "$work/all.txt" || true
  end=$(date +%s.%N)
  par_n=$(stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['requests_total'])")
  record "parallel+curl" "$par_n" "$(/usr/bin/python3 -c "print($end - $start)")" "$work/t.parallel"

  # Python aiohttp: `concurrency` tasks on one event loop, one session.
  cat >"$work/client.py" <<'EOF'
import asyncio, os, sys, time
import aiohttp
endpoint, listfile, conc, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
paths = open(listfile).read().split()
async def main():
    done = 0
    it = iter(paths)
    deadline = time.monotonic() + seconds
    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def worker():
            nonlocal done
            for p in it:
                if time.monotonic() >= deadline:
                    return
                form = aiohttp.FormData()
                form.add_field("api_id", os.environ["LINKFACE_API_ID"])
                form.add_field("api_secret", os.environ["LINKFACE_API_SECRET"])
                form.add_field("file", open(p, "rb").read(), filename="image.png", content_type="image/png")
                async with session.post(endpoint, data=form) as r:
                    await r.read()
                done += 1
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(conc)))
        print(done, time.monotonic() - start)
asyncio.run(main())
EOF
  reset_stats
  timed "$work/t.aiohttp" /usr/bin/python3 "$work/client.py" "$endpoint" "$work/all.txt" \
    "$concurrency" "$seconds" >"$work/aiohttp.out"
  read -r ai_n ai_s <"$work/aiohttp.out"
  record "aiohttp" "$ai_n" "$ai_s" "$work/t.aiohttp"
  stop_lfemu

  echo "(1) clients against lfemu without limits, ${seconds}s each, $concurrency in flight"
  /usr/bin/python3 - "$results" <<'EOF'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
table = []
for name, n, secs, user, sys_, rss in rows:
    n, secs = int(n), float(secs)
    rps = n / secs if secs > 0 else 0
    cpu = (float(user) + float(sys_)) / (n / 1000) if n else 0
    table.append((name, rps, cpu, int(rss) / 1024))
lf = next((rps for name, rps, _, _ in table if name == "lfbatch"), 0)
print(f"    {'client':<15}{'req/s':>9}{'CPU s/1000':>12}{'peak RSS':>12}   lfbatch's req/s is")
for name, rps, cpu, rss in table:
    ratio = "" if name == "lfbatch" or not rps else f"{lf / rps:.2f}x this"
    print(f"    {name:<15}{rps:9.0f}{cpu:12.3f}{rss:9.1f} MB   {ratio}")
EOF
  echo
fi

if [[ " $parts " == *" scenarios "* ]]; then
  echo "(2) rate scenarios: lfbatch told nothing of the limits"
  # scenario LABEL JOBS CONCURRENCY LFEMU_JSON_CONFIG [lfbatch flags...]: prints
  # lfemu's admitted/throttled counts, lfbatch's elapsed time and jobs done.
  scenario() {
    local label=$1 jobs=$2 conc=$3 config=$4; shift 4
    [[ -z "${BENCH_ONLY:-}" || "$label" == *"$BENCH_ONLY"* ]] || return 0
    echo "$config" >"$work/emu.json"
    start_lfemu --config "$work/emu.json" --call-log 100000
    make_queue "$work/s.db" "$jobs"
    if [[ -n "${SCHEDULE:-}" ]]; then
      curl -s -X POST "$url/_admin/config" -d "{\"schedule\": $SCHEDULE}" >/dev/null
    fi
    reset_stats
    local t0 summary
    t0=$(date +%s%3N)
    summary=$("$lfbatch" --quiet run --db "$work/s.db" --endpoint "$endpoint" --concurrency "$conc" \
      --json --progress none "$@" || true)
    curl -s "$url/_admin/calls?limit=100000" >"$work/calls.jsonl"
    /usr/bin/python3 - "$label" "$summary" "$(stats)" "$t0" "$work/calls.jsonl" "${SCENARIO_CHECK:-}" <<'EOF'
import json, sys
label, s, st, t0, calls, check = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
by = st["by_status"]
throttled = by.get("RATE_LIMIT_EXCEEDED", 0)
gateway = sum(n for k, n in by.items() if k.startswith("GATEWAY_"))
api = sum(n for k, n in by.items() if not k.startswith("GATEWAY_"))
admitted = api - throttled
secs = s["elapsed_s"]
line = f"    {label:<44} {s['done']:5d} done, {s.get('failed', 0)} failed in {secs:5.1f}s = {admitted / secs:6.1f} req/s admitted; throttled {throttled}/{api} = {100 * throttled / max(api, 1):4.2f}%"
exec(check) if check else None
print(line)
EOF
    stop_lfemu
  }
  limit_cfg='{"defaults": {"rps": 50}}'
  SCENARIO_CHECK='line += f"; {100 * admitted / (50 * secs):5.1f}% of 50/s"' \
    scenario "unknown 50 req/s limit, 500 jobs:" 500 32 "$limit_cfg"
  SCENARIO_CHECK='line += f"; {100 * admitted / (50 * secs):5.1f}% of 50/s"' \
    scenario "unknown 50 req/s limit, 3,000 jobs:" 3000 32 "$limit_cfg"
  SCHEDULE='[{"after_s": 0, "rps": 50}, {"after_s": 20, "rps": 20}, {"after_s": 40, "rps": 50}]' \
  SCENARIO_CHECK='line += f"; {100 * admitted / 2400:5.1f}% of the 2,400 the schedule allows in 60 s"' \
    scenario "limit 50 -> 20 -> 50 req/s, 20 s each:" 4000 32 '{}' --for 60s
  SCENARIO_CHECK='line += f"; {100 * admitted / (80 * secs):5.1f}% of 80/s"' \
    scenario "4 in flight per account, 50 ms latency:" 1600 32 \
    '{"defaults": {"max_concurrent": 4, "latency_ms": 50}}'
  SCENARIO_CHECK='line += f"; {100 * admitted / (320 * secs):5.1f}% of 320/s"' \
    scenario "200 ms latency, concurrency 64, 40 s:" 12800 64 '{"defaults": {"latency_ms": 200}}'
  # The outage: 502 pages from 10 s to 40 s after the run starts.
  SCHEDULE='[{"after_s": 0, "rps": 50}, {"after_s": 10, "rps": 50, "outage_status": 502}, {"after_s": 40, "rps": 50}]' \
  SCENARIO_CHECK='
rows = [json.loads(l) for l in open(calls) if l.strip()]
end = t0 + 40000  # the schedule was set just before t0: its end is at most this late
after = [r["at_ms"] for r in rows if r["at_ms"] >= end - 2000]
gap = [b - a for a, b in zip(sorted(r["at_ms"] for r in rows), sorted(r["at_ms"] for r in rows)[1:])]
resume = max(gap) / 1000 - 30 if gap else float("nan")
line += f"; {gateway} requests met the outage; the longest silence was {max(gap)/1000 if gap else 0:.1f}s: sending resumed {resume:+.1f}s after the outage ended"' \
    scenario "30 s gateway outage in 2,000 jobs at 50/s:" 2000 32 '{}'
  echo "    targets: 500 jobs <= 2% throttled, 3,000 <= 1%, >= 95% used; schedule >= 90%, <= 3%;"
  echo "             4 in flight >= 90% of 80/s, <= 1%; 200 ms >= 97% of 320/s; outage: 0 failed,"
  echo "             a few dozen requests into it, resumed within 2 s"
fi
