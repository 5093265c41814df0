#!/usr/bin/env bash
# The README's demo: installs what is missing, builds, then runs the main job
# end to end against the bundled emulator, in build/demo/ (wiped each time):
#   lfsamples writes an archive of photos (a realistic mix of good and bad);
#   lfemu serves the API with a quota, a rate limit and injected faults;
#   lfbatch enqueues the archive, some URLs and earlier image_ids, runs until
#   the quota is used up (exit 75), runs again after the quota resets, and
#   writes the CSV, the summary and the HTML report. Each run also writes the
#   metrics file (--metrics-file), checked against the run's --json by
#   scripts/check_metrics.py with Prometheus' own parser.
#
# Usage: scripts/demo.sh [--short] [--no-build] [--bin-dir DIR]
#   --short     150 photos and a quota of 110 requests instead of 600 and 450:
#               the same steps and exit codes in less time (scripts/test.sh)
#   --no-build  skip setup and build: build/ is already built (scripts/test.sh)
#   --bin-dir DIR  run lfbatch, lfemu and lfsamples from DIR (e.g. an install's
#               bin/; implies --no-build) instead of build/; the demo still
#               works in build/demo/ (scripts/test_install.sh)
# A failure names the step, the exit code seen and the one expected, and shows
# the end of lfemu's log and of the logs that step wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

photos=600 quota=450 build=1 bin_dir=""
while (($#)); do
  case "$1" in
    --short) photos=150 quota=110 ;;
    --no-build) build=0 ;;
    --bin-dir) bin_dir="$(cd "${2:?--bin-dir needs a directory}" && pwd)"; build=0; shift ;;
    *) echo "usage: $0 [--short] [--no-build] [--bin-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
if ((build)); then
  bash scripts/setup.sh
  bash scripts/build.sh normal
fi
started=$SECONDS

build="$PWD/build"
lfbatch="$build/src/cli/lfbatch"
lfemu="$build/src/emulator/lfemu"
lfsamples="$build/src/emulator/lfsamples"
if [[ -n $bin_dir ]]; then
  lfbatch="$bin_dir/lfbatch" lfemu="$bin_dir/lfemu" lfsamples="$bin_dir/lfsamples"
  echo "demo: the binaries of $bin_dir"
fi
check_metrics="$PWD/scripts/check_metrics.py"
# Prometheus' parser is Debian's python3-prometheus-client, for the system python.
python=python3; [[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
demo="$build/demo"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# `step NAME [LOG...]`: starts a step. A failure from here on names it and
# shows the end of lfemu.log and of the step's LOGs (files in build/demo/).
step_name="setup" step_logs=()
step() { step_name="$1"; shift; step_logs=("$@"); echo "== $step_name"; }

# `fail SEEN EXPECTED COMMAND`: says why the demo failed, then exits 1.
fail() {
  trap - ERR
  echo "demo: FAILED at step \"$step_name\": got $1, expected $2, from: $3" >&2
  local log
  for log in lfemu.log "${step_logs[@]}"; do
    if [[ -s $log ]]; then
      echo "---- the last 25 lines of $demo/$log" >&2
      tail -n 25 "$log" >&2
    fi
  done
  exit 1
}
# Any command that fails outside `expect_exit` (set -e would stop silently).
trap 'fail "exit code $?" "exit code 0" "$BASH_COMMAND"' ERR

# `expect_exit CODE COMMAND...`: runs COMMAND; fails the demo unless it exits CODE.
expect_exit() {
  local expected=$1 rc=0
  shift
  "$@" || rc=$?
  if [[ $rc != "$expected" ]]; then fail "exit code $rc" "exit code $expected" "$*"; fi
}

# `wait_for_line FILE REGEX`: prints the first match once FILE has it (10 s at most).
wait_for_line() {
  for _ in $(seq 1 100); do
    if grep -m1 -oE "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "demo: no line matching '$2' in $1" >&2; cat "$1" >&2; return 1
}

step "lfsamples: $photos photos, a realistic mix (most verify, some have no face, one face, three faces, are corrupt or too big)"
"$lfsamples" --out archive --count "$photos" --seed 7 --mix realistic --manifest manifest.csv

step "lfemu: account demo, 60 req/s, quota $quota requests, 3% INTERNAL_ERROR, 1% connection resets, 20-40 ms latency" lfemu.out
"$lfemu" --port 0 --account demo:demo-secret --rps 60 --burst 6 --quota "$quota" \
  --fail-rate 0.03 --reset-rate 0.01 --latency-ms 20 --latency-jitter-ms 20 --seed 1 \
  >lfemu.out 2>lfemu.log &
pids+=($!)
api="$(wait_for_line lfemu.out 'http://127\.0\.0\.1:[0-9]+')"
echo "lfemu at $api"

# A plain file server on loopback, so that some jobs are file_url jobs that
# lfemu downloads itself.
step "a file server on loopback for the file_url jobs" files.out
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

step "lfbatch init"
"$lfbatch" init
step "lfbatch enqueue: the archive (recursive) and a URL list with one bad line (exit 1 on purpose)" urls.txt
expect_exit 1 "$lfbatch" enqueue --recursive --tag archive archive --from-file urls.txt
step "lfbatch enqueue again: already queued sources are skipped"
"$lfbatch" enqueue --recursive archive
"$lfbatch" status

step "lfbatch run: the rate limit is found adaptively; the quota ($quota) ends the run with exit 75" run1.json
expect_exit 75 "$lfbatch" run --progress lines --json --metrics-file metrics.prom >run1.json
cat run1.json
step "the metrics file of run 1 parses and carries run1.json's figures" run1.prom
cp metrics.prom run1.prom
"$python" "$check_metrics" run1.json run1.prom
"$lfbatch" status

step "earlier uploads by image_id (file_id jobs)"
mapfile -t ids < <(sqlite3 lfbatch.db "SELECT image_id FROM jobs WHERE state = 'done' AND image_id IS NOT NULL LIMIT 3")
if ((${#ids[@]} != 3)); then fail "${#ids[@]} image_ids" "3" "sqlite3 lfbatch.db"; fi
"$lfbatch" enqueue --tag by-image-id "${ids[@]/#/--file-id=}"

step "the quota resets (lfemu's admin endpoint); the next run finishes the queue" run2.json
curl -fsS -X POST "$api/_admin/reset-quota" >/dev/null
expect_exit 0 "$lfbatch" run --progress lines --json --metrics-file metrics.prom >run2.json
cat run2.json
step "the metrics file of run 2 parses and carries run2.json's figures" metrics.prom
"$python" "$check_metrics" --success run2.json metrics.prom
"$lfbatch" status

step "reports" summary.txt
"$lfbatch" report -o report.csv --excel
"$lfbatch" report --format summary >summary.txt
cat summary.txt
"$lfbatch" report --format html -o report.html
"$lfbatch" jobs list --status FACE_DETECTION_FAILED --limit 5
echo
echo "demo: done in $((SECONDS - started)) s ($photos photos)."
echo "  database: $demo/lfbatch.db"
echo "  reports:  $demo/report.csv (Excel), $demo/summary.txt, $demo/report.html"
echo "  lfemu's view: curl $api/_admin/stats   (stopped when this script exits)"
