#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [normal|sanitize|fuzz|tsan]
# Trees: build/ (normal), build-asan/ (ASan + UBSan), build-fuzz/ (clang,
# libFuzzer + ASan + UBSan: only the fuzz targets, tests/fuzz) and
# build-tsan/ (ThreadSanitizer: only the threaded tests labelled "tsan", and lfemu).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-normal}"
werror=OFF
if [[ -n "${CI:-}" ]]; then werror=ON; fi
targets=()
case "$flavour" in
  normal)   dir=build;      extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  sanitize) dir=build-asan; extra=(-DCMAKE_BUILD_TYPE=Debug -DLF_SANITIZE=ON) ;;
  # -O1 with assertions on: libFuzzer's usual trade of speed for findings.
  fuzz)     dir=build-fuzz; extra=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1
                                   -DCMAKE_CXX_COMPILER=clang++ -DLF_FUZZ=ON)
            targets=(--target lf_fuzzers) ;;
  tsan)     dir=build-tsan; extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_TSAN=ON)
            targets=(--target lf_tsan_tests) ;;
  *) echo "usage: $0 [normal|sanitize|fuzz|tsan]" >&2; exit 2 ;;
esac
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Cache hits across clones and build trees (CI builds in a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$dir" -G Ninja -DLF_WERROR="$werror" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
