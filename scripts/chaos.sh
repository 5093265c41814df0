#!/usr/bin/env bash
# Chaos: does `lfbatch run` lose anything that was paid for across SIGKILLs?
#
# lfsamples writes an archive (its manifest says what lfemu will answer for
# each file); lfemu serves it with faults on (5 % INTERNAL_ERROR 500s, 3 %
# connection resets, 3 % garbage bodies) and its call log on; lfbatch queues
# the archive, then `lfbatch run` is SIGKILLed KILLS times at a random moment
# (counted from when the run recorded itself in `runs`, so that no kill lands
# before the run began), and a last run finishes the queue. Then
# scripts/chaos_check.py compares the database, the manifest and lfemu's
# GET /_admin/calls:
#   lost        jobs not final (neither done nor failed);
#   wrong       final jobs whose status or verify_score differs from the manifest;
#   dup/kill    billed, fault-free answers lfemu gave for an image that had
#               already had one (beyond one per job with those bytes), per kill;
#   unrecorded  calls lfemu answered whose request_id no attempts row has,
#               minus attempts rows without a request_id (in doubt, resets,
#               garbage bodies), floored at 0.
# Exits 1 when lost > 0, wrong > 0 or the last run does not complete; with
# CHAOS_STRICT=1 also when unrecorded > 0 or dup/kill exceeds CONCURRENCY
# (the answers in flight at a kill are lost with it; no more may be). The
# figures are printed either way. CI runs the short form strict.
#
# Usage: scripts/chaos.sh [N_JOBS=8000] [KILLS=20] [CONCURRENCY=16]
#        CI's short form: scripts/chaos.sh 600 4 16   (well under a minute)
# Env: LF_BUILD_DIR (default build), CHAOS_SEED (archive, faults and kill
#      moments; default: random, printed), CHAOS_LATENCY_MS (lfemu's latency,
#      default 20, plus up to as much again of jitter), CHAOS_STRICT=1,
#      CHAOS_KEEP=1 (keep the work directory, build/chaos, and lfemu's log).
set -euo pipefail
cd "$(dirname "$0")/.."
n_jobs="${1:-8000}"
kills="${2:-20}"
concurrency="${3:-16}"
build="${LF_BUILD_DIR:-build}"
seed="${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}"
latency="${CHAOS_LATENCY_MS:-20}"
strict="${CHAOS_STRICT:-0}"
for v in "$n_jobs" "$kills" "$concurrency" "$seed" "$latency"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "usage: $0 [N_JOBS] [KILLS] [CONCURRENCY] (integers)" >&2; exit 2; }
done
for tool in python3 sqlite3; do
  command -v "$tool" >/dev/null || { echo "chaos: $tool is missing: run scripts/setup.sh" >&2; exit 2; }
done

lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"
lfsamples="$build/src/emulator/lfsamples"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "chaos: building lfemu, lfbatch and lfsamples in $build (if needed)" >&2
cmake --build "$build" --target lfemu lfbatch lfsamples >/dev/null
lfemu="$(realpath "$lfemu")" lfbatch="$(realpath "$lfbatch")" lfsamples="$(realpath "$lfsamples")"
checker="$PWD/scripts/chaos_check.py"

work="$(realpath -m "$build/chaos")"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

lfemu_pid="" run_pid=""
cleanup() {
  # Only what this script started, by pid.
  if [[ -n "$run_pid" ]]; then kill -KILL "$run_pid" 2>/dev/null || true; fi
  if [[ -n "$lfemu_pid" ]]; then kill "$lfemu_pid" 2>/dev/null || true; wait "$lfemu_pid" 2>/dev/null || true; fi
  if [[ "${CHAOS_KEEP:-0}" != 1 ]]; then cd /; rm -rf "$work"; fi
}
trap cleanup EXIT
t_start=$SECONDS

echo "chaos: $n_jobs jobs, $kills SIGKILLs, concurrency $concurrency, seed $seed"
"$lfsamples" --out archive --count "$n_jobs" --seed "$seed" --mix realistic \
  --manifest manifest.csv >/dev/null

