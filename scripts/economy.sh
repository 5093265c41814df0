#!/usr/bin/env bash
# What an archive costs: builds an archive of FILES photos with 10 % exact
# duplicates, 5 % the API rejects for size (over 5 MB, wider than 4000 px,
# 8 px or less) and 5 % that are not images, queues it, runs it against lfemu
# with its call log on, and prints the calls lfemu billed per distinct valid
# image (the goal: 1.00) beside what a client sending every file would pay
# (the baseline: one call per file). Then queues the valid images again
# (`enqueue --again`: verify for real) to show that a re-verification sends
# the earlier uploads' image_ids instead of the bytes.
#
# Exits 1 unless billed calls per distinct valid image is exactly 1.00, no
# local file name reached lfemu, and every job is final.
#
# Usage: scripts/economy.sh [FILES=1000]   (env: LF_BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-1000}"
build="${LF_BUILD_DIR:-build}"
lfemu="$build/src/emulator/lfemu"
lfbatch="$build/src/cli/lfbatch"
lfsamples="$build/src/emulator/lfsamples"
if [[ ! -x "$lfemu" || ! -x "$lfbatch" || ! -x "$lfsamples" ]]; then
  echo "economy: building lfemu, lfbatch and lfsamples in $build" >&2
  bash scripts/build.sh normal >/dev/null
fi
work=$(mktemp -d)
source scripts/lib_lfemu.sh
cleanup() { stop_lfemu; rm -rf "$work"; }
trap cleanup EXIT
export LINKFACE_API_ID=economy LINKFACE_API_SECRET=economy-secret-123
unset LFBATCH_CONFIG LFBATCH_DB

dupes=$((files / 10)); sized=$((files / 20)); junk=$((files / 20))
distinct=$((files - dupes - sized - junk))
mkdir -p "$work/archive"
"$lfsamples" --out "$work/archive/ok" --count "$distinct" --mix ok --seed 7 --quiet
/usr/bin/python3 - "$work/archive" "$dupes" "$sized" "$junk" <<'EOF'
import os, random, shutil, sys
from PIL import Image
root, dupes, sized, junk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
ok = sorted(os.listdir(os.path.join(root, "ok")))
os.makedirs(os.path.join(root, "copies"))
for i in range(dupes):  # byte-identical copies under other names (some with a lying extension)
    src = rng.choice(ok)
    ext = ".jpg" if i % 3 == 0 else os.path.splitext(src)[1]
    shutil.copyfile(os.path.join(root, "ok", src), os.path.join(root, "copies", f"copy-{i:05d}{ext}"))
os.makedirs(os.path.join(root, "sized"))
for i in range(sized):
    path = os.path.join(root, "sized", f"sized-{i:05d}")
    kind = i % 3
    if kind == 0:    # wider than 4000 px
        Image.new("L", (4001, 16 + i)).save(path + ".png")
    elif kind == 1:  # 8 px high: the spec wants more than 8
        Image.new("RGB", (64 + i, 8)).save(path + ".jpg", quality=90)
    else:            # over 5 MB: a real JPEG followed by 6 MB of noise
        Image.new("RGB", (32, 32 + i)).save(path + ".jpg")
        with open(path + ".jpg", "ab") as f:
            f.write(rng.randbytes(6 * 1024 * 1024))
os.makedirs(os.path.join(root, "junk"))
for i in range(junk):
    path = os.path.join(root, "junk", f"junk-{i:05d}")
    kind = i % 4
    if kind == 0:
        open(path + ".jpg", "w").write(f"note {i}: not a photo\n")
    elif kind == 1:
        open(path + ".png", "wb").write(b"%PDF-1.4\n" + rng.randbytes(200))
    elif kind == 2:
        open(path + ".jpg", "wb").close()  # 0 bytes
    else:            # a photo cut short
        src = os.path.join(root, "ok", rng.choice([f for f in ok if f.endswith(".jpg")] or ok))
        data = open(src, "rb").read()
        open(path + ".jpg", "wb").write(data[: len(data) // 2])
EOF

start_lfemu --call-log $((files * 3))
db="$work/archive.db"
"$lfbatch" init --db "$db" -q
"$lfbatch" enqueue --db "$db" --recursive "$work/archive" >"$work/enqueue.out"
set +e
"$lfbatch" run --db "$db" --endpoint "$endpoint" --concurrency 16 --json --progress none -q \
  >"$work/run1.json"
rc=$?
set -e
curl -sf "$url/_admin/calls?limit=1000000" -o "$work/calls1.jsonl"
"$lfbatch" enqueue --db "$db" --again --recursive "$work/archive/ok" -q >/dev/null
"$lfbatch" run --db "$db" --endpoint "$endpoint" --concurrency 16 --json --progress none -q \
  >"$work/run2.json" || true
curl -sf "$url/_admin/calls?limit=1000000" -o "$work/calls2.jsonl"
finals=$(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE state IN ('done','failed')")
total=$(sqlite3 "$db" "SELECT count(*) FROM jobs")

/usr/bin/python3 - "$files" "$distinct" "$rc" "$finals" "$total" "$work/enqueue.out" "$work/run1.json" \
  "$work/run2.json" "$work/calls1.jsonl" "$work/calls2.jsonl" <<'EOF'
import json, sys
files, distinct, rc, finals, total = (int(x) for x in sys.argv[1:6])
enqueue = open(sys.argv[6]).read().strip()
run1 = json.loads(open(sys.argv[7]).read().splitlines()[-1])
run2 = json.loads(open(sys.argv[8]).read().splitlines()[-1])
once = [json.loads(l) for l in open(sys.argv[9]) if l.strip()]
every = [json.loads(l) for l in open(sys.argv[10]) if l.strip()]
second = every[len(once):]
billed = sum(c["billed"] for c in once)
names = {c.get("file_name") for c in once if c["source"] == "file"}
per = billed / distinct
print(f"archive: {files} files ({distinct} distinct valid, {files // 10} exact duplicates, "
      f"{files // 20} the API rejects for size, {files // 20} not images)")
print(f"enqueue: {enqueue}")
print(f"run 1 (exit {rc}): {run1['requests']} requests; {run1['saved']}")
print(f"{'':2}{'client':34}{'billed calls':>14}{'per distinct valid image':>27}")
print(f"{'':2}{'one call per file (baseline)':34}{files:>14}{files / distinct:>27.2f}")
print(f"{'':2}{'lfbatch':34}{billed:>14}{per:>27.2f}")
print(f"file names lfemu saw: {sorted(n for n in names if n)}")
by_id = sum(1 for c in second if c["source"] == "file_id")
print(f"run 2, enqueue --again of the {distinct} valid images: {len(second)} calls, {by_id} sent "
      f"as file_id (no upload), {len(second) - by_id} uploads")
print(f"jobs final: {finals} of {total}")
ok = (round(per, 2) == 1.00 and names <= {"image.jpg", "image.png", "image.gif", "image.bmp",
      "image.tif"} and finals == total)
print("economy: " + ("OK" if ok else "FAILED"))
sys.exit(0 if ok else 1)
EOF
