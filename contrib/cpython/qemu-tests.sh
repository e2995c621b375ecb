#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a selection of CPython's tests on a cross build under qemu-user, with
# the interpreter's allocator set to mica (PYTHONMALLOC=mimalloc).
#
# usage: contrib/cpython/qemu-tests.sh OUT [TEST...]
#
# OUT is a cross build from contrib/cpython/cross.sh (it runs as
# OUT/python-qemu, whose children run under qemu as well). Without TEST
# arguments, the memory and thread selection below. Environment: JOBS (-jN
# for regrtest, default 2), PYTHONMALLOC (default mimalloc; "malloc" or
# "pymalloc" for a comparison run on the same build), TEST_ARGS (more
# regrtest options). Log: OUT/qemu-tests.log. Prints regrtest's totals and
# the wall time; exits with regrtest's status.
#
# Left out of the default selection: test_embed and test_cmd_line, which run
# other programs of the build (Programs/_testembed) or check the parent's
# stdio, and under qemu-user need binfmt_misc; test_capi beyond test_mem
# (its other modules do not exercise the allocator and take several minutes
# emulated).
set -u
[ $# -ge 1 ] || { echo "usage: $0 OUT [TEST...]" >&2; exit 2; }
out=$(cd "$1" && pwd) || exit 2
shift
py=$out/python-qemu
[ -x "$py" ] || { echo "qemu-tests: no $py (build with contrib/cpython/cross.sh)" >&2; exit 2; }
[ $# -gt 0 ] || set -- test_sys test_gc test_dict test_list test_set test_threading \
  test_weakref test_json test_str test_capi.test_mem test_re test_tracemalloc

PYTHONMALLOC=${PYTHONMALLOC:-mimalloc}
export PYTHONMALLOC
alloc=$("$py" -c 'import _testinternalcapi as t; print(t.pymem_getallocatorsname())' 2>&1)
echo "qemu-tests: $("$py" -c 'import platform; print(platform.machine())'), PYTHONMALLOC=$PYTHONMALLOC (allocator: $alloc), $# tests"
[ "$PYTHONMALLOC" != mimalloc ] || [ "$alloc" = mimalloc ] ||
  { echo "qemu-tests: the interpreter does not run on mimalloc: $alloc" >&2; exit 1; }

start=$(date +%s)
# shellcheck disable=SC2086 # TEST_ARGS is a list of options
# (SIGINT at its default: test_threading needs it, see sigint-default.sh)
"$(dirname "$0")/sigint-default.sh" "$py" -m test -j"${JOBS:-2}" ${TEST_ARGS:-} "$@" > "$out/qemu-tests.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
grep -E '^(Total tests|Total test files|Result):|^[0-9]+ tests? (failed|skipped|omitted)|^== Tests result' "$out/qemu-tests.log"
[ $rc -eq 0 ] || grep -E -A3 '^[0-9]+ tests? failed' "$out/qemu-tests.log" | tail -n +2
echo "qemu-tests: rc $rc in $secs s (log $out/qemu-tests.log)"
exit $rc
