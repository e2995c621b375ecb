#!/bin/sh
# SPDX-License-Identifier: MIT
# program-python: Debian's CPython on mica, every object from malloc.
#
#   1. test/programs/workload.py (dicts, lists, strings, sorting, json, a
#      thread pool, a few hundred MB allocated in all) checks itself and its
#      report must equal the report of the same script on glibc's malloc;
#   2. modules of CPython's own regression suite (Debian package
#      libpython3.X-testsuite) must pass.
# Both runs must have been served by mica (statistics table, many pages).
#
# Usage: sh test/programs/python.sh LIBMICA_SO WORKDIR
set -eu
prog=python
. "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)

py=/usr/bin/python3
need $py python3
ver=$($py -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# the regression suite's modules are not in libpython3.X-stdlib (which only has
# test/regrtest.py and test/support)
$py -c 'import test.test_list, test.test_dict' 2>/dev/null ||
  fail "CPython's regression suite is missing: install the Debian package libpython$ver-testsuite (apt-get install -y libpython$ver-testsuite)"

# Every Python object through malloc (not pymalloc's arenas); fixed str hashes.
PYTHONMALLOC=malloc
PYTHONHASHSEED=0
PYTHONDONTWRITEBYTECODE=1
export PYTHONMALLOC PYTHONHASHSEED PYTHONDONTWRITEBYTECODE

# --- 1. the workload, against the same run on glibc ---------------------------
stage="workload.py"
t0=$(date +%s)
without_mica $py "$here/workload.py" >"$work/ref.out" 2>"$work/ref.err" ||
  { show_log "$work/ref.err"; fail "workload.py failed without mica (the test itself is broken)"; }
on_mica "$work/workload.err" $py "$here/workload.py" >"$work/workload.out" ||
  { st=$?; show_log "$work/workload.err"; fail "workload.py failed on mica (exit status $st)"; }
tail -n 1 "$work/workload.out" | grep -qx 'workload ok' ||
  { cat "$work/workload.out" >&2; fail "workload.py did not finish"; }
cmp -s "$work/ref.out" "$work/workload.out" || {
  diff "$work/ref.out" "$work/workload.out" >&2 || true
  fail "workload.py's report on mica differs from the one on glibc's malloc"
}
# pymalloc would have kept the pages count tiny; with PYTHONMALLOC=malloc the
# workload goes through thousands of mica pages.
check_served "$work/workload.err" 1000 "workload.py"
note "workload.py: report equals glibc's ($(wc -l <"$work/workload.out") lines) in $(($(date +%s) - t0)) s"

# --- 2. CPython's regression suite --------------------------------------------
stage="regrtest"
# Sequential, in one process, so that this process's statistics cover every
# test. Some tests (test_json's json.tool tests) start Python subprocesses and
# require their stderr to be empty: the main process keeps mica's statistics
# (mica reads MICA_SHOW_STATS at start-up) and removes the variable from the
# environment that subprocesses inherit; they still run on mica (LD_PRELOAD).
tests="test_list test_dict test_json test_string test_collections test_set test_sort
       test_deque test_heapq test_unicode test_re test_bytes test_long test_itertools
       test_functools test_array"
t0=$(date +%s)
# shellcheck disable=SC2086 # $tests is a list
(cd "$work" && on_mica "$work/regrtest.err" $py -c '
import os, sys
os.environ.pop("MICA_SHOW_STATS", None)
sys.argv[0] = "regrtest"
from test.libregrtest.main import main
main()
' -W --timeout 240 $tests >"$work/regrtest.out") || {
  tail -n 80 "$work/regrtest.out" >&2
  show_log "$work/regrtest.err"
  fail "CPython's regression tests failed on mica"
}
grep -q '^Tests result: SUCCESS' "$work/regrtest.out" || {
  tail -n 40 "$work/regrtest.out" >&2
  fail "no 'Tests result: SUCCESS' in the regression tests' output"
}
ntests=$(echo "$tests" | wc -w)
grep -Eq "^All $ntests tests OK" "$work/regrtest.out" || {
  tail -n 40 "$work/regrtest.out" >&2
  fail "not all $ntests regression test modules ran and passed"
}
check_served "$work/regrtest.err" 1000 "regrtest"
note "regrtest: $ntests modules passed on mica in $(($(date +%s) - t0)) s"
note "PASSED"
