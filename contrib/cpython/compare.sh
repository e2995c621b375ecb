#!/bin/sh
# SPDX-License-Identifier: MIT
# Run CPython's regression suite on two builds of the same source, one with
# mica (contrib/cpython/build.sh) and one with CPython's own mimalloc
# (build.sh --vendored), and compare the results test by test.
#
# usage: contrib/cpython/compare.sh [-m MALLOC] MICA_OUT VENDORED_OUT RESULTS [TEST...]
#
# MALLOC is the PYTHONMALLOC value (default mimalloc; mimalloc_debug for
# --with-pydebug builds). Without TEST names the whole suite runs (-j2, the
# default resources). The builds run one after the other, mica first; each
# writes RESULTS/<mica|vendored>.xml (regrtest's --junit-xml) and .log.
# compare.py then prints every test case whose outcome differs and exits 1
# if a test fails with mica that passes with the vendored copy. The
# machine's PYTHON* variables are dropped (PYTHONUNBUFFERED fails a
# test_cmd_line test with either allocator), and SIGINT is reset to its
# default (sigint-default.sh: a background job's ignored SIGINT hangs
# test_asyncio.test_runners). JOBS overrides -j2.
set -eu
malloc=mimalloc
if [ "${1:-}" = -m ]; then malloc=$2; shift 2; fi
[ $# -ge 3 ] || { echo "usage: $0 [-m MALLOC] MICA_OUT VENDORED_OUT RESULTS [TEST...]" >&2; exit 2; }
mica_out=$(cd "$1" && pwd); vendored_out=$(cd "$2" && pwd)
mkdir -p "$3"; results=$(cd "$3" && pwd)
shift 3
here=$(cd "$(dirname "$0")" && pwd)
unset_env=$(env | sed -n 's/^\(PYTHON[A-Z_]*\)=.*/-u \1/p' | tr '\n' ' ')

for which in mica vendored; do
  [ $which = mica ] && out=$mica_out || out=$vendored_out
  start=$(date +%s)
  echo "compare: $which ($out), PYTHONMALLOC=$malloc, ${*:-the whole suite}"
  # shellcheck disable=SC2086 # the unset list and the jobs are word lists
  (cd "$out" && env $unset_env PYTHONMALLOC="$malloc" "$here/sigint-default.sh" ./python -m test ${JOBS:--j2} --timeout 1800 \
     --junit-xml "$results/$which.xml" "$@" > "$results/$which.log" 2>&1) || true
  echo "compare: $which took $(( $(date +%s) - start )) s; $(grep -E '^Total tests:' "$results/$which.log" || echo 'no total')"
done
exec "$mica_out/python" "$here/compare.py" "$results/mica.xml" "$results/vendored.xml"
