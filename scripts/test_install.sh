#!/usr/bin/env bash
# What a new user does after cloning: cmake --install of the normal tree into
# a temporary prefix, checks what landed where (programs in bin/, examples
# under share/doc/linkface-batch/, nothing in etc/), then runs the demo's
# steps (scripts/demo.sh --short) with the installed binaries, metrics files
# included. Usage: scripts/test_install.sh [--no-build]  (scripts/test.sh
# passes --no-build after building build/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" != --no-build ]]; then
  bash scripts/setup.sh
  bash scripts/build.sh normal
fi
started=$SECONDS
prefix="$(mktemp -d /tmp/lfbatch-install.XXXXXX)"
trap 'rm -rf "$prefix"' EXIT

echo "== cmake --install build --prefix $prefix"
cmake --install build --prefix "$prefix" >/dev/null
missing=0
for f in bin/lfbatch bin/lfemu bin/lfsamples share/doc/linkface-batch/README.md \
    share/doc/linkface-batch/examples/lfbatch.example.json \
    share/doc/linkface-batch/examples/secrets.example.json \
    share/doc/linkface-batch/examples/lfemu.example.json \
    share/doc/linkface-batch/examples/systemd/lfbatch.service \
    share/doc/linkface-batch/examples/systemd/lfbatch.timer \
    share/doc/linkface-batch/examples/systemd/lfbatch.env.example \
    share/doc/linkface-batch/examples/cron/lfbatch.cron; do
  if [[ ! -e $prefix/$f ]]; then echo "test_install: $f was not installed" >&2; missing=1; fi
done
if [[ -e $prefix/etc ]]; then echo "test_install: the install wrote into etc/" >&2; missing=1; fi
((missing == 0)) || exit 1
(cd "$prefix" && find . -type f | sort | sed 's|^\./|  |')
"$prefix/bin/lfbatch" --version
"$prefix/bin/lfemu" --help >/dev/null

echo "== the demo's steps with $prefix/bin"
bash scripts/demo.sh --short --bin-dir "$prefix/bin"
echo "test_install: ok in $((SECONDS - started)) s"
