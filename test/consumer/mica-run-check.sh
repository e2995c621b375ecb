#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks bin/mica-run with a given libmica.so.
# Usage: test/consumer/mica-run-check.sh LIBMICA_SO
# Exits non-zero on the first failed check.
# shellcheck disable=SC2016 # the single-quoted scripts expand in the child
set -u
if [ $# -ne 1 ]; then
  echo "usage: $0 LIBMICA_SO" >&2
  exit 2
fi
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -f "$lib" ] || { echo "mica-run-check: $lib does not exist" >&2; exit 2; }
run=$(cd "$(dirname "$0")/../.." && pwd)/bin/mica-run
tmp=${TMPDIR:-/tmp}/mica-run-check.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {   # check DESCRIPTION STATUS
  if [ "$2" = 0 ]; then echo "mica-run-check: $1: ok"; else echo "mica-run-check: $1: FAILED"; fails=$((fails + 1)); fi
}

"$run" --help >/dev/null 2>&1
check "--help exits 0" $?

MICA_LIB=$lib "$run" sh -c 'exit 7'
st=$?
[ $st = 7 ]
check "exit status is the program's (7, got $st)" $?

out=$(env -u LD_PRELOAD MICA_LIB="$lib" "$run" sh -c 'printf "%s" "$LD_PRELOAD"')
[ "$out" = "$lib" ]
check "LD_PRELOAD is the library (got '$out')" $?

out=$(LD_PRELOAD=libdl.so.2 MICA_LIB="$lib" "$run" sh -c 'printf "%s" "$LD_PRELOAD"')
[ "$out" = "libdl.so.2:$lib" ]
check "an existing LD_PRELOAD is kept, mica appended (got '$out')" $?

# A grandchild (program started by the program) has the library mapped.
real=$(readlink -f "$lib")
MICA_LIB=$lib "$run" sh -c 'sh -c "grep -qF \"\$0\" /proc/\$\$/maps" "$0"' "$real"
check "children inherit the preload (library in a grandchild's maps)" $?

# Something real runs under mica and gives the right answer.
out=$(MICA_LIB=$lib "$run" sh -c 'seq 1 100000 | sort -rn | head -n 1')
[ "$out" = 100000 ]
check "seq | sort | head under mica (got '$out')" $?

MICA_LIB=$lib "$run" --stats sh -c 'printf "%s" "$MICA_SHOW_STATS" >"$0"' "$tmp/env" 2>/dev/null
[ "$(cat "$tmp/env")" = 1 ]
check "--stats sets MICA_SHOW_STATS=1" $?

# (a program that returns from main: dash's `exit` skips the exit handlers)
MICA_LIB=$lib "$run" --stats true 2>"$tmp/stats"
[ -s "$tmp/stats" ]
check "--stats makes mica print statistics at exit ($(wc -l <"$tmp/stats") lines on stderr)" $?

[ $fails = 0 ] || { echo "mica-run-check: $fails check(s) FAILED"; exit 1; }
echo "mica-run-check: PASSED"
