# SPDX-License-Identifier: MIT
# Shared helpers of the test/programs/*.sh tests. Sourced (POSIX sh), not run.
#
# Every test is run as `sh test/programs/<name>.sh LIBMICA_SO WORKDIR`. The
# sourcing script sets `prog` (its test name) before sourcing this file.
#
# After sourcing:
#   lib       absolute path of the libmica.so under test
#   work      the work directory (emptied and created)
#   mica_run  absolute path of bin/mica-run
# and the functions below.

# shellcheck disable=SC2154 # prog is set by the sourcing script
fail() {
  echo "program-$prog: FAILED: $*" >&2
  failed_reported=1
  exit 1
}

# A command that fails under `set -e` outside fail() (in a function that runs
# many commands, say) ends the test through this trap, which names the step
# that was running (`stage`) and shows its log (`stage_log`).
stage="start-up"
stage_log=
failed_reported=0
on_exit() {
  _st=$?
  if [ "$_st" != 0 ] && [ "$failed_reported" = 0 ]; then
    [ -z "$stage_log" ] || show_log "$stage_log"
    echo "program-$prog: FAILED: $stage (exit status $_st)" >&2
  fi
}
trap on_exit EXIT

note() {
  echo "program-$prog: $*"
}

# need PROGRAM DEBIAN_PACKAGE: PROGRAM must be installed; otherwise the test
# fails and says what to install. A missing program is a failure, never a
# skipped (passing) check.
need() {
  [ -x "$1" ] || fail "$1 is missing: install the Debian package $2 (apt-get install -y $2)"
}

# on_mica LOG PROGRAM [ARGS...]: run PROGRAM through bin/mica-run --stats with
# the library under test; PROGRAM's stderr (where every process started
# prints mica's statistics at exit) is appended to LOG. Exit status is the
# program's.
on_mica() {
  _log=$1
  shift
  sh "$mica_run" --stats --lib "$lib" "$@" 2>>"$_log"
}

# without_mica PROGRAM [ARGS...]: run PROGRAM on the C library's malloc (the
# reference run), whatever the caller's environment holds.
without_mica() {
  env -u LD_PRELOAD -u MICA_SHOW_STATS -u MICA_VERBOSE "$@"
}

# stats_tables LOG: how many mica statistics tables LOG holds.
stats_tables() {
  [ -f "$1" ] || { echo 0; return; }
  grep -Ec '^mica [0-9]+\.[0-9]+\.[0-9]+ statistics:' "$1" || true
}

# stats_max_pages LOG: the largest `pages` total (last column) over all the
# statistics tables in LOG (one per process that ran on mica); 0 if none.
stats_max_pages() {
  [ -f "$1" ] || { echo 0; return; }
  awk '$1 == "pages:" && NF == 4 && $4 ~ /^[0-9]+$/ { if ($4 + 0 > m) m = $4 + 0 }
       END { print m + 0 }' "$1"
}

# check_served LOG MIN_PAGES WHAT: require that mica served WHAT: LOG holds at
# least one statistics table, and some process's `pages` total is at least
# MIN_PAGES (so the program's allocations came from mica's pages, not from
# another malloc that happened to be loaded first).
check_served() {
  _n=$(stats_tables "$1")
  [ "$_n" -gt 0 ] || {
    show_log "$1"
    fail "$3: no 'mica X.Y.Z statistics' table on stderr: the program did not run on mica"
  }
  _p=$(stats_max_pages "$1")
  [ "$_p" -ge "$2" ] || {
    show_log "$1"
    fail "$3: largest mica 'pages' total is $_p, expected at least $2: mica did not serve the program's allocations"
  }
  note "$3: served by mica ($_n statistics table(s), largest pages total $_p)"
}

# show_log LOG: print LOG to stderr (after a failed command).
show_log() {
  [ -f "$1" ] || { echo "---- $1: missing ----" >&2; return 0; }
  echo "---- $1 ----" >&2
  tail -n 60 "$1" >&2
}

if [ $# -ne 2 ]; then
  echo "usage: sh $0 LIBMICA_SO WORKDIR" >&2
  exit 2
fi
[ -f "$1" ] || fail "library $1 does not exist"
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mica_run=$(cd "$(dirname "$0")/../.." && pwd)/bin/mica-run
[ -f "$mica_run" ] || fail "$mica_run does not exist"
work=$2
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Reproducible, locale-independent output; no stray settings from the caller.
LC_ALL=C
export LC_ALL
unset MICA_SHOW_STATS MICA_VERBOSE || true
