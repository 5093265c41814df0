#!/usr/bin/env bash
# The Debian package: builds it (scripts/package.sh), shows its Depends,
# installs it with dpkg -i, runs lfbatch --version, lfemu --help and lfbatch
# doctor's usage from /usr/bin, verifies the example systemd units with
# systemd-analyze verify against the installed binaries (skipped, saying so,
# where systemd-analyze is missing), then dpkg -r and checks that nothing of
# it is left. Needs root (or sudo) for dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
if dpkg-query -W -f='${Status}' linkface-batch 2>/dev/null | grep -q "install ok installed"; then
  echo "test_package: linkface-batch is already installed here; refusing to replace it" >&2
  exit 1
fi

deb="$(bash scripts/package.sh | tail -n 1)"
echo "== $deb"
dpkg-deb --field "$deb" Package Version Depends
dpkg-deb --contents "$deb" | awk '{print "  " $6}'

installed=0
cleanup() { if ((installed)); then $sudo dpkg -r linkface-batch >/dev/null || true; fi; }
trap cleanup EXIT
echo "== dpkg -i"
$sudo dpkg -i "$deb"
installed=1
/usr/bin/lfbatch --version
/usr/bin/lfemu --help >/dev/null
/usr/bin/lfsamples --help >/dev/null
/usr/bin/lfbatch doctor --help >/dev/null
echo "lfbatch, lfemu, lfsamples run from /usr/bin"

units=/usr/share/doc/linkface-batch/examples/systemd
if command -v systemd-analyze >/dev/null; then
  echo "== systemd-analyze verify $units/lfbatch.service $units/lfbatch.timer"
  # verify checks the syntax and the settings; it warns (exit 0) about a bad
  # value, so any line naming a unit fails the test.
  out="$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$units/lfbatch.service" "$units/lfbatch.timer" 2>&1)" || {
    echo "$out" >&2; echo "test_package: systemd-analyze verify failed" >&2; exit 1; }
  if [[ -n $out ]]; then
    echo "$out" >&2; echo "test_package: systemd-analyze complains about the units" >&2; exit 1
  fi
  # It does not check every ExecStart= program: the installed ones must exist.
  for exe in $(grep -oE '^Exec[A-Za-z]*=[-@:+!]*/[^ ]+' "$units/lfbatch.service" | sed -E 's/^[^=]*=[-@:+!]*//' | sort -u); do
    if [[ ! -x $exe ]]; then echo "test_package: the unit runs $exe, which is not installed" >&2; exit 1; fi
  done
  echo "systemd-analyze verify: units ok"
else
  echo "test_package: SKIPPED systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)"
fi

echo "== dpkg -r"
$sudo dpkg -r linkface-batch >/dev/null
installed=0
left=0
for f in /usr/bin/lfbatch /usr/bin/lfemu /usr/bin/lfsamples /usr/share/doc/linkface-batch; do
  if [[ -e $f ]]; then echo "test_package: $f is left after dpkg -r" >&2; left=1; fi
done
if dpkg-query -W -f='${Status}' linkface-batch 2>/dev/null | grep -q "ok installed"; then
  echo "test_package: dpkg still lists linkface-batch" >&2; left=1
fi
((left == 0)) || exit 1
echo "test_package: installs and removes cleanly; ok in $((SECONDS - started)) s"
