#!/bin/sh
# SPDX-License-Identifier: MIT
# program-tools: command-line tools of Debian on mica.
#
#   sort     generated records, sorted four ways (including a multi-threaded
#            sort through temporary files); output equal to sort on glibc.
#   git      a repository with a few hundred generated files and several
#            commits, log, diff, gc, fsck; fixed author and dates make every
#            hash reproducible, so the results must equal git on glibc, and
#            the counts must be the known ones.
#   sqlite3  a 100 000-row table, an index, aggregates, a join, a sort;
#            results must equal the known answers and sqlite3 on glibc.
# Each tool must have been served by mica (statistics table, pages).
#
# Usage: sh test/programs/tools.sh LIBMICA_SO WORKDIR
set -eu
prog=tools
. "$(dirname "$0")/common.sh"

need /usr/bin/sort coreutils
need /usr/bin/git git
need /usr/bin/sqlite3 sqlite3
need /usr/bin/awk mawk

# ============================================================================
# sort
# ============================================================================
t0=$(date +%s)
mkdir -p "$work/sort"
cd "$work/sort"
# 300 000 records "word,number,float,text" from a fixed LCG; many duplicates.
awk 'BEGIN {
  s = 42
  for (i = 0; i < 300000; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    w = sprintf("%c%c%c", 97 + s % 26, 97 + int(s / 26) % 26, 97 + int(s / 676) % 26)
    printf "%s,%d,%d.%03d,line %d of the generated input\n", w, s % 100000, int(s / 1000) % 1000, s % 1000, i
  }
}' >in.txt

# sort_all DIR RUNNER...: the four sorts, outputs in DIR
sort_all() {
  _d=$1
  shift
  mkdir -p "$_d"
  "$@" /usr/bin/sort in.txt -o "$_d/plain"
  "$@" /usr/bin/sort -t, -k2,2n -k1,1 -s in.txt -o "$_d/numeric"
  "$@" /usr/bin/sort -u -t, -k1,1 in.txt -o "$_d/unique"
  # small buffer: temporary files and a multi-threaded merge
  "$@" /usr/bin/sort --parallel=2 -S 2M -T "$work/sort" -t, -k3,3g -k4 in.txt -o "$_d/merge"
}
# (set -e ends the test at the first failing command, naming the stage)
stage="sort without mica (the test itself is broken)" stage_log=
sort_all ref without_mica
stage="sort on mica" stage_log=$work/sort.err
sort_all mica on_mica "$work/sort.err"
stage="sort: checking the results" stage_log=
for f in plain numeric unique merge; do
  cmp -s "ref/$f" "mica/$f" || fail "sort ($f) on mica differs from sort on glibc"
done
[ "$(wc -l <mica/plain)" -eq 300000 ] || fail "sort lost lines"
[ "$(wc -l <mica/unique)" -eq "$(cut -d, -f1 in.txt | without_mica /usr/bin/sort -u | wc -l)" ] ||
  fail "sort -u gave the wrong number of keys"
[ "$(stats_tables "$work/sort.err")" -ge 4 ] || { show_log "$work/sort.err"; fail "expected a statistics table from each of the 4 sorts"; }
check_served "$work/sort.err" 20 "sort"
note "sort: 4 sorts of 300000 lines equal to glibc's in $(($(date +%s) - t0)) s"

# ============================================================================
# git
# ============================================================================
t0=$(date +%s)
# Reproducible: no user or system configuration, fixed identity and dates,
# gc in the foreground.
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=/dev/null
GIT_AUTHOR_NAME=mica
GIT_AUTHOR_EMAIL=mica@example.org
GIT_COMMITTER_NAME=mica
GIT_COMMITTER_EMAIL=mica@example.org
GIT_TERMINAL_PROMPT=0
HOME=$work
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
  GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_TERMINAL_PROMPT HOME

nfiles=400
ncommits=6