export LINKFACE_API_ID=chaos LINKFACE_API_SECRET=chaos-secret
unset LFBATCH_CONFIG LFBATCH_DB LFBATCH_ENDPOINT LFBATCH_CONCURRENCY LFBATCH_RATE
# A generous rate limit, no quota, the issue's faults; a call log larger than
# every call the runs can make.
"$lfemu" --port 0 --account "$LINKFACE_API_ID:$LINKFACE_API_SECRET" --rps 5000 \
  --fail-rate 0.05 --reset-rate 0.03 --bad-json-rate 0.03 \
  --latency-ms "$latency" --latency-jitter-ms "$latency" --seed "$seed" \
  --call-log $((n_jobs * 10 + 100000)) --log-level warn >lfemu.out 2>lfemu.log &
lfemu_pid=$!
url=""
for _ in $(seq 100); do
  url="$(sed -n 's/^lfemu listening on //p' lfemu.out)"
  [[ -n "$url" ]] && break
  sleep 0.05
done
[[ -n "$url" ]] || { echo "chaos: lfemu did not start:" >&2; cat lfemu.log >&2; exit 1; }

db="$work/chaos.db"
"$lfbatch" init --db "$db" -q
"$lfbatch" enqueue --db "$db" -q --recursive archive
# --max-attempts 10: at 11 % faults, a job failing on attempts alone is a
# 1-in-10^9 event, so any failure that differs from the manifest is the
# runner's, not bad luck.
run_args=(run --db "$db" --endpoint "$url/identity/handhold_idcard_verification"
          --concurrency "$concurrency" --max-attempts 10 --progress none --json -q)

runs_recorded() { sqlite3 -cmd ".timeout 5000" "$db" "SELECT count(*) FROM runs"; }

# Kill moments: uniform in [50 ms, hi], hi chosen so that the K runs together
# last about 60 % of the time the archive needs (concurrency / mean latency
# requests/s, 15 % more calls than jobs for the faults).
hi_ms=$(python3 -c "
n, k, c, lat = $n_jobs, $kills, $concurrency, $latency
rps = c / max(0.001, (lat + lat / 2 + 2) / 1000.0)
total_ms = 1000.0 * n * 1.15 / rps
print(max(150, int(2 * 0.6 * total_ms / max(1, k)) - 50))")
RANDOM=$((seed % 32768))
landed=0
declare -a moments=()
for ((i = 0; i < kills; i++)); do
  before="$(runs_recorded)"
  "$lfbatch" "${run_args[@]}" >"run$i.json" 2>"run$i.log" &
  run_pid=$!
  for _ in $(seq 500); do
    [[ "$(runs_recorded)" -gt "$before" ]] && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.02
  done
  pause_ms=$((50 + (RANDOM * 32768 + RANDOM) % (hi_ms - 50 + 1)))
  sleep "$(printf '%d.%03d' $((pause_ms / 1000)) $((pause_ms % 1000)))"
  kill -KILL "$run_pid" 2>/dev/null || true
  rc=0
  { wait "$run_pid"; } 2>/dev/null || rc=$?  # no "Killed" line from bash
  run_pid=""
  if [[ $rc -eq 137 ]]; then
    landed=$((landed + 1))
    moments+=("${pause_ms}ms")
  else
    moments+=("${pause_ms}ms(exit $rc)")
  fi
done
echo "chaos: kill moments after the run recorded itself: ${moments[*]:-none}"
final_before="$(sqlite3 -cmd ".timeout 5000" "$db" \
  "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed')")"

final_rc=0
for attempt in 1 2 3; do
  final_rc=0
  "$lfbatch" "${run_args[@]}" >final.json 2>final.log || final_rc=$?
  [[ $final_rc -eq 0 ]] && break
  echo "chaos: the last run exited $final_rc (try $attempt of 3):" >&2
  tail -n 3 final.log >&2
done

# lfemu's call log, then the checks (scripts/chaos_check.py; it can be rerun on
# a kept build/chaos/).
python3 - "$url" calls.jsonl <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_admin/calls", timeout=60) as r:
    dropped = int(r.headers.get("X-Calls-Dropped", "0"))
    open(sys.argv[2], "wb").write(r.read())
if dropped:
    print(f"chaos: lfemu's call log dropped {dropped} calls: the call figures are low",
          file=sys.stderr)
PY
strict_flag=()
[[ "$strict" == 1 ]] && strict_flag=(--strict --concurrency "$concurrency")
python3 "$checker" --db "$db" --manifest manifest.csv --calls calls.jsonl \
  --kills "$kills" --landed "$landed" --last-run-exit "$final_rc" \
  --final-before "$final_before" --seconds "$((SECONDS - t_start))" "${strict_flag[@]}"
