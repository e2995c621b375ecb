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
#      cross build (contrib/cpython/cross.sh) under qemu, as OUT/python-qemu;
#   4. the headers `make inclinstall` installs compile a core-API unit alone;
#   5. a free-threaded build (--disable-gil) runs without the GIL: threads
#      making and dropping objects of each heap kind, the collector.
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
  # realpath: mica/ is a symlink to mimalloc/ in the copy (build.sh)
  deps=$(eval "$(echo "$cmd" | sed 's| -o [^ ]*obmalloc\.o| -MM|')" 2>/dev/null | tr ' \\' '\n\n' | grep -E 'mimalloc/' |
         while read -r f; do realpath "$f"; done | sort -u)
  n=0 bad=""
  for f in $deps; do
    n=$((n + 1))
    rel=${f#"$tree"/}
    case $rel in
      Objects/mimalloc/*) m=$mica/src/${rel#Objects/mimalloc/} ;;
      Include/internal/mimalloc/mimalloc/mica.h) m=$mica/include/mica.h ;;
      Include/internal/mimalloc/mimalloc/*) m=$mica/include/mica/${rel#Include/internal/mimalloc/mimalloc/} ;;
      Include/internal/mimalloc/mimalloc-stats.h) m=$mica/include/mimalloc-stats.h ;;
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
want=1048576   # half a 2 MiB segment on every target (include/mica/geometry.h); mimalloc's is 16 or 32 MiB
if [ -n "$large" ] && [ "$large" = "$want" ]; then pass "sys._debugmallocstats(): large object max size $large (mica's)"
else fail "sys._debugmallocstats() large object max size '$large', mica's is $want"; echo "$stats" | head -n 8; fi
blocks=$(PYTHONMALLOC=mimalloc "$py" -c 'import sys; print(sys.getallocatedblocks())' 2>&1)
case $blocks in
  ''|*[!0-9]*) fail "sys.getallocatedblocks(): $blocks" ;;
  *) [ "$blocks" -gt 1000 ] && pass "sys.getallocatedblocks() = $blocks" || fail "sys.getallocatedblocks() = $blocks" ;;
esac

# 4. the installed headers stand alone: `make inclinstall` copies only
#    mimalloc.h and mimalloc/*.h of the allocator, and a core-API user
#    (Py_BUILD_CORE, pycore_interp.h pulls in pycore_mimalloc.h) compiles
#    against them with nothing from the build tree.
inst=$(mktemp -d)
if make -s inclinstall DESTDIR="$inst" > "$inst.log" 2>&1; then
  incpy=$(dirname "$(find "$inst" -name Python.h | head -n 1)")
  cat > "$inst/core.c" <<'EOF_C'
#define Py_BUILD_CORE 1
#include "Python.h"
#include "internal/pycore_interp.h"
size_t heap_size(void) { return sizeof(mi_heap_t) + sizeof(PyInterpreterState); }
EOF_C
  cc=$(sed -n 's/^CC=[[:space:]]*//p' Makefile | head -n 1)
  if $cc -std=c11 -I"$incpy" -c "$inst/core.c" -o "$inst/core.o" > "$inst.cc" 2>&1; then
    pass "installed headers ($(find "$incpy/internal/mimalloc" -name '*.h' | wc -l) allocator headers) compile a Py_BUILD_CORE unit"
  else fail "a Py_BUILD_CORE unit does not compile against the installed headers:"; head -n 20 "$inst.cc"; fi
else fail "make inclinstall failed"; tail -n 20 "$inst.log"; fi
rm -rf "$inst" "$inst.log" "$inst.cc"

# 5. a free-threaded build (--disable-gil) runs without the GIL, its
#    objects in mica's heaps: threads make and drop objects of each heap
#    kind (plain, GC, GC with a pre-header) while the collector runs, the
#    collector finds a cycle, and exited threads' objects stay countable
if [ "$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("Py_GIL_DISABLED"))' 2>&1)" = 1 ]; then
  ft=$(PYTHONMALLOC=mimalloc "$py" - 2>&1 <<'EOF_PY'
import gc, sys, threading, weakref
assert not sys._is_gil_enabled(), "the GIL is on"
class Node:                                   # managed dict: GC heap with a pre-header
    pass
kept = []
def work(n):
    mine = []
    for i in range(2000):
        d = {"k": str(i) * 3, "l": [i, float(i)]}  # GC objects and plain ones
        a = Node(); b = Node(); a.b = b; b.a = a  # a cycle
        mine.append((d, a if i % 7 == 0 else None))
    kept.append(mine)                         # outlives its thread
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts: t.start()
gc.collect()
for t in ts: t.join()
a = Node(); a.self = a; r = weakref.ref(a); del a
gc.collect()
assert r() is None, "the collector missed a cycle"
print(len(kept), sys.getallocatedblocks())
EOF_PY
)
  case $ft in
    "4 "*) pass "free-threaded: no GIL, 4 threads' objects and a collected cycle; getallocatedblocks ${ft#4 }" ;;
    *) fail "free-threaded run: $ft" ;;
  esac
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
