#!/usr/bin/env bash
# Builds the Debian package of lfbatch, lfemu and lfsamples with CPack and
# prints the .deb's path (the last line on stdout; the build talks on stderr).
#
# Its own tree, build-pkg/, configured with the compiler flags of build/
# (scripts/build.sh normal), so ccache serves every object build/ compiled:
# in CI, after the normal tree, this takes seconds, not a second full build.
# Only the three programs are built (tests are not: CMAKE_SKIP_INSTALL_ALL_
# DEPENDENCY stops cpack from building `all`). CPack strips the binaries and
# dpkg-shlibdeps (dpkg-dev) declares their runtime libraries as Depends.
set -euo pipefail
cd "$(dirname "$0")/.."
werror=OFF
if [[ -n "${CI:-}" ]]; then werror=ON; fi
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
dir=build-pkg
cmake -S . -B "$dir" -G Ninja -DLF_WERROR="$werror" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target lfbatch lfemu lfsamples >&2
rm -f "$dir"/linkface-batch_*.deb
(cd "$dir" && cpack -G DEB >&2)
debs=("$PWD/$dir"/linkface-batch_*.deb)
if [[ ! -f ${debs[0]} ]]; then echo "package: cpack wrote no .deb in $dir" >&2; exit 1; fi
echo "${debs[0]}"