# git_work DIR RUNNER...: build the repository DIR with git run by RUNNER and
# write the results to DIR.out
git_work() {
  _repo=$1
  shift
  rm -rf "$_repo"
  mkdir -p "$_repo"
  (
    cd "$_repo"
    "$@" /usr/bin/git -c init.defaultBranch=main init -q .
    i=0
    while [ $i -lt 20 ]; do mkdir -p "dir$(printf %02d $i)"; i=$((i + 1)); done
    c=0
    while [ $c -lt $ncommits ]; do
      # commit c rewrites the files i with i % ncommits >= c, and adds a file
      awk -v n=$nfiles -v c=$c -v k=$ncommits 'BEGIN {
        for (i = 0; i < n; i++) {
          if (c > 0 && i % k < c) continue
          f = sprintf("dir%02d/file%04d.txt", i % 20, i)
          for (j = 0; j < 20 + (i * 7) % 60; j++)
            printf "file %d line %d version %d %s\n", i, j, c, substr("the quick brown fox jumps over the lazy dog", 1 + (i + j) % 20) > f
          close(f)
        }
        printf "commit %d\n", c > sprintf("new%02d.txt", c)
      }'
      GIT_AUTHOR_DATE="2024-01-0$((c + 1))T12:00:00Z"
      GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
      export GIT_AUTHOR_DATE GIT_COMMITTER_DATE
      "$@" /usr/bin/git add -A
      "$@" /usr/bin/git commit -q -m "commit $c: generated files"
      c=$((c + 1))
    done
    "$@" /usr/bin/git tag -a -m "version one" v1 HEAD~2
    {
      "$@" /usr/bin/git rev-parse HEAD "HEAD^{tree}" v1
      "$@" /usr/bin/git log --format='%H %T %s' --stat
      "$@" /usr/bin/git diff --stat HEAD~5 HEAD
      "$@" /usr/bin/git diff HEAD~3 HEAD -- dir07
      "$@" /usr/bin/git ls-tree -r HEAD
      "$@" /usr/bin/git describe --tags HEAD
      "$@" /usr/bin/git rev-list --count HEAD
      "$@" /usr/bin/git ls-files | wc -l
    } >"$_repo.out"
    "$@" /usr/bin/git log --format='%H %T %s' --stat >"$_repo.log"
    "$@" /usr/bin/git -c gc.autoDetach=false gc -q --aggressive
    "$@" /usr/bin/git fsck --full --strict --no-progress
    "$@" /usr/bin/git count-objects -v | grep -E '^(count|packs):' >"$_repo.gc"
    # the packed repository still gives the same answers
    "$@" /usr/bin/git log --format='%H %T %s' --stat >"$_repo.log-after-gc"
  )
}
stage="git without mica (the test itself is broken)" stage_log=$work/git-ref.err
git_work "$work/git-ref" without_mica >/dev/null 2>"$work/git-ref.err"
stage="git on mica" stage_log=$work/git.err
git_work "$work/git-mica" on_mica "$work/git.err"
stage="git: checking the results" stage_log=
cmp -s "$work/git-ref.out" "$work/git-mica.out" || {
  diff "$work/git-ref.out" "$work/git-mica.out" | head -n 20 >&2
  fail "git's results on mica differ from git's on glibc"
}
cmp -s "$work/git-ref.gc" "$work/git-mica.gc" || fail "git gc on mica left a different object store than on glibc"
cmp -s "$work/git-ref.log-after-gc" "$work/git-mica.log-after-gc" || fail "git log after gc on mica differs from glibc's"
cmp -s "$work/git-mica.log" "$work/git-mica.log-after-gc" || fail "git log on mica differs before and after gc"
# known answers
[ "$(tail -n 2 "$work/git-mica.out" | head -n 1)" = "$ncommits" ] || fail "git rev-list --count is not $ncommits"
[ "$(tail -n 1 "$work/git-mica.out" | tr -d ' ')" = "$((nfiles + ncommits))" ] || fail "git ls-files does not list $((nfiles + ncommits)) files"
grep -qx 'v1-2-g[0-9a-f]*' "$work/git-mica.out" || fail "git describe did not find tag v1 two commits back"
printf 'count: 0\npacks: 1\n' | cmp -s - "$work/git-mica.gc" || { cat "$work/git-mica.gc" >&2; fail "after git gc, expected no loose objects and one pack"; }
n=$(stats_tables "$work/git.err")
[ "$n" -ge 20 ] || { show_log "$work/git.err"; fail "expected a statistics table from each git command (and its subprocesses), got $n"; }
check_served "$work/git.err" 100 "git"
note "git: $nfiles files, $ncommits commits, gc and fsck, results equal to glibc's in $(($(date +%s) - t0)) s"

