#!/bin/sh
# SPDX-License-Identifier: MIT
# Real programs and test-preload with libmica.so in LD_PRELOAD, alone or
# together with another allocator (test/override/preload.cmake).
#
# usage: preload-mixed.sh LIBMICA_SO TEST_PRELOAD ORDER [OTHER_SO PACKAGE]
#   ORDER  mica:        LD_PRELOAD=LIBMICA_SO
#          other-mica:  LD_PRELOAD="OTHER_SO LIBMICA_SO" (the other serves malloc)
#          mica-other:  LD_PRELOAD="LIBMICA_SO OTHER_SO" (mica serves malloc)
# Checks, each under that LD_PRELOAD with MICA_SHOW_ERRORS=1: `ls -l` of
# two directories prints what it prints without the preload (ls calls
# reallocarray on blocks from malloc: it crashed when those names resolved to
# two allocators); `sort -R | sort -n` of 200000 numbers gives them back in
# order; test-preload passes (every block from the allocator that serves
# malloc); and mica reports no error (an invalid pointer). Exits 77 (skip) when OTHER_SO is not
# installed, naming the Debian package.
set -u
if [ $# -ne 3 ] && [ $# -ne 5 ]; then
  echo "usage: $0 LIBMICA_SO TEST_PRELOAD mica|other-mica|mica-other [OTHER_SO PACKAGE]" >&2
  exit 2
fi
mica=$1 prog=$2 order=$3 other=${4:-} package=${5:-}
[ -f "$mica" ] || { echo "preload-mixed: $mica does not exist" >&2; exit 2; }
case $order in
  mica) preload=$mica expect=mica ;;
  other-mica) preload="$other $mica" expect=other ;;
  mica-other) preload="$mica $other" expect=mica ;;
  *) echo "preload-mixed: unknown order $order" >&2; exit 2 ;;
esac
if [ "$order" != mica ] && [ ! -f "$other" ]; then
  echo "preload-mixed: SKIPPED: $other is not installed (Debian package $package)"
  exit 77
fi
tmp=${TMPDIR:-/tmp}/preload-mixed.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
LC_ALL=C
export LC_ALL
fails=0
check() {   # check DESCRIPTION STATUS
  if [ "$2" = 0 ]; then echo "preload-mixed: $1: ok"; else echo "preload-mixed: $1: FAILED"; fails=$((fails + 1)); fi
}
# run CMD...: CMD with the preload and mica's error messages on; its stderr
# is appended to $tmp/err
run() { LD_PRELOAD=$preload MICA_SHOW_ERRORS=1 "$@" 2>>"$tmp/err"; }

echo "preload-mixed: LD_PRELOAD=\"$preload\""
: >"$tmp/err"
ls -l /usr /usr/bin >"$tmp/ls.plain" 2>&1
run ls -l /usr /usr/bin >"$tmp/ls.out"
st=$?
[ $st = 0 ] && cmp -s "$tmp/ls.plain" "$tmp/ls.out"
check "ls -l /usr /usr/bin (status $st, $(wc -l <"$tmp/ls.out") lines, same as without the preload)" $?

seq 1 200000 >"$tmp/numbers"
run sort -R "$tmp/numbers" >"$tmp/shuffled" && run sort -n "$tmp/shuffled" >"$tmp/sorted"
st=$?
[ $st = 0 ] && cmp -s "$tmp/numbers" "$tmp/sorted"
check "sort -R | sort -n of 200000 numbers (status $st)" $?

run "$prog" "$mica" "$expect"
check "test-preload $expect" $?

# (test-preload's deliberately overflowing requests are reported too)
! grep "^mica: " "$tmp/err" | grep -qv "allocation request is too large"
check "mica reported nothing else on stderr" $?

if [ $fails != 0 ]; then
  echo "preload-mixed: stderr of the runs:"
  sed 's/^/  /' "$tmp/err" | head -60
  echo "preload-mixed: $fails check(s) FAILED"
  exit 1
fi
echo "preload-mixed: PASSED"
