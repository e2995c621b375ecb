#!/bin/sh
# SPDX-License-Identifier: MIT
# Build CPython with mica in place of its vendored mimalloc.
#
# usage: contrib/cpython/build.sh [--disable-gil] [--with-pydebug] [--vendored]
#                                 [--configure-only] SRC OUT
#
# SRC is a pristine CPython tree (contrib/cpython/get-source.sh SRC); it is
# never modified. The script copies it to OUT/cpython-src, replaces
# Objects/mimalloc/ and Include/internal/mimalloc/ there with mica (its src/
# and include/, plus the thin files under contrib/cpython/tree/), configures
# out of tree in OUT and runs make, leaving OUT/python. --vendored keeps
# CPython's own mimalloc (the unmodified build to compare against).
# --configure-only stops after configure (OUT/pyconfig.h and OUT/Makefile,
# all that contrib/cpython/compile-be.sh needs). Cross builds:
# contrib/cpython/cross.sh, which calls this script.
#
# No CPython file outside those two directories is changed. Logs:
# OUT/configure.log, OUT/make.log. Environment: MAKEFLAGS or JOBS (default
# -j2), CONFIGURE_ARGS (extra configure arguments).
set -eu

die() { echo "build: $*" >&2; exit 1; }

configure_args=""
vendored=0
configure_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --disable-gil|--with-pydebug) configure_args="$configure_args $1"; shift ;;
    --vendored) vendored=1; shift ;;
    --configure-only) configure_only=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || die "usage: $0 [--disable-gil] [--with-pydebug] [--vendored] [--configure-only] SRC OUT"
src=$(cd "$1" && pwd) || die "no source tree at $1"
[ -f "$src/configure" ] && [ -f "$src/Objects/obmalloc.c" ] || die "$src is not a CPython source tree"
mkdir -p "$2"
out=$(cd "$2" && pwd)
mica=$(cd "$(dirname "$0")/../.." && pwd)
tree=$out/cpython-src

# 1. A private copy of the pristine tree (kept between runs, so make only
#    rebuilds what changed; cp -p keeps mica's timestamps too).
stamp=$out/.cpython-src-from
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$src" ]; then
  rm -rf "$tree"
  mkdir -p "$tree"
  cp -pR "$src/." "$tree/"
  echo "$src" > "$stamp"
fi

# 2. mica in place of the vendored allocator.
objdir=$tree/Objects/mimalloc
incdir=$tree/Include/internal/mimalloc
rm -rf "$objdir" "$incdir"
if [ "$vendored" = 1 ]; then
  cp -pR "$src/Objects/mimalloc" "$objdir"
  cp -pR "$src/Include/internal/mimalloc" "$incdir"
  echo "build: CPython's own mimalloc (--vendored)"
else
  # Include/internal/mimalloc/mimalloc/ is what CPython includes and what
  # its `make install` copies (mimalloc.h and mimalloc/*.h only), so mica's
  # headers all go there: atomic.h, internal.h, prim.h, track.h and types.h
  # are mica's files of those names. The symlink mica -> mimalloc serves
  # mica's own sources, which include "mica/internal.h".
  mkdir -p "$objdir" "$incdir/mimalloc"
  cp -pR "$mica/src/." "$objdir/"
  cp -p "$mica"/include/mica/*.h "$mica/include/mica.h" "$incdir/mimalloc/"
  ln -s mimalloc "$incdir/mica"
  cp -p "$mica/include/mimalloc-stats.h" "$incdir/"   # for stats-print.c only
  cp -pR "$mica/contrib/cpython/tree/." "$tree/"
  echo "build: mica $(cd "$mica" && git describe --always --dirty 2>/dev/null || echo '(no git)') in $objdir and $incdir"
fi

# 3. Configure out of tree and build.
cd "$out"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$configure_args ${CONFIGURE_ARGS:-}" ]; then
  echo "build: configure$configure_args ${CONFIGURE_ARGS:-}"
  cstart=$(date +%s)
  # shellcheck disable=SC2086 # word splitting of the option lists is meant
  "$tree/configure" $configure_args ${CONFIGURE_ARGS:-} > configure.log 2>&1 ||
    { tail -n 30 configure.log >&2; die "configure failed (OUT/configure.log)"; }
  echo "$configure_args ${CONFIGURE_ARGS:-}" > .configure-args
  echo "build: configured in $(( $(date +%s) - cstart )) s"
fi
if [ "$configure_only" = 1 ]; then
  echo "build: configured in $out (--configure-only: no make)"
  exit 0
fi
# CPython's Makefile knows only its vendored file names as obmalloc.o's
# prerequisites, so a change to one of mica's other files (free.c, say)
# would not rebuild it.
if [ "$vendored" = 0 ] && [ -f Objects/obmalloc.o ] &&
   [ -n "$(find "$objdir" "$incdir/" "$tree/Include/internal/mimalloc" -newer Objects/obmalloc.o -type f 2>/dev/null | head -n 1)" ]; then
  rm -f Objects/obmalloc.o
fi
echo "build: make ${MAKEFLAGS:-${JOBS:--j2}}"
start=$(date +%s)
# shellcheck disable=SC2086
echo "==== build.sh $(date -u +%FT%TZ): make ${JOBS:--j2}" >> make.log   # appended: check.sh reads the last compile of obmalloc.c
if ! make ${JOBS:--j2} >> make.log 2>&1; then
  grep -n -B2 -A6 'error' make.log | head -n 80 >&2
  die "make failed after $(( $(date +%s) - start )) s (OUT/make.log)"
fi
[ -x "$out/python" ] || die "make succeeded but left no $out/python"
echo "build: $out/python built in $(( $(date +%s) - start )) s"