# ============================================================================
# sqlite3
# ============================================================================
t0=$(date +%s)
mkdir -p "$work/sqlite"
cd "$work/sqlite"
cat >work.sql <<'SQL'
PRAGMA cache_size = -32000;
PRAGMA journal_mode = WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, g INTEGER NOT NULL, s TEXT NOT NULL, v REAL NOT NULL);
CREATE TABLE groups(g INTEGER PRIMARY KEY, label TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, x % 97, printf('row-%06d-%s', x, substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 26, 1 + x % 13)), x * 0.5 FROM c;
WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 96)
INSERT INTO groups SELECT x, 'group ' || x FROM c;
COMMIT;
CREATE INDEX t_g ON t(g, v);
CREATE INDEX t_s ON t(s);
SELECT 'count', count(*), sum(id), sum(g), count(DISTINCT g), min(s), max(s), sum(v) FROM t;
SELECT 'len', sum(length(s)), sum(length(s) * (g % 3)) FROM t;
SELECT 'group', g, count(*), sum(id), max(v) FROM t WHERE g IN (0, 1, 96) GROUP BY g ORDER BY g;
SELECT 'join', count(*), sum(length(label)) FROM t JOIN groups USING (g) WHERE id % 10 = 0;
SELECT 'sorted', group_concat(id, ' ') FROM (SELECT id FROM t ORDER BY s DESC, id LIMIT 5);
SELECT 'like', count(*) FROM t WHERE s LIKE 'row-0123%';
UPDATE t SET s = upper(s), v = v + 1 WHERE g = 5;
DELETE FROM t WHERE id % 7 = 0;
SELECT 'after', count(*), sum(id), sum(v) FROM t;
SELECT 'window', sum(r) FROM (SELECT row_number() OVER (PARTITION BY g ORDER BY id DESC) AS r FROM t);
PRAGMA integrity_check;
SQL
# Known answers, computed independently of sqlite3 (awk on the same data)
# where it is short: the table's generated contents.
expected_count=$(awk 'BEGIN {
  n = 100000; sg = 0; sv = 0; mn = ""; mx = ""
  for (x = 1; x <= n; x++) {
    sg += x % 97; sv += x * 0.5
    s = sprintf("row-%06d-%s", x, substr("abcdefghijklmnopqrstuvwxyz", 1 + x % 26, 1 + x % 13))
    if (mn == "" || s < mn) mn = s
    if (s > mx) mx = s
  }
  printf "count|%d|%.0f|%d|97|%s|%s|%.1f\n", n, n * (n + 1) / 2, sg, mn, mx, sv }')
sqlite_run() {
  rm -f db db-wal db-shm
  "$@" /usr/bin/sqlite3 -bail db <work.sql
}
stage="sqlite3 without mica (the test itself is broken)" stage_log=$work/sqlite-ref.err
sqlite_run without_mica >ref.out 2>"$work/sqlite-ref.err"
stage="sqlite3 on mica" stage_log=$work/sqlite.err
sqlite_run on_mica "$work/sqlite.err" >mica.out
stage="sqlite3: checking the results" stage_log=
cmp -s ref.out mica.out || { diff ref.out mica.out >&2; fail "sqlite3's results on mica differ from sqlite3's on glibc"; }
got_count=$(grep '^count|' mica.out)
[ "$got_count" = "$expected_count" ] || fail "sqlite3: expected '$expected_count', got '$got_count'"
# ids 1..100000 minus the multiples of 7 (14285 of them, summing to 7 * 14285 * 14286 / 2)
grep -q "^after|85715|$((5000050000 - 7 * 14285 * 14286 / 2))|" mica.out || { grep '^after' mica.out >&2; fail "sqlite3: wrong count or sum after the DELETE"; }
grep -qx 'join|10000|[0-9]*' mica.out || fail "sqlite3: the join did not find 10000 rows"
grep -qx 'ok' mica.out || fail "sqlite3: PRAGMA integrity_check did not say ok"
grep -qx 'window|[0-9]*' mica.out || fail "sqlite3: the window query gave no result"
check_served "$work/sqlite.err" 50 "sqlite3"
note "sqlite3: 100000 rows, results equal to the known answers and to glibc's in $(($(date +%s) - t0)) s"
note "PASSED"
