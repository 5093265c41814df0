#!/usr/bin/env bash
# Renders the HTML report of a database in headless Chromium and saves a
# screenshot. Usage: scripts/screenshot_report.sh [DB] [OUT.png]
# Without DB, a sample database (5,000 jobs, three runs) is generated with
# sqlite3 from scripts/report_sample_db.sql. Writes OUT.png (default
# report.png) and the page beside it (OUT.html).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
db="${1:-}"
out="${2:-report.png}"
lfbatch="${LFBATCH:-$root/build/src/cli/lfbatch}"
[[ -x $lfbatch ]] || { bash "$root/scripts/build.sh" normal >/dev/null; }
chromium="${LF_CHROMIUM:-$(command -v chromium || true)}"
[[ -n $chromium ]] || { echo "screenshot_report: chromium is not installed (bash scripts/setup.sh)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -z $db ]]; then
  db="$work/sample.db"
  "$lfbatch" init --db "$db" --quiet
  { echo ".parameter set :jobs 5000"; cat "$root/scripts/report_sample_db.sql"; } | sqlite3 "$db"
fi
html="${out%.png}.html"
"$lfbatch" report --db "$db" --format html -o "$html" --quiet
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1200,2000 --screenshot="$out" "file://$(realpath "$html")" 2>"$work/chromium.log" >/dev/null
[[ -s $out ]] || { echo "screenshot_report: chromium wrote no screenshot; its log:" >&2; cat "$work/chromium.log" >&2; exit 1; }
echo "screenshot: $out (page: $html)"
