#!/bin/sh
# SPDX-License-Identifier: MIT
# mica's headers as C++ (doc/embedding.md): CPython 3.13 includes them, inside
# extern "C++", in every C++ unit built with Py_BUILD_CORE. With one C++
# compiler, and -Wall -Wextra -Wundef -Werror:
#   1. each header alone (include/mica.h, include/mica/*.h) compiles as
#      C++11, so each is self-contained in C++ too;
#   2. test-headers-cxx.cpp compiles as C++11, 17 and 20, at MI_DEBUG 0 and
#      2, without and with MI_EMBED 1, its includes bare and inside
#      extern "C++" (24 units), each against layout-c.c compiled by the C
#      compiler with the same definitions;
#   3. each links with the static library and runs: C and C++ agree on every
#      size, offset and helper value, and the inline fast paths work (see
#      test-headers-cxx.cpp).
# usage: check-headers-cxx.sh CXX CC SOURCE_DIR WORK_DIR LIBMICA_A [LIBS...]
# Exits 77 (skipped) when CXX is not installed. Prints "N passed, N failed";
# exits 1 on any failure.
set -u
cxx=$1 cc=$2 src=$3 work=$4 lib=$5
shift 5
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

if ! command -v "$cxx" > /dev/null 2>&1; then
  echo "skipped: no C++ compiler $cxx on this machine"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" || exit 1
warn="-Wall -Wextra -Wundef -Werror"
inc="-I$src/include -I$src/test/headers"
"$cxx" --version | head -n 1

for h in mica.h mica/arch.h mica/config.h mica/atomic.h mica/geometry.h mica/types.h mica/track.h mica/prim.h mica/hooks.h mica/internal.h; do
  if printf '#include "%s"\n' "$h" | "$cxx" -x c++ -std=c++11 $warn $inc -fsyntax-only - 2> "$work/alone.log"; then
    pass
  else
    cat "$work/alone.log"; fail "$h alone does not compile as C++11"
  fi
done

# MI_PADDING is the library's (a debug library's defines the canary check):
# the inline fast paths write the padding that the library reads back
padding=0
if nm "$lib" 2>/dev/null | grep " T _mi_alloc_padding_check\$" > /dev/null; then padding=1; fi
for debug in 0 2; do
  for embed in 0 1; do
    defs="-DMI_DEBUG=$debug -DMI_PADDING=$padding"
    [ $embed = 1 ] && defs="$defs -DMI_EMBED=1"
    cobj=$work/layout-d$debug-e$embed.o
    if ! "$cc" -std=c11 -O2 $warn -Wstrict-prototypes $defs $inc -c "$src/test/headers/layout-c.c" -o "$cobj" 2> "$work/cc.log"; then
      cat "$work/cc.log"; fail "MI_DEBUG=$debug MI_EMBED=$embed: the C unit does not compile"; continue
    fi
    for std in c++11 c++17 c++20; do
      for wrap in 0 1; do
        name="$std MI_DEBUG=$debug MI_EMBED=$embed extern-C++=$wrap"
        exe=$work/headers-$std-d$debug-e$embed-w$wrap
        if "$cxx" -std=$std -O2 $warn $defs -DHEADERS_EXTERN_CXX=$wrap $inc -I"$src/test/api" \
             -c "$src/test/headers/test-headers-cxx.cpp" -o "$exe.o" 2> "$work/cxx.log"; then
          pass
        else
          head -n 30 "$work/cxx.log"; fail "$name: does not compile cleanly"; continue
        fi
        if "$cxx" "$exe.o" "$cobj" "$lib" "$@" -pthread -o "$exe" 2> "$work/ld.log"; then pass; else cat "$work/ld.log"; fail "$name: link"; continue; fi
        if "$exe" > "$exe.log" 2>&1; then pass; else cat "$exe.log"; fail "$name: the program failed"; fi
      done
    done
  done
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
