#!/usr/bin/env bash
# Benchmarks `lfbatch run` against lfemu over loopback.
#
# (a) Rate control: lfemu limits the account to 50 req/s (burst 5, lfemu's
#     default of rps/10). The runner, told nothing, must find the limit:
#     target >= 90 % of 50 req/s used and <= 5 % of calls throttled. Told
#     the limit (--rate 50): target >= 97 % used, <= 1 % throttled. Figures
#     come from lfemu's own counters over the run's wall time.
# (b) Throughput: lfemu without limits or faults; the runner's req/s beside
#     wrk's (the baseline, measured in the same run) uploading the same PNG
#     to the same endpoint with the same number of connections. Goal: the
#     runner reaches at least half of wrk's rate.
#
# Usage: scripts/bench_runner.sh [rate-seconds] [throughput-seconds]
#        (env: LF_BUILD_DIR, default build; CONCURRENCY, default 64;
#        LFBATCH_BASELINE=path: also measure that lfbatch's throughput, same server)
set -euo pipefail
cd "$(dirname "$0")/.."
rate_seconds="${1:-30}"
tp_seconds="${2:-10}"
build="${LF_BUILD_DIR:-build}"
concurrency="${CONCURRENCY:-64}"

command -v wrk >/dev/null || { echo "bench_runner: wrk is missing: run scripts/setup.sh" >&2; exit 2; }
lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"
if [[ ! -x "$lfemu" || ! -x "$lfbatch" ]]; then
  echo "bench_runner: building lfemu and lfbatch in $build (RelWithDebInfo)" >&2
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target lfemu lfbatch >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

work=$(mktemp -d)
source scripts/lib_lfemu.sh
cleanup() { stop_lfemu; rm -rf "$work"; }
trap cleanup EXIT

export LINKFACE_API_ID=bench LINKFACE_API_SECRET=bench-secret-123
unset LFBATCH_CONFIG LFBATCH_DB

# A small valid PNG (64x48), made with Python's standard library.
python3 - "$work/face.png" <<'EOF'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
w, h = 64, 48
raw = b"".join(b"\x00" + bytes([(x * 4 + y * 2) & 0xff for x in range(w) for _ in range(3)]) for y in range(h))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
EOF

# A queue of `n` jobs, each its own PNG: the same 64x48 picture as wrk's
# upload with a tEXt chunk numbering it, so every file is distinct content
# (identical files would be verified once and the rest reuse that answer)
# and of the same size.
make_queue() {  # args: db n
  local db=$1 n=$2
  mkdir -p "$work/imgs"
  python3 - "$work/face.png" "$work/imgs" "$n" <<'EOF'
import os, struct, sys, zlib
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
end = data.rindex(b"IEND") - 4  # the IEND chunk's length field
for i in range(n):
    p = os.path.join(out, f"{i}.png")
    if os.path.exists(p):
        continue
    text = b"tEXt" + b"Comment\0" + f"{i:010d}".encode()
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text) & 0xFFFFFFFF)
    with open(p, "wb") as f:
        f.write(data[:end] + chunk + data[end:])
EOF
  rm -f "$db" "$db"-*
  "$lfbatch" --quiet init --db "$db" >/dev/null
  # head reads from a process substitution, not a pipe: it exits after n
  # lines, and a SIGPIPE'd find in a pipe would fail the script (pipefail).
  head -n "$n" < <(find "$work/imgs" -name '*.png') >"$work/list.txt"
  "$lfbatch" --quiet enqueue --db "$db" --from-file "$work/list.txt" >/dev/null
}

json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "runner bench: $(nproc) cores, $build_type build"
echo

# ---- (a) rate control against a 50 req/s account --------------------------
limit=50
rate_case() {  # args: label, extra lfbatch flags...
  local label=$1; shift
  start_lfemu --rps "$limit"
  make_queue "$work/rate.db" $((limit * rate_seconds * 2))
  local summary
  summary=$("$lfbatch" --quiet run --db "$work/rate.db" --endpoint "$endpoint" --concurrency 16 \
    --for "${rate_seconds}s" --json --progress none "$@" || true)
  local stats
  stats=$(curl -s "$url/_admin/stats")
  stop_lfemu
  python3 - "$label" "$summary" "$stats" "$limit" <<'EOF'
import json, sys
label, summary, stats, limit = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4])
by = stats["by_status"]
admitted = sum(n for code, n in by.items() if code != "RATE_LIMIT_EXCEEDED")
throttled = by.get("RATE_LIMIT_EXCEEDED", 0)
total = admitted + throttled
secs = summary["elapsed_s"]
used = admitted / (limit * secs)
share = throttled / total if total else 0
print(f"{label:<28} {admitted:6d} admitted in {secs:5.1f}s = {admitted/secs:5.1f} req/s "
      f"= {100*used:5.1f}% of {limit:.0f}/s; throttled {throttled} of {total} = {100*share:4.2f}%")
EOF
}
echo "(a) lfemu --rps $limit (burst 5), ${rate_seconds}s each, concurrency 16"
rate_case "told nothing (adaptive):"
rate_case "told --rate $limit:" --rate "$limit"
echo "    targets: told nothing >= 90% used, <= 5% throttled; told the limit >= 97% used, <= 1% throttled"
echo

# ---- (b) throughput beside wrk --------------------------------------------
write_wrk_upload_lua "$work/upload.lua"
echo "(b) lfemu without limits, ${tp_seconds}s each, $concurrency connections / requests in flight"
start_lfemu
LF_BENCH_IMAGE="$work/face.png" wrk -t1 -c"$concurrency" -d"${tp_seconds}s" -s "$work/upload.lua" "$url" \
  >"$work/wrk.txt"
wrk_rps=$(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt")
# Enough jobs for the runner to be busy the whole time at up to 1.2x wrk's rate.
jobs=$(python3 -c "print(int(float('$wrk_rps') * $tp_seconds * 1.2) + 1000)")
make_queue "$work/tp.db" "$jobs"
curl -s -X POST "$url/_admin/reset-stats" >/dev/null
summary=$("$lfbatch" --quiet run --db "$work/tp.db" --endpoint "$endpoint" --concurrency "$concurrency" \
  --for "${tp_seconds}s" --json --progress none || true)
if [[ -n "${LFBATCH_BASELINE:-}" ]]; then
  # Another lfbatch (e.g. the previous release) on the same queue and server.
  current=$lfbatch
  lfbatch=$LFBATCH_BASELINE
  make_queue "$work/tp-baseline.db" "$jobs"
  baseline=$("$lfbatch" --quiet run --db "$work/tp-baseline.db" --endpoint "$endpoint" \
    --concurrency "$concurrency" --for "${tp_seconds}s" --json --progress none || true)
  lfbatch=$current
  echo "baseline lfbatch ($LFBATCH_BASELINE): $(json_field "$baseline" req_per_s) req/s"
fi
stop_lfemu
runner_rps=$(json_field "$summary" req_per_s)
python3 - "$wrk_rps" "$runner_rps" "$summary" <<'EOF'
import json, sys
wrk, runner, s = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
print(f"wrk (baseline):   {wrk:8.0f} req/s")
print(f"lfbatch run:      {runner:8.0f} req/s  ({s['requests']} requests, {s['done']} done, "
      f"ended {s['ended']}, every result committed to SQLite)")
print(f"runner / wrk:     {100*runner/wrk:7.1f} %   (goal >= 50 %: {'met' if runner >= wrk/2 else 'NOT met'})")
EOF
