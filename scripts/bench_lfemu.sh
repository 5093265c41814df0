#!/usr/bin/env bash
# Benchmarks lfemu with wrk: a small multipart upload (api_id, api_secret and
# a PNG file part, as the spec's samples send) against lfemu with no limits
# and no faults, printed beside a baseline measured in the same run: the same
# server answering a bare GET (NOT_FOUND) — the HTTP stack without the
# multipart, image and face work. Target: >= 5,000 uploads/s on 2 cores
# with wrk beside lfemu.
#
# Usage: scripts/bench_lfemu.sh [seconds]   (env: LF_BUILD_DIR, LFEMU_THREADS,
#        WRK_THREADS, WRK_CONNECTIONS)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
build="${LF_BUILD_DIR:-build}"
threads="${LFEMU_THREADS:-1}"
wrk_threads="${WRK_THREADS:-1}"
connections="${WRK_CONNECTIONS:-64}"

command -v wrk >/dev/null || { echo "bench_lfemu: wrk is missing: run scripts/setup.sh" >&2; exit 2; }
lfemu="$build/src/emulator/lfemu"
if [[ ! -x "$lfemu" ]]; then
  echo "bench_lfemu: building lfemu in $build (RelWithDebInfo)" >&2
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target lfemu >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

work=$(mktemp -d)
source scripts/lib_lfemu.sh
export LINKFACE_API_ID=bench LINKFACE_API_SECRET=bench-secret
cleanup() {
  stop_lfemu
  rm -rf "$work"
}
trap cleanup EXIT

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

write_wrk_upload_lua "$work/upload.lua"
cat >>"$work/upload.lua" <<'EOF'
local non_ok = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"status":"OK"', 1, true) then non_ok = non_ok + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-OK answers seen by one wrk thread: %d\n", non_ok))
end
EOF

# lfemu with one account, no limits, no faults, a store small enough to recycle.
start_lfemu --threads "$threads"

body_bytes=$(LF_BENCH_IMAGE="$work/face.png" python3 -c "
import os; print(os.path.getsize(os.environ['LF_BENCH_IMAGE']))")
echo "lfemu bench: $(nproc) cores, lfemu --threads $threads ($build_type build), wrk -t$wrk_threads -c$connections -d${duration}s"
echo "upload: multipart with a ${body_bytes}-byte PNG"

rps_of() { sed -n 's/^Requests\/sec: *//p' "$1"; }

# Baseline: the HTTP stack alone (GET of an unknown path: NOT_FOUND JSON).
wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency "$url/bench-baseline" >"$work/base.txt"
curl -s -X POST "$url/_admin/reset-stats" >/dev/null
# The measured case: uploads.
LF_BENCH_IMAGE="$work/face.png" wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency \
  -s "$work/upload.lua" "$url" >"$work/upload.txt"
stats=$(curl -s "$url/_admin/stats")

base=$(rps_of "$work/base.txt")
upload=$(rps_of "$work/upload.txt")
echo
echo "baseline (GET, NOT_FOUND):   ${base} req/s   p50 $(awk '/50%/{print $2}' "$work/base.txt")  p99 $(awk '/99%/{print $2}' "$work/base.txt")"
echo "upload   (multipart POST):   ${upload} req/s   p50 $(awk '/50%/{print $2}' "$work/upload.txt")  p99 $(awk '/99%/{print $2}' "$work/upload.txt")"
grep -E "non-OK|Socket errors|Non-2xx" "$work/upload.txt" || true
python3 - "$stats" "$upload" <<'EOF'
import json, sys
s = json.loads(sys.argv[1])
print(f"lfemu counters: {s['by_status']}, peak {s['peak_rps']} req/s over 1 s windows, "
      f"{s['uploads']['stored']} uploads stored ({s['uploads']['stored_bytes']} bytes)")
rps = float(sys.argv[2])
print(f"target >= 5000 uploads/s: {'met' if rps >= 5000 else 'NOT met'} ({rps:.0f})")
EOF
