#!/bin/sh
# SPDX-License-Identifier: MIT
# Is the CPython that contrib/cpython/build.sh left in OUT built with mica?
#
# usage: contrib/cpython/check.sh OUT
#
#   1. every allocator file that Objects/obmalloc.o was compiled from is one
#      of mica's (the compiler's own dependency list, -MM, with the command
#      in OUT/make.log), and none of CPython's vendored mimalloc files exists in
#      the build's source copy;
#   2. mica's version text is in the python binary;
#   3. PYTHONMALLOC=mimalloc runs, and sys._debugmallocstats() prints mica's
#      size limits (mica's MI_LARGE_OBJ_SIZE_MAX, not mimalloc's); for a
#      cross build (contrib/cpython/cross.sh) under qemu, as OUT/python-qemu.
# Prints "N passed, N failed"; exits 1 on any failure.
set -u
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$(cd "$1" && pwd) || exit 2
mica=$(cd "$(dirname "$0")/../.." && pwd)
tree=$out/cpython-src
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { echo "ok: $*"; passed=$((passed + 1)); }

# 1. the sources of obmalloc.o
cd "$out" || exit 2
# the command build.sh's make ran (never `make -n -B`: that remakes the
# Makefile, which reruns configure, again and again)
cmd=$(grep -- ' -o Objects/obmalloc\.o ' make.log | tail -n 1)
if [ -z "$cmd" ]; then
  fail "OUT/make.log shows no compile command for Objects/obmalloc.o"
else
  deps=$(eval "$(echo "$cmd" | sed 's| -o [^ ]*obmalloc\.o| -MM|')" 2>/dev/null | tr ' \\' '\n\n' | grep -E 'mimalloc/' | sort -u)
  n=0 bad=""
  for f in $deps; do
    n=$((n + 1))
    f=$(realpath "$f")
    rel=${f#"$tree"/}
    case $rel in
      Objects/mimalloc/*) m=$mica/src/${rel#Objects/mimalloc/} ;;
      Include/internal/mimalloc/mica/*) m=$mica/include/${rel#Include/internal/mimalloc/} ;;
      Include/internal/mimalloc/mica.h|Include/internal/mimalloc/mimalloc-stats.h) m=$mica/include/${rel#Include/internal/mimalloc/} ;;
      *) m=$mica/contrib/cpython/tree/$rel ;;
    esac
    cmp -s "$f" "$m" || bad="$bad $rel"
  done
  if [ "$n" -gt 20 ] && [ -z "$bad" ]; then pass "obmalloc.o is compiled from $n allocator files, all mica's"
  else fail "obmalloc.o's allocator files ($n) that are not mica's:$bad"; fi
fi
vendored=""
for f in Objects/mimalloc/alloc-override.c Objects/mimalloc/bitmap.h Objects/mimalloc/prim/unix/prim.c; do
  [ -f "$tree/$f" ] && ! grep -q 'SPDX-License-Identifier: MIT' "$tree/$f" && vendored="$vendored $f"
done
[ -z "$vendored" ] && pass "no vendored mimalloc file in the source copy" || fail "vendored files present:$vendored"

# 2. mica's text in the binary
if grep -q 'mica %d.%d.%d' "$out/python"; then pass "mica's version text is in python"; else fail "no mica text in python"; fi

# 3. run it with the allocator selected (a cross build from cross.sh runs
#    under qemu-user through OUT/python-qemu)
py=$out/python
[ -x "$out/python-qemu" ] && py=$out/python-qemu
stats=$(PYTHONMALLOC=mimalloc "$py" -c 'import sys; sys._debugmallocstats()' 2>&1)
large=$(echo "$stats" | awk -F'= ' '/^Large object max size/ { print $2 }')
want=$(PYTHONMALLOC=mimalloc "$py" -c 'import sys; print(1 << (21 if sys.maxsize > 2**32 else 20))')
if [ -n "$large" ] && [ "$large" = "$want" ]; then pass "sys._debugmallocstats(): large object max size $large (mica's)"
else fail "sys._debugmallocstats() large object max size '$large', mica's is $want"; echo "$stats" | head -n 8; fi
blocks=$(PYTHONMALLOC=mimalloc "$py" -c 'import sys; print(sys.getallocatedblocks())' 2>&1)
case $blocks in
  ''|*[!0-9]*) fail "sys.getallocatedblocks(): $blocks" ;;
  *) [ "$blocks" -gt 1000 ] && pass "sys.getallocatedblocks() = $blocks" || fail "sys.getallocatedblocks() = $blocks" ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
