#!/usr/bin/env bash
# The README's demo: installs what is missing, builds, then runs lfbatch end
# to end on generated sample data in build/demo/ (wiped on each run).
# Today: init, enqueue (files, a directory, URLs, one bad source), status.
# Later issues add lfemu, `lfbatch run` and the reports here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh normal

lfbatch="$PWD/build/src/cli/lfbatch"
demo="$PWD/build/demo"
rm -rf "$demo"
mkdir -p "$demo/photos/2024-05-01" "$demo/photos/2024-05-02"
cd "$demo"

# Sample photos: small BMP files (placeholders until the emulator's sample
# generator exists), and a note that the directory walk skips.
python3 - <<'PY'
import struct
def bmp(path, w, h, rgb):
    row = bytes(rgb) * w + b"\0" * ((4 - (w * 3) % 4) % 4)
    pixels = row * h
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    open(path, "wb").write(header + info + pixels)
for day, n in (("2024-05-01", 3), ("2024-05-02", 2)):
    for i in range(n):
        bmp(f"photos/{day}/photo_{i}.bmp", 64, 48, (40 * i, 120, 200))
open("photos/2024-05-01/notes.txt", "w").write("not a photo\n")
PY
cat >list.txt <<'LIST'
# A list file: one source per line; blank lines and comments are skipped.
http://127.0.0.1:1/img/1.jpg
http://127.0.0.1:1/img/2.jpg

ftp://example.com/not-supported.jpg
LIST

echo "== lfbatch --version"
"$lfbatch" --version
echo "== lfbatch init"
"$lfbatch" init --db lfbatch.db
echo "== lfbatch enqueue (one source in the list is bad on purpose: exit code 1)"
rc=0
"$lfbatch" enqueue --db lfbatch.db --recursive --tag demo photos --from-file list.txt || rc=$?
echo "exit code $rc"
if [[ $rc != 1 ]]; then echo "demo: expected exit code 1 (one source rejected)" >&2; exit 1; fi
echo "== lfbatch enqueue again (already queued sources are skipped)"
"$lfbatch" enqueue --db lfbatch.db --recursive photos
echo "== lfbatch status"
"$lfbatch" status --db lfbatch.db
echo "== lfbatch status --json"
"$lfbatch" status --db lfbatch.db --json
echo "== lfbatch report: CSV for auditors, the summary, the HTML page"
"$lfbatch" report --db lfbatch.db -o report.csv --excel
"$lfbatch" report --db lfbatch.db --format summary
"$lfbatch" report --db lfbatch.db --format html -o report.html
echo "demo: done; the database is $demo/lfbatch.db, reports: $demo/report.csv, $demo/report.html"
