#!/usr/bin/env bash
# The README's demo: installs what is missing, builds, then runs the main job
# end to end against the bundled emulator, in build/demo/ (wiped each time):
#   lfsamples writes an archive of photos (a realistic mix of good and bad);
#   lfemu serves the API with a quota, a rate limit and injected faults;
#   lfbatch enqueues the archive, some URLs and earlier image_ids, runs until
#   the quota is used up (exit 75), runs again after the quota resets, and
#   writes the CSV, the summary and the HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh normal

build="$PWD/build"
lfbatch="$build/src/cli/lfbatch"
lfemu="$build/src/emulator/lfemu"
lfsamples="$build/src/emulator/lfsamples"
demo="$build/demo"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# `wait_for_line FILE REGEX`: prints the first match once FILE has it (10 s at most).
wait_for_line() {
  for _ in $(seq 1 100); do
    if grep -m1 -oE "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "demo: no line matching '$2' in $1" >&2; cat "$1" >&2; return 1
}

echo "== lfsamples: 600 photos, a realistic mix (most verify, some have no face, one face, three faces, are corrupt or too big)"
"$lfsamples" --out archive --count 600 --seed 7 --mix realistic --manifest manifest.csv

echo "== lfemu: account demo, 60 req/s, quota 450 requests, 3% INTERNAL_ERROR, 1% connection resets, 20-40 ms latency"
"$lfemu" --port 0 --account demo:demo-secret --rps 60 --burst 6 --quota 450 \
  --fail-rate 0.03 --reset-rate 0.01 --latency-ms 20 --latency-jitter-ms 20 --seed 1 \
  >lfemu.out 2>lfemu.log &
pids+=($!)
api="$(wait_for_line lfemu.out 'http://127\.0\.0\.1:[0-9]+')"
echo "lfemu at $api"

# A plain file server on loopback, so that some jobs are file_url jobs that
# lfemu downloads itself.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory archive >files.out 2>&1 &
pids+=($!)
files_port="$(wait_for_line files.out 'port [0-9]+' | cut -d' ' -f2)"
# The first five photos by name. A glob, not `ls archive | head -n 5`: head
# exits after five lines, ls may die of SIGPIPE, and pipefail fails the demo.
first=(archive/*)
first=("${first[@]:0:5}")
printf "http://127.0.0.1:$files_port/%s\n" "${first[@]#archive/}" >urls.txt
echo "ftp://example.com/not-supported.jpg" >>urls.txt   # rejected on purpose

cat >lfbatch.json <<JSON
{
  "endpoint": "$api/identity/handhold_idcard_verification",
  "database": "lfbatch.db",
  "concurrency": 16,
  "threshold": 0.7
}
JSON
export LFBATCH_CONFIG="$demo/lfbatch.json"
# Credentials come from the environment (or a chmod-600 secrets file), never a flag.
export LINKFACE_API_ID=demo LINKFACE_API_SECRET=demo-secret

echo "== lfbatch init"
"$lfbatch" init
echo "== lfbatch enqueue: the archive (recursive) and a URL list with one bad line (exit 1 on purpose)"
rc=0
"$lfbatch" enqueue --recursive --tag archive archive --from-file urls.txt || rc=$?
if [[ $rc != 1 ]]; then echo "demo: expected exit code 1 (one source rejected), got $rc" >&2; exit 1; fi
echo "== lfbatch enqueue again: already queued sources are skipped"
"$lfbatch" enqueue --recursive archive
"$lfbatch" status

echo "== lfbatch run: the rate limit is found adaptively; the quota (450) ends the run with exit 75"
rc=0
"$lfbatch" run --progress lines --json >run1.json || rc=$?
cat run1.json
if [[ $rc != 75 ]]; then echo "demo: expected exit code 75 (out of quota), got $rc" >&2; exit 1; fi
"$lfbatch" status

echo "== earlier uploads by image_id (file_id jobs)"
mapfile -t ids < <(sqlite3 lfbatch.db "SELECT image_id FROM jobs WHERE state = 'done' AND image_id IS NOT NULL LIMIT 3")
"$lfbatch" enqueue --tag by-image-id "${ids[@]/#/--file-id=}"

echo "== the quota resets (lfemu's admin endpoint); the next run finishes the queue"
curl -fsS -X POST "$api/_admin/reset-quota" >/dev/null
"$lfbatch" run --progress lines --json | tee run2.json
"$lfbatch" status

echo "== reports"
"$lfbatch" report -o report.csv --excel
"$lfbatch" report --format summary | tee summary.txt
"$lfbatch" report --format html -o report.html
"$lfbatch" jobs list --status FACE_DETECTION_FAILED --limit 5
echo
echo "demo: done."
echo "  database: $demo/lfbatch.db"
echo "  reports:  $demo/report.csv (Excel), $demo/summary.txt, $demo/report.html"
echo "  lfemu's view: curl $api/_admin/stats   (stopped when this script exits)"
