#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a ThreadSanitizer build of CPython on mica and sort its reports.
#
# usage: contrib/cpython/tsan.sh OUT [TEST...]
#
# OUT is a build from
#   CC=clang CONFIGURE_ARGS=--with-thread-sanitizer \
#     contrib/cpython/build.sh --disable-gil [--with-pydebug] SRC OUT
# (CPython then defines MI_TSAN 1 for the allocator, as for its own). The
# script runs mica's stress (contrib/cpython/stress.py, 4 threads, 20 s)
# and then regrtest's --tsan selection (or the TEST names given), with
# CPython's own suppressions for its known races
# (Tools/tsan/suppressions_free_threading.txt) and one log per process in
# OUT/tsan/. Then it sorts every report: a report is mica's when the top
# frame of one of its accesses is in mica's sources (Objects/mimalloc/ or
# Include/internal/mimalloc/ of the build's tree); everything else is
# CPython's (where the memory was allocated does not count: all of it is). Prints the counts and mica's reports in full; exits 1 if the
# stress or the tests fail or mica has any report.
#
# TSan maps memory at fixed places and needs vm.mmap_rnd_bits <= 28 (clang
# 14); the script sets it when it may.
set -u
[ $# -ge 1 ] || { echo "usage: $0 OUT [TEST...]" >&2; exit 2; }
out=$(cd "$1" && pwd) || exit 2
shift
here=$(cd "$(dirname "$0")" && pwd)
tree=$out/cpython-src
grep -q -- '--with-thread-sanitizer' "$out/.configure-args" 2>/dev/null ||
  { echo "tsan: $out is not a --with-thread-sanitizer build" >&2; exit 2; }
sysctl -q -w vm.mmap_rnd_bits=28 2>/dev/null || true

logs=$out/tsan
rm -rf "$logs"
mkdir -p "$logs"
# exitcode=0: a report alone does not fail the run; this script sorts them
TSAN_OPTIONS="log_path=$logs/tsan suppressions=$tree/Tools/tsan/suppressions_free_threading.txt handle_segv=0 exitcode=0 ${TSAN_OPTIONS:-}"
export TSAN_OPTIONS
unset_env=$(env | sed -n 's/^\(PYTHON[A-Z_]*\)=.*/-u \1/p' | tr '\n' ' ')
rc=0

start=$(date +%s)
# shellcheck disable=SC2086 # the unset list is a word list
if (cd "$out" && env $unset_env ./python "$here/stress.py" --threads 4 --seconds 20) > "$logs/stress.out" 2>&1; then
  echo "tsan: $(tail -n 1 "$logs/stress.out") ($(( $(date +%s) - start )) s)"
else
  echo "tsan: the stress failed:"; tail -n 20 "$logs/stress.out"; rc=1
fi

start=$(date +%s)
# shellcheck disable=SC2086
if [ $# -eq 0 ]; then set -- --tsan; fi
(cd "$out" && env $unset_env "$here/sigint-default.sh" ./python -m test -j2 --timeout 1800 "$@") > "$logs/regrtest.out" 2>&1 || rc=1
echo "tsan: regrtest $* ($(( $(date +%s) - start )) s): $(grep -E '^Result:' "$logs/regrtest.out" | tail -n 1)"
grep -E '^(Total tests|Total test files):' "$logs/regrtest.out"

# Sort the reports. A stack's header is a line indented by two spaces
# ("  Write of size 8 at ... by thread T1:", "  Location is heap block ...");
# a frame is "    #N func file:line:col (module+0x...)".
cat "$logs"/tsan.* 2>/dev/null | awk -v tree="$tree" -v mine="$logs/mica-reports.txt" '
  /^WARNING: ThreadSanitizer:/ { inrep = 1; rep = ""; hit = 0; total++ }
  inrep { rep = rep $0 "\n" }
  inrep && /^  [A-Z]/ {
    # the stacks of the accesses (or of the report itself) count; where the
    # memory was allocated, a mutex made or a thread started do not
    want = !($0 ~ /^  (Location is|Mutex|Thread T[0-9]+ .*created)/)
  }
  inrep && want && /^    #0 / {
    if (index($0, tree "/Objects/mimalloc/") || index($0, tree "/Include/internal/mimalloc/")) hit = 1
  }
  /^SUMMARY: ThreadSanitizer:/ && inrep {
    inrep = 0
    if (hit) { n_mica++; printf "%s\n", rep >> mine } else n_cpython++
    kind[$3 " " $4]++
  }
  END {
    printf "tsan: %d reports: %d in mica, %d in CPython\n", total, n_mica, n_cpython
    for (k in kind) printf "tsan:   %4d %s\n", kind[k], k
  }'
if [ -s "$logs/mica-reports.txt" ]; then
  echo "tsan: mica's reports ($logs/mica-reports.txt):"
  cat "$logs/mica-reports.txt"
  rc=1
fi
echo "tsan: logs in $logs; rc $rc"
exit $rc
