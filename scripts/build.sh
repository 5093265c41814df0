#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [normal|sanitize]
# Trees: build/ (normal) and build-asan/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-normal}"
werror=OFF
if [[ -n "${CI:-}" ]]; then werror=ON; fi
case "$flavour" in
  normal)   dir=build;      extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  sanitize) dir=build-asan; extra=(-DCMAKE_BUILD_TYPE=Debug -DLF_SANITIZE=ON) ;;
  *) echo "usage: $0 [normal|sanitize]" >&2; exit 2 ;;
esac
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Cache hits across clones and build trees (CI builds in a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$dir" -G Ninja -DLF_WERROR="$werror" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
