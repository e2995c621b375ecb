#!/bin/sh
# SPDX-License-Identifier: MIT
# Install test: build mica from SRC_DIR, install it into WORK_DIR/prefix, then
# build and run a consumer of the installed package in three ways:
#   1. CMake find_package(mica CONFIG REQUIRED), target mica::mica (shared)
#   2. CMake find_package(mica CONFIG REQUIRED), target mica::mica-static
#   3. cc main.c $(pkg-config --cflags --libs mica)
# Usage: test/consumer/run.sh SRC_DIR WORK_DIR
# Environment: CC (compiler, default cc), CMAKE (default cmake),
#              CMAKE_GENERATOR (passed through by cmake), JOBS (default 2),
#              MICA_CMAKE_ARGS (extra arguments for configuring mica, split on
#              blanks, e.g. "-DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu").
# Exits non-zero on the first failure.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 SRC_DIR WORK_DIR" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
jobs=${JOBS:-2}
build=$work/build
prefix=$work/prefix

step() { printf '\n== consumer: %s\n' "$*"; }
fail() { printf 'consumer: FAILED: %s\n' "$*" >&2; exit 1; }

# A fresh prefix, so nothing stale from an earlier run is found.
rm -rf "$prefix" "$work/consumer-shared" "$work/consumer-static" "$work/consumer-pkgconfig"

step "configure mica ($src -> $build, tests off)"
# shellcheck disable=SC2086 # MICA_CMAKE_ARGS is split on purpose
"$cmake" -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF \
  -DMI_BUILD_SHARED=ON -DMI_BUILD_STATIC=ON \
  -DCMAKE_INSTALL_PREFIX="$prefix" ${MICA_CMAKE_ARGS:-} >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log" >&2; fail "configure mica"; }

step "build mica"
"$cmake" --build "$build" -j "$jobs" >"$work/build.log" 2>&1 \
  || { tail -n 60 "$work/build.log" >&2; fail "build mica"; }

step "install mica into $prefix"
"$cmake" --install "$build" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "install mica"; }
sed 's/^/  /' "$work/install.log"

# Where GNUInstallDirs put the libraries: lib, lib64 or lib/<multiarch>.
pcfile=$(find "$prefix" -name mica.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pcfile" ] || fail "no pkgconfig/mica.pc installed under $prefix"
pcdir=$(dirname "$pcfile")
libdir=$(dirname "$pcdir")
cfgfile=$(find "$prefix" -name mica-config.cmake | head -n 1)
[ -n "$cfgfile" ] || fail "no mica-config.cmake installed under $prefix"
[ -f "$(dirname "$cfgfile")/mica-targets.cmake" ] \
  || fail "mica-targets.cmake is not installed next to $cfgfile"
for f in libmica.so libmica.a; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done
incdir=$(find "$prefix" -name mica.h | head -n 1)
[ -n "$incdir" ] || fail "mica.h is not installed"
echo "consumer: installed layout ok (libdir $libdir, pkg-config file $pcfile, CMake package $cfgfile)"

# find_package for each library kind
for kind in shared static; do
  bdir=$work/consumer-$kind
  step "find_package(mica CONFIG REQUIRED) with the $kind target"
  "$cmake" -S "$here" -B "$bdir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DMICA_LINK="$kind" >"$bdir.configure.log" 2>&1 \
    || { cat "$bdir.configure.log" >&2; fail "configure the consumer ($kind)"; }
  grep 'consumer: found mica' "$bdir.configure.log" | sed 's/^-- /  /'
  "$cmake" --build "$bdir" -j "$jobs" >"$bdir.build.log" 2>&1 \
    || { cat "$bdir.build.log" >&2; fail "build the consumer ($kind)"; }
  exe=$bdir/consumer
  if [ "$kind" = shared ]; then
    # It must load the installed libmica.so (via the build's RUNPATH or LD_LIBRARY_PATH).
    LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$exe" | grep 'libmica' \
      || fail "consumer ($kind) does not depend on libmica.so"
  else
    if command -v readelf >/dev/null 2>&1 && readelf -d "$exe" | grep -q 'libmica'; then
      fail "consumer ($kind) still depends on libmica.so"
    fi
    echo "  no dynamic dependency on libmica.so"
  fi
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe" \
    || fail "consumer ($kind) exited with status $?"
done

# pkg-config
step "pkg-config --cflags --libs mica (PKG_CONFIG_PATH=$pcdir)"
command -v pkg-config >/dev/null 2>&1 || fail "pkg-config is not installed (Debian: apt-get install pkg-config)"
PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
pcver=$(pkg-config --modversion mica) || fail "pkg-config does not find mica"
flags=$(pkg-config --cflags --libs mica) || fail "pkg-config --cflags --libs mica"
echo "  version $pcver; flags: $flags"
case "$flags" in *-lmica*) ;; *) fail "pkg-config flags lack -lmica";; esac
cver=$(sed -n 's/^Version: *//p' "$pcfile")
[ "$pcver" = "$cver" ] || fail "pkg-config version $pcver != $cver"
static_flags=$(pkg-config --static --libs mica) || fail "pkg-config --static --libs mica"
echo "  static flags: $static_flags"
case "$static_flags" in *-pthread*) ;; *) fail "pkg-config --static lacks -pthread";; esac
exe=$work/consumer-pkgconfig
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" -O2 -o "$exe" "$here/main.c" $flags || fail "compile main.c with the pkg-config flags"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$exe" | grep 'libmica' \
  || fail "pkg-config consumer does not depend on libmica.so"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe" \
  || fail "pkg-config consumer exited with status $?"

printf '\nconsumer: PASSED (install layout, find_package shared, find_package static, pkg-config)\n'
