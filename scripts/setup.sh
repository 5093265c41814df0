#!/usr/bin/env bash
# Installs the Debian packages linkface-batch builds, tests and demos with.
# Idempotent: when every package is present it makes no apt call at all.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libspdlog-dev
  libsqlite3-dev libssl-dev googletest libcli11-dev
  sqlite3 python3 curl httpie wrk ca-certificates parallel python3-aiohttp time
  python3-pil  # decodes lfemu's synthetic test images (image_test)
  # Operating it: Prometheus' parser for the metrics file (scripts/check_metrics.py),
  # dpkg-shlibdeps for the .deb's Depends (scripts/package.sh), systemd-analyze
  # for the example units and the openssl CLI for doctor's TLS test.
  python3-prometheus-client dpkg-dev systemd openssl
  # Fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer
  # runtimes, llvm-symbolizer for readable stack traces.
  clang libclang-rt-14-dev llvm
  # The bad-input table (tests/e2e/lfbatch_bad_input_e2e_test.cc): setpriv
  # runs lfbatch as `nobody` for the permission row (root reads anything).
  util-linux
  # The PostgreSQL queue backend: libpq to build against (libpq-dev), and a
  # server for its tests and demos, which start throwaway clusters of their
  # own (scripts/pg_cluster.sh; no system cluster is used).
  postgresql libpq-dev
)
# The HTML report's render test uses headless Chromium; a CJK font so the
# report's screenshot shows Chinese file names and reasons.
if [[ "${LF_WITH_BROWSER:-1}" == 1 ]]; then packages+=(chromium fonts-wqy-zenhei); fi

missing=()
for p in "${packages[@]}"; do
  # Not `dpkg-query | grep -q`: grep -q may exit before dpkg-query is done,
  # and under pipefail the SIGPIPE would read as "missing".
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
