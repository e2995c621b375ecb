#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh: benchmark mica against glibc, jemalloc, tcmalloc-minimal,
# mimalloc 2 (Debian 12's package) and mimalloc 3 (built from Debian 13's
# source package). See doc/benchmarks.md.
#
# usage: bench/run.sh [options]
#   -q, --quick        quick mode: smaller workloads, 3 rounds, fewer pairs
#   -r, --rounds N     rounds per workload and allocator (default 5; 3 with -q)
#   -o, --output FILE  also write the markdown report to FILE
#   -a, --allocators L comma-separated subset of:
#                      glibc,jemalloc,tcmalloc,mimalloc,mimalloc3,mica
#   -w, --workloads L  comma-separated subset of: prodcons,churn,server,objects,
#                      objects24,huge,threadchurn,mstress,tiny
#       --chart FILE   also draw the time and RSS ratios to mimalloc as a PNG
#                      (bench/chart.py; needs python3-matplotlib)
#       --no-callgrind skip the instruction counts
#       --no-timing    skip the timed workloads (instruction counts only)
#       --no-floor     skip the floor (each workload's live bytes at its peak,
#                      bench/live-peak.c: the least peak RSS any allocator
#                      could have)
#   -h, --help
# Environment:
#   MICA_LIB           use this libmica.so instead of building one
#   MICA_BASE_LIB      also measure this libmica.so, as allocator "mica-base"
#                      (a build of an earlier commit: before/after, side by side)
#   MICA_VARIANTS      also measure mica with other settings: space-separated
#                      NAME:VAR=VALUE[,VAR=VALUE...], each as allocator
#                      "mica-NAME" (e.g. "purge0:MIMALLOC_PURGE_DELAY=0")
#   MIMALLOC3_LIB      use this mimalloc 3 library instead of building one
#   CC                 compiler for the bench programs (default gcc)
#   BENCH_DIR          build directory (default <repo>/build-bench)
#   BENCH_TIMEOUT      seconds before a single run is killed (default 300)
#
# The timed workloads run through LD_PRELOAD, interleaved: in each round every
# workload runs once under every allocator (the allocator order rotates from
# round to round), so slow drifts of the machine hit all allocators alike.
# Reported: median wall time, CPU time (user + system), peak RSS and minor
# page faults (from /usr/bin/time), the ratios of time, CPU and RSS to
# mimalloc (and to mimalloc3), their geometric means over the workloads, and
# the machine's load average at the start and end of every round. Instruction counts come from
# callgrind (--toggle-collect=measured_loop on bench-pair). Nothing here fails
# on slowness; the script fails only if it cannot build or measure at all.
# A run that crashes or times out is reported in the table, not hidden.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${BENCH_DIR:-$repo/build-bench}
timeout_s=${BENCH_TIMEOUT:-300}
cc=${CC:-gcc}

quick=0
rounds=
outfile=
allocs_sel=glibc,jemalloc,tcmalloc,mimalloc,mimalloc3,mica${MICA_BASE_LIB:+,mica-base}
works_sel=prodcons,churn,server,objects,objects24,huge,threadchurn,mstress,tiny
chart=
do_callgrind=1
do_timing=1
do_floor=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    -q|--quick) quick=1; shift ;;
    -r|--rounds) [ $# -ge 2 ] || die "$1 needs a number"; rounds=$2; shift 2 ;;
    -o|--output) [ $# -ge 2 ] || die "$1 needs a file"; outfile=$2; shift 2 ;;
    -a|--allocators) [ $# -ge 2 ] || die "$1 needs a list"; allocs_sel=$2; shift 2 ;;
    -w|--workloads) [ $# -ge 2 ] || die "$1 needs a list"; works_sel=$2; shift 2 ;;
    --chart) [ $# -ge 2 ] || die "$1 needs a file"; chart=$2; shift 2 ;;
    --no-callgrind) do_callgrind=0; shift ;;
    --no-timing) do_timing=0; shift ;;
    --no-floor) do_floor=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if [ -z "$rounds" ]; then
  if [ $quick = 1 ]; then rounds=3; else rounds=5; fi
fi
case $rounds in ''|*[!0-9]*|0) die "--rounds needs a positive number" ;; esac

# ---------------------------------------------------------------------------
# Workloads: name, program, arguments (normal / quick)
# ---------------------------------------------------------------------------
# (tiny keeps its size in quick mode: its peak RSS is the measure, and it
# takes milliseconds anyway.)
if [ $quick = 1 ]; then
  prodcons_args="3000000 2 2"; churn_args="5000000 10000"; server_args="2000000 4 2000"; pairs=200000
  objects_args="1000000 1 128"; objects24_args="1000000 17 24"
  huge_args="150"; threadchurn_args="3000 10 100"; mstress_args="5000000 4 20000 500"; tiny_args="3072"
else
  prodcons_args="6000000 2 2"; churn_args="20000000 10000"; server_args="8000000 4 2000"; pairs=1000000
  objects_args="4000000 1 128"; objects24_args="4000000 17 24"
  huge_args="500"; threadchurn_args="10000 10 100"; mstress_args="20000000 4 20000 500"; tiny_args="3072"
fi
all_works=(prodcons churn server objects objects24 huge threadchurn mstress tiny)
declare -A work_prog=([prodcons]=bench-prodcons [churn]=bench-churn [server]=bench-server
  [objects]=bench-objects [objects24]=bench-objects [huge]=bench-huge
  [threadchurn]=bench-threadchurn [mstress]=bench-mstress [tiny]=bench-tiny)
declare -A work_args=([prodcons]=$prodcons_args [churn]=$churn_args [server]=$server_args
  [objects]=$objects_args [objects24]=$objects24_args [huge]=$huge_args
  [threadchurn]=$threadchurn_args [mstress]=$mstress_args [tiny]=$tiny_args)
declare -A work_desc=(
  [prodcons]="2 producers -> 2 consumers, cross-thread frees, 16 B-64 KiB"
  [churn]="1 thread, 10k live slots, free+malloc / realloc, 1 B-1 MiB"
  [server]="4 threads x rounds, working sets handed over, temporaries"
  [objects]="1 thread, millions of live objects of 1-128 B (footprint of small objects)"
  [objects24]="as objects, all of 17-24 B (the worst case for 16-byte alignment)"
  [huge]="1 thread, 20 live blocks of 5-25 MiB replaced, each zeroed whole (make_unique)"
  [threadchurn]="short-lived threads (10 at a time), each leaves a 128 B calloc'ed object to a later one"
  [mstress]="4 threads at once replaced every ~20k iterations, 8 B-256 KiB, some cross-thread frees"
  [tiny]="a small program: 3 MiB of mixed small objects, then exit (peak RSS is the measure)")
# Workloads whose run takes milliseconds: their time is not compared (no time
# ratio, left out of the time geometric means).
declare -A rss_only=([tiny]=1)

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------
apt_install() {   # apt_install PACKAGE: install a Debian package if we may
  local pkg=$1 sudo=
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
    sudo=sudo
  fi
  note "installing the Debian package $pkg"
  $sudo apt-get install -y "$pkg" >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y "$pkg" >&2; }
}
if [ $do_timing = 1 ] && [ ! -x /usr/bin/time ]; then
  apt_install time || die "/usr/bin/time is missing (Debian: apt-get install time)"
fi
if [ $do_callgrind = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  apt_install valgrind || { note "valgrind is missing: no instruction counts (Debian: apt-get install valgrind)"; do_callgrind=0; }
fi
command -v "$cc" >/dev/null 2>&1 || die "no C compiler '$cc'"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is missing"

# ---------------------------------------------------------------------------
# Build the bench programs and mica
# ---------------------------------------------------------------------------
mkdir -p "$out/bin" "$out/logs"
for p in bench-prodcons bench-churn bench-server bench-objects bench-pair \
         bench-huge bench-threadchurn bench-mstress bench-tiny; do
  "$cc" -O2 -g -Wall -Wextra -o "$out/bin/$p" "$here/$p.c" -pthread \
    || die "cannot compile $here/$p.c"
done

[ $do_timing = 1 ] || do_floor=0
if [ $do_floor = 1 ] && ! "$cc" -O2 -Wall -Wextra -shared -fPIC -o "$out/live-peak.so" "$here/live-peak.c" -ldl; then
  note "no floor: cannot compile $here/live-peak.c"; do_floor=0
fi

mica_note=
mica_lib=
if [[ ",$allocs_sel," == *,mica,* ]]; then
  if [ -n "${MICA_LIB:-}" ]; then
    [ -f "$MICA_LIB" ] || die "MICA_LIB=$MICA_LIB does not exist"
    mica_lib=$(cd "$(dirname "$MICA_LIB")" && pwd)/$(basename "$MICA_LIB")
  elif ! command -v cmake >/dev/null 2>&1; then
    mica_note="mica skipped: cmake is not installed"
  else
    note "building mica (Release) in $out (log: $out/logs/mica-build.log)"
    if cmake -S "$repo" -B "$out" -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF \
         >"$out/logs/mica-build.log" 2>&1 \
       && cmake --build "$out" --target mica -j 2 >>"$out/logs/mica-build.log" 2>&1 \
       && [ -f "$out/libmica.so" ]; then
      mica_lib=$out/libmica.so
    else
      mica_note="mica skipped: libmica.so could not be built (see ${out#"$repo"/}/logs/mica-build.log)"
    fi
  fi
  [ -z "$mica_note" ] || note "$mica_note"
fi

# ---------------------------------------------------------------------------
# mimalloc3: mimalloc 3 from Debian 13's source package, built here
# ---------------------------------------------------------------------------
# Debian 12 packages only mimalloc 2.0.9. A private apt configuration (its own
# source list, package lists and cache, all under $m3) fetches Debian 13's
# source package from the system's Debian mirror and leaves the system's apt
# setup alone. The library is built once (Release, tests off) and kept as
# $m3/libmimalloc.so.3, with what it is in $m3/origin, for later runs; remove
# $m3 to fetch and build it again. If the source package cannot be had (some
# mirrors lack it) or does not build, Debian 13's binary package libmimalloc3
# (Debian's own build of the same version, as the mimalloc column is Debian
# 12's build) is used instead, and the report says so.
m3=$out/mimalloc3
m3_suite=trixie            # Debian 13
m3_log=$out/logs/mimalloc3.log
m3_lib=
m3_origin=                 # what it is, for the report
m3_note=
m3_why=

debian_mirror() {   # the system's Debian mirror (not the security one)
  local u
  u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' || true)
  [ -n "$u" ] || u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' || true)
  echo "${u:-http://deb.debian.org/debian}"
}
m3_apt() {   # m3_apt deb|deb-src ARGS...: apt-get with the private configuration
  local d=$m3/apt-$1; shift
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/parts" \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status=/dev/null "$@"
}
m3_apt_update() {   # m3_apt_update deb|deb-src: write the private source list, update it
  local d=$m3/apt-$1
  mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial" || return 1
  {
    echo "Types: $1"
    echo "URIs: $(debian_mirror)"
    echo "Suites: $m3_suite"
    echo "Components: main"
    [ "$1" != deb ] || echo "Architectures: $(dpkg --print-architecture)"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  } >"$d/parts/debian13.sources"
  m3_apt "$1" update
}
m3_from_source() {   # download, check, unpack and build the source package
  local dl=$m3/source dsc orig want got lib
  m3_why="could not be downloaded"
  m3_apt_update deb-src || return 1
  rm -rf "$dl" "$m3/build"
  mkdir -p "$dl/tree" || return 1
  (cd "$dl" && m3_apt deb-src source --download-only mimalloc) || return 1
  dsc=$(find "$dl" -maxdepth 1 -name 'mimalloc_*.dsc' | head -n 1)
  orig=$(find "$dl" -maxdepth 1 -name 'mimalloc_*.orig.tar.*' | head -n 1)
  [ -n "$dsc" ] && [ -n "$orig" ] || return 1
  # apt checked the files against the signed index; check the tarball against the .dsc too
  want=$(awk -v f="${orig##*/}" '/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == f { print $1 }' "$dsc")
  got=$(sha256sum "$orig" | awk '{ print $1 }')
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "sha256 of ${orig##*/} is $got; the .dsc says ${want:-nothing}"
    m3_why="failed its checksum"
    return 1
  fi
  m3_why="did not build"
  tar -xf "$orig" -C "$dl/tree" --strip-components=1 || return 1
  cmake -S "$dl/tree" -B "$m3/build" -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF \
    -DMI_BUILD_STATIC=OFF -DMI_BUILD_OBJECT=OFF || return 1
  cmake --build "$m3/build" --target mimalloc -j 2 || return 1
  lib=$(find "$m3/build" -maxdepth 1 -type f -name 'libmimalloc.so.*' | head -n 1)
  [ -n "$lib" ] && cp "$lib" "$m3/libmimalloc.so.3" || return 1
  echo "mimalloc $(awk '$1 == "Version:" { print $2; exit }' "$dsc"), built here (Release) from Debian 13's source package" >"$m3/origin"
}
m3_from_binary() {   # Debian 13's own build of the library
  local dl=$m3/binary deb lib
  m3_apt_update deb || return 1
  rm -rf "$dl"
  mkdir -p "$dl" || return 1
  (cd "$dl" && m3_apt deb download libmimalloc3) || return 1
  deb=$(find "$dl" -maxdepth 1 -name 'libmimalloc3_*.deb' | head -n 1)
  [ -n "$deb" ] && dpkg-deb -x "$deb" "$dl/root" || return 1
  lib=$(find "$dl/root" -type f -name 'libmimalloc.so.3*' | head -n 1)
  [ -n "$lib" ] && cp "$lib" "$m3/libmimalloc.so.3" || return 1
  echo "libmimalloc3 $(dpkg-deb -f "$deb" Version), Debian 13's binary package (the source package $m3_why)" >"$m3/origin"
}
if [[ ",$allocs_sel," == *,mimalloc3,* ]]; then
  if [ -n "${MIMALLOC3_LIB:-}" ]; then
    [ -f "$MIMALLOC3_LIB" ] || die "MIMALLOC3_LIB=$MIMALLOC3_LIB does not exist"
    m3_lib=$(cd "$(dirname "$MIMALLOC3_LIB")" && pwd)/$(basename "$MIMALLOC3_LIB")
  elif [ -f "$m3/libmimalloc.so.3" ] && [ -s "$m3/origin" ]; then
    m3_lib=$m3/libmimalloc.so.3     # from an earlier run
  elif ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    m3_note="mimalloc3 skipped: fetching it needs apt-get and dpkg-deb (Debian)"
  else
    rm -f "$m3/origin"
    mkdir -p "$m3"
    note "fetching mimalloc 3 (Debian 13's source package) and building it in $m3 (log: $m3_log)"
    if command -v cmake >/dev/null 2>&1 && m3_from_source >"$m3_log" 2>&1; then
      m3_lib=$m3/libmimalloc.so.3
    else
      command -v cmake >/dev/null 2>&1 || m3_why="was not built (cmake is not installed)"
      note "mimalloc3: the source package $m3_why; using Debian 13's binary package libmimalloc3 instead"
      if m3_from_binary >>"$m3_log" 2>&1; then
        m3_lib=$m3/libmimalloc.so.3
      else
        rm -f "$m3/origin"
        m3_note="mimalloc3 skipped: Debian 13's mimalloc could not be downloaded or built (see ${m3_log#"$repo"/})"
      fi
    fi
  fi
  [ -z "$m3_note" ] || note "$m3_note"
  if [ -n "${MIMALLOC3_LIB:-}" ]; then
    m3_origin="mimalloc 3, the library given by MIMALLOC3_LIB"
  elif [ -n "$m3_lib" ]; then
    m3_origin=$(cat "$m3/origin")
  fi
fi

# ---------------------------------------------------------------------------
# Allocators
# ---------------------------------------------------------------------------
find_lib() {   # find_lib SONAME...: path of the first installed one
  local so p
  for so in "$@"; do
    p=$(/sbin/ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so && /x86-64|x86_64|64bit/ { print $NF; exit }')
    [ -n "$p" ] || p=$(/sbin/ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so { print $NF; exit }')
    if [ -n "$p" ] && [ -f "$p" ]; then echo "$p"; return 0; fi
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
      if [ -f "$d/$so" ]; then echo "$d/$so"; return 0; fi
    done
  done
  return 1
}
declare -A alloc_lib alloc_pkg
alloc_pkg=([glibc]=libc6 [jemalloc]=libjemalloc2 [tcmalloc]=libtcmalloc-minimal4 [mimalloc]=libmimalloc2.0
  [mimalloc3]="" [mica]="" [mica-base]="")
allocs=()
skipped=()
IFS=, read -r -a wanted <<<"$allocs_sel"
for a in "${wanted[@]}"; do
  case $a in
    glibc) alloc_lib[$a]= ;;
    jemalloc) alloc_lib[$a]=$(find_lib libjemalloc.so.2) || { skipped+=("jemalloc (apt-get install libjemalloc2)"); continue; } ;;
    tcmalloc) alloc_lib[$a]=$(find_lib libtcmalloc_minimal.so.4) || { skipped+=("tcmalloc (apt-get install libtcmalloc-minimal4)"); continue; } ;;
    mimalloc) alloc_lib[$a]=$(find_lib libmimalloc.so.2) || { skipped+=("mimalloc (apt-get install libmimalloc2.0)"); continue; } ;;
    mimalloc3) if [ -z "$m3_lib" ]; then skipped+=("${m3_note:-mimalloc3}"); continue; fi
          alloc_lib[$a]=$m3_lib ;;
    mica) if [ -z "$mica_lib" ]; then skipped+=("${mica_note:-mica}"); continue; fi
          alloc_lib[$a]=$mica_lib ;;
    mica-base) [ -f "${MICA_BASE_LIB:-}" ] || die "mica-base needs MICA_BASE_LIB=<an earlier libmica.so>"
          alloc_lib[$a]=$(cd "$(dirname "$MICA_BASE_LIB")" && pwd)/$(basename "$MICA_BASE_LIB") ;;
    *) die "unknown allocator '$a' (glibc, jemalloc, tcmalloc, mimalloc, mimalloc3, mica, mica-base)" ;;
  esac
  allocs+=("$a")
done
# mica with other settings (MICA_VARIANTS): mica's library, the variant's environment
declare -A alloc_env=()
for v in ${MICA_VARIANTS:-}; do
  name=${v%%:*}
  [[ "$v" == *:*=* && "$name" =~ ^[A-Za-z0-9_]+$ && "$name" != base ]] ||
    die "MICA_VARIANTS: '$v' is not NAME:VAR=VALUE[,VAR=VALUE...]"
  [ -n "$mica_lib" ] || die "MICA_VARIANTS needs mica (${mica_note:-no libmica.so})"
  alloc_lib[mica-$name]=$mica_lib
  alloc_pkg[mica-$name]=""
  alloc_env[mica-$name]=${v#*:}
  allocs+=("mica-$name")
done
# Each library must really load (ld.so only warns about a preload it cannot load).
checked=()
for a in "${allocs[@]}"; do
  lib=${alloc_lib[$a]}
  if [ -n "$lib" ] && ! env LD_PRELOAD="$lib" grep -qF "$(readlink -f "$lib")" /proc/self/maps 2>/dev/null; then
    skipped+=("$a ($lib does not load through LD_PRELOAD)")
    continue
  fi
  checked+=("$a")
done
allocs=("${checked[@]}")
[ ${#allocs[@]} -gt 0 ] || die "no allocator to measure"
works=()
IFS=, read -r -a wanted <<<"$works_sel"
for w in "${wanted[@]}"; do
  [ -n "${work_prog[$w]:-}" ] || die "unknown workload '$w' (${all_works[*]})"
  works+=("$w")
done

# A preload of the caller's would distort every figure.
if [ -n "${LD_PRELOAD:-}" ]; then
  note "ignoring LD_PRELOAD=$LD_PRELOAD"
  unset LD_PRELOAD
fi
# preload_cmd ALLOC: set the caller's array `pre` to the command prefix that
# runs a program under ALLOC: its library preloaded (glibc: none) and, for a
# MICA_VARIANTS allocator, its settings in the environment
preload_cmd() {
  pre=()
  [ -n "${alloc_lib[$1]}" ] || return 0
  pre=(env "LD_PRELOAD=${alloc_lib[$1]}")
  if [ -n "${alloc_env[$1]:-}" ]; then
    local settings
    IFS=, read -r -a settings <<<"${alloc_env[$1]}"
    pre+=("${settings[@]}")
  fi
}
# run_with ALLOC CMD...: run CMD under ALLOC
run_with() {
  local a=$1 pre
  shift
  preload_cmd "$a"
  "${pre[@]}" "$@"
}

# ---------------------------------------------------------------------------
# Timed workloads, interleaved
# ---------------------------------------------------------------------------
results=$out/results.txt    # workload allocator round seconds kib status minor-faults cpu-seconds
: >"$results"
loads=$out/load.txt         # round start|end 1-min 5-min 15-min load average
: >"$loads"
record_load() { echo "$1 $2 $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '- - -')" >>"$loads"; }
if [ $do_timing = 1 ]; then
  n=${#allocs[@]}
  total=$((rounds * ${#works[@]} * n)); done_runs=0
  for ((r = 1; r <= rounds; r++)); do
    record_load "$r" start
    for w in "${works[@]}"; do
      for ((i = 0; i < n; i++)); do
        a=${allocs[$(( (i + r - 1) % n ))]}
        done_runs=$((done_runs + 1))
        log=$out/logs/$w-$a-$r.log
        tf=$out/logs/time.tmp
        rm -f "$tf"
        # Only the bench program runs under the allocator, not timeout or time.
        read -r -a args <<<"${work_args[$w]}"
        preload_cmd "$a"
        if timeout "$timeout_s" /usr/bin/time -f '%e %M %R %U %S' -o "$tf" \
             "${pre[@]}" "$out/bin/${work_prog[$w]}" "${args[@]}" >"$log" 2>&1; then
          read -r secs kib faults usr sys <"$tf"
          echo "$w $a $r $secs $kib ok $faults $(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" >>"$results"
          printf 'bench: [%d/%d] round %d %-11s %-9s %6.2f s %8.1f MiB\n' "$done_runs" "$total" "$r" "$w" "$a" \
            "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" >&2
        else
          rc=$?
          status=fail
          [ $rc = 124 ] && status=timeout
          echo "$w $a $r - - $status - -" >>"$results"
          note "[$done_runs/$total] round $r $w $a: FAILED (exit status $rc; log $log)"
          tail -n 5 "$log" | sed 's/^/bench:   /' >&2
        fi
      done
    done
    record_load "$r" end
  done
fi

# ---------------------------------------------------------------------------
# The floor: each workload's live bytes at its peak (bench/live-peak.c, over
# glibc), plus the peak RSS of the same process with no heap at all
# (bench-tiny 1 on glibc: program, C library, stack, 1 KiB of heap). No
# allocator can keep a workload's peak RSS below that sum; thread stacks are
# left out, so it is a little low for the threaded workloads, never high.
# ---------------------------------------------------------------------------
floor=$out/floor.txt        # workload live-bytes | "base" kib
: >"$floor"
if [ $do_floor = 1 ]; then
  if /usr/bin/time -f '%M' -o "$out/logs/time.tmp" "$out/bin/bench-tiny" 1 >/dev/null 2>&1; then
    echo "base $(cat "$out/logs/time.tmp")" >>"$floor"
  fi
  for w in "${works[@]}"; do
    read -r -a args <<<"${work_args[$w]}"
    live=$(env LD_PRELOAD="$out/live-peak.so" timeout "$timeout_s" "$out/bin/${work_prog[$w]}" "${args[@]}" 2>&1 >/dev/null \
           | awk '$1 == "live-peak:" { print $2 }' | tail -n 1 || true)
    if [ -n "$live" ]; then echo "$w $live" >>"$floor"; note "floor $w: $live bytes live at the peak"; else note "floor $w: FAILED"; fi
  done
fi

# ---------------------------------------------------------------------------
# Instruction counts (callgrind), one run per allocator and pattern
# ---------------------------------------------------------------------------
cg=$out/callgrind.txt      # allocator pattern ir-per-pair|status
: >"$cg"
if [ $do_callgrind = 1 ]; then
  for a in "${allocs[@]}"; do
    for m in batch churn; do
      f=$out/logs/callgrind-$a-$m.out
      log=$out/logs/callgrind-$a-$m.log
      rm -f "$f"
      # valgrind passes LD_PRELOAD on to the program (after its own preload).
      if run_with "$a" timeout "$timeout_s" valgrind --tool=callgrind --toggle-collect=measured_loop \
           --callgrind-out-file="$f" "$out/bin/bench-pair" "$m" "$pairs" >"$log" 2>&1; then
        np=$(awk '$1 == "pairs" { print $2 }' "$log")
        ir=$(awk '$1 == "totals:" { print $2; exit }' "$f")
        [ -n "$ir" ] || ir=$(awk '$1 == "summary:" { print $2; exit }' "$f")
        if [ -n "$np" ] && [ -n "$ir" ]; then
          ipp=$(awk -v ir="$ir" -v np="$np" 'BEGIN { printf "%.1f", ir / np }')
          echo "$a $m $ipp" >>"$cg"
          note "callgrind $a $m: $ir Ir / $np pairs = $ipp per pair"
        else
          echo "$a $m parse-error" >>"$cg"
          note "callgrind $a $m: could not read the counts (see $log)"
        fi
      else
        echo "$a $m fail" >>"$cg"
        note "callgrind $a $m: FAILED (see $log)"
        tail -n 5 "$log" | sed 's/^/bench:   /' >&2
      fi
    done
  done
fi

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
median() {   # median of the numbers on stdin ("-" if none)
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {   # ratio A B, formatted, one line (geomean reads one per line)
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
geomean() {   # geometric mean of the positive numbers on stdin, formatted ("-" if none)
  awk '$1 > 0 { s += log($1); n++ } END { if (n == 0) print "-"; else printf "%.2f", exp(s / n) }'
}
pkgver() {
  [ -n "$1" ] && dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "-"
}

# Medians per workload and allocator, from the successful runs
declare -A med_t med_m med_f med_c
if [ $do_timing = 1 ]; then
  for w in "${works[@]}"; do
    for a in "${allocs[@]}"; do
      med_c[$w,$a]=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" && NF >= 8 { print $8 }' "$results" | median)
      med_t[$w,$a]=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $4 }' "$results" | median)
      med_m[$w,$a]=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $5 / 1024 }' "$results" | median)
      med_f[$w,$a]=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $7 / 1000 }' "$results" | median)
    done
  done
fi
# The baselines of the ratios: Debian 12's mimalloc 2, and mimalloc 3 if measured
bases=(mimalloc)
[[ " ${allocs[*]} " != *" mimalloc3 "* ]] || bases+=(mimalloc3)
# time_ratio / rss_ratio WORKLOAD ALLOC BASE: formatted ratio of the medians
time_ratio() {
  if [ -n "${rss_only[$1]:-}" ]; then echo "-"; else ratio "${med_t[$1,$2]:--}" "${med_t[$1,$3]:--}"; fi
}
rss_ratio() { ratio "${med_m[$1,$2]:--}" "${med_m[$1,$3]:--}"; }
cpu_ratio() {
  if [ -n "${rss_only[$1]:-}" ]; then echo "-"; else ratio "${med_c[$1,$2]:--}" "${med_c[$1,$3]:--}"; fi
}
# wins KIND ALLOC BASE: "k/n": on k of the n comparable workloads ALLOC's
# median time (KIND t) or peak RSS (KIND m) is below BASE's
wins() {
  local w x y k=0 n=0
  for w in "${works[@]}"; do
    if [ "$1" = t ]; then
      [ -z "${rss_only[$w]:-}" ] || continue
      x=${med_t[$w,$2]:--}; y=${med_t[$w,$3]:--}
    else
      x=${med_m[$w,$2]:--}; y=${med_m[$w,$3]:--}
    fi
    if [ "$x" = "-" ] || [ "$y" = "-" ]; then continue; fi
    n=$((n + 1))
    if awk -v x="$x" -v y="$y" 'BEGIN { exit !(x < y) }'; then k=$((k + 1)); fi
  done
  if [ $n = 0 ]; then echo "-"; else echo "$k/$n"; fi
}
base_desc() {   # what a baseline is, in words
  case $1 in
    mimalloc) echo "mimalloc = Debian 12's package libmimalloc2.0 $(pkgver libmimalloc2.0)" ;;
    mimalloc3) echo "mimalloc3 = $m3_origin" ;;
  esac
}

# The least peak RSS reached on each workload by an allocator no slower
# than mimalloc there (all allocators for the RSS-only workloads): the RSS
# geometric mean an allocator would have if it matched, on every workload,
# the leanest of the measured ones that keep mimalloc's time.
best_within() {
  [[ " ${allocs[*]} " == *" mimalloc "* ]] || return 0
  echo
  echo "### The least RSS within mimalloc's time"
  echo
  echo "| workload | least RSS / mimalloc | by | mica's RSS / mimalloc |"
  echo "|---|---:|---|---:|"
  local w a best who r t all=() micas=()
  for w in "${works[@]}"; do
    best=-; who=-
    for a in "${allocs[@]}"; do
      r=$(rss_ratio "$w" "$a" mimalloc); t=$(time_ratio "$w" "$a" mimalloc)
      [ "$r" != "-" ] || continue
      if [ -z "${rss_only[$w]:-}" ]; then
        [ "$t" != "-" ] && awk -v t="$t" 'BEGIN { exit !(t <= 1.00) }' || continue
      fi
      if [ "$best" = "-" ] || awk -v r="$r" -v b="$best" 'BEGIN { exit !(r < b) }'; then best=$r; who=$a; fi
    done
    all+=("$best")
    r=$(rss_ratio "$w" mica mimalloc 2>/dev/null || echo -)
    micas+=("$r")
    echo "| $w | $best | $who | $r |"
  done
  echo "| **geometric mean** | **$(printf '%s\n' "${all[@]}" | geomean)** | | **$(printf '%s\n' "${micas[@]}" | geomean)** |"
  echo
  echo "least RSS / mimalloc: the smallest median peak RSS, as a ratio to mimalloc's,"
  echo "among the allocators whose median time on the workload is at most mimalloc's"
  echo "(time ratio <= 1.00; mimalloc itself is one, at 1.00). Its geometric mean is"
  echo "what an allocator would reach by matching the leanest such allocator on every"
  echo "workload."
}

report() {
  local cpu kernel b
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
  kernel=$(uname -sr)
  echo "## Results"
  echo
  echo "Generated by \`bench/run.sh$([ $quick = 1 ] && echo " --quick")\` on $(date -u '+%Y-%m-%d %H:%M UTC'):"
  echo "$(nproc) CPUs ($cpu), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $kernel,"
  echo "Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), $($cc --version | head -n 1)."
  echo "Each workload ran $rounds time(s) per allocator, interleaved; figures are medians."
  echo
  echo "| allocator | library | Debian package |"
  echo "|---|---|---|"
  for a in "${allocs[@]}"; do
    local lib=${alloc_lib[$a]} pkg=${alloc_pkg[$a]} ver
    if [ "$a" = mica ]; then
      ver="mica $(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'working tree (no commit)')"
    elif [ "$a" = mica-base ]; then
      ver="mica, an earlier build (MICA_BASE_LIB)"
    elif [ -n "${alloc_env[$a]:-}" ]; then
      ver="mica $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '(no commit)') with ${alloc_env[$a]//,/ }"
    elif [ "$a" = mimalloc3 ]; then
      ver=$m3_origin
    else
      ver="${pkg} $(pkgver "$pkg")"
    fi
    [ -n "$lib" ] || lib="(none: the C library malloc)"
    case $lib in "$repo"/*) lib=${lib#"$repo"/} ;; esac
    echo "| $a | $lib | $ver |"
  done
  if [ ${#skipped[@]} -gt 0 ]; then
    echo
    for s in "${skipped[@]}"; do echo "Not measured: $s."; done
  fi

  if [ $do_timing = 1 ]; then
    echo
    echo "### Wall time and peak RSS"
    echo
    echo "Ratios are to the median of the baseline on the same workload:"
    for b in "${bases[@]}"; do echo "$(base_desc "$b")."; done
    echo
    local head="| workload | allocator | time (s)" rule="|---|---|---:"
    for b in "${bases[@]}"; do head+=" | time / $b"; rule+="|---:"; done
    head+=" | time spread | CPU (s)"; rule+="|---:|---:"
    for b in "${bases[@]}"; do head+=" | CPU / $b"; rule+="|---:"; done
    head+=" | peak RSS (MiB)"; rule+="|---:"
    for b in "${bases[@]}"; do head+=" | RSS / $b"; rule+="|---:"; done
    head+=" | minor faults (k) | runs ok |"; rule+="|---:|---:|"
    echo "$head"
    echo "$rule"
    for w in "${works[@]}"; do
      for a in "${allocs[@]}"; do
        local t=${med_t[$w,$a]} m=${med_m[$w,$a]} f=${med_f[$w,$a]} c=${med_c[$w,$a]} ok all bad spread row
        spread=$(awk -v w="$w" -v a="$a" -v med="$t" '$1 == w && $2 == a && $6 == "ok" {
                   if (n == 0 || $4 < lo) lo = $4; if (n == 0 || $4 > hi) hi = $4; n++ }
                   END { if (n < 2 || med + 0 == 0) print "-"; else printf "%.0f%%", (hi - lo) / med * 100 }' "$results")
        [ "$f" = "-" ] || f=$(awk -v f="$f" 'BEGIN { printf "%.1f", f }')
        local mf=$m
        [ "$mf" = "-" ] || mf=$(awk -v m="$m" 'BEGIN { printf "%.1f", m }')
        ok=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok"' "$results" | wc -l)
        all=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a' "$results" | wc -l)
        bad=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 != "ok" { print $6 }' "$results" | sort -u | paste -sd ' ' -)
        row="| $w | $a | $t"
        for b in "${bases[@]}"; do row+=" | $(time_ratio "$w" "$a" "$b")"; done
        [ "$c" = "-" ] || c=$(awk -v c="$c" 'BEGIN { printf "%.2f", c }')
        row+=" | $spread | $c"
        for b in "${bases[@]}"; do row+=" | $(cpu_ratio "$w" "$a" "$b")"; done
        row+=" | $mf"
        for b in "${bases[@]}"; do row+=" | $(rss_ratio "$w" "$a" "$b")"; done
        echo "$row | $f | $ok/$all${bad:+ ($bad)} |"
      done
    done
    echo
    echo "time spread: (slowest - fastest run) / median. CPU: user + system time of"
    echo "all the program's threads (median); on these 2 CPUs a threaded workload's"
    echo "wall time also depends on how its threads were scheduled. minor faults: page faults"
    echo "served without I/O, in thousands (median); memory returned to the OS and"
    echo "touched again shows up here."
    local w quiet=()
    for w in "${works[@]}"; do [ -z "${rss_only[$w]:-}" ] || quiet+=("$w"); done
    if [ ${#quiet[@]} -gt 0 ]; then
      echo "No time ratio for ${quiet[*]}: its run takes milliseconds, peak RSS is its measure."
    fi

    echo
    echo "### Geometric means over the workloads"
    echo
    head="| allocator"; rule="|---"
    for b in "${bases[@]}"; do head+=" | time / $b | CPU / $b | RSS / $b"; rule+="|---:|---:|---:"; done
    for b in "${bases[@]}"; do head+=" | faster, leaner than $b"; rule+="|---:"; done
    echo "$head |"
    echo "$rule|"
    for a in "${allocs[@]}"; do
      local row="| $a" gt gc gm
      for b in "${bases[@]}"; do
        gt=$(for w in "${works[@]}"; do time_ratio "$w" "$a" "$b"; done | geomean)
        gc=$(for w in "${works[@]}"; do cpu_ratio "$w" "$a" "$b"; done | geomean)
        gm=$(for w in "${works[@]}"; do rss_ratio "$w" "$a" "$b"; done | geomean)
        row+=" | $gt | $gc | $gm"
      done
      for b in "${bases[@]}"; do row+=" | $(wins t "$a" "$b"), $(wins m "$a" "$b")"; done
      echo "$row |"
    done
    echo
    echo "time / B, CPU / B, RSS / B: geometric mean of the per-workload ratios above over the"
    echo "workloads${quiet:+ (the time: all but ${quiet[*]})}; below 1: faster or smaller than B."
    echo "faster, leaner than B: on how many workloads the allocator's median time, and"
    echo "its median peak RSS, are below B's."
    best_within
    echo
    echo "Machine load (1-minute load average; the run itself adds about 1 to 2):"
    echo
    echo "| round | at its start | at its end |"
    echo "|---:|---:|---:|"
    local r
    for ((r = 1; r <= rounds; r++)); do
      echo "| $r | $(awk -v r="$r" '$1 == r && $2 == "start" { print $3 }' "$loads") | $(awk -v r="$r" '$1 == r && $2 == "end" { print $3 }' "$loads") |"
    done
    echo
    echo "Workloads (arguments):"
    echo
    for w in "${works[@]}"; do
      echo "- \`${work_prog[$w]} ${work_args[$w]}\`: ${work_desc[$w]}"
    done
  fi

  local base_kib
  base_kib=$(awk '$1 == "base" { print $2 }' "$floor")
  if [ $do_floor = 1 ] && [ -n "$base_kib" ]; then
    echo
    echo "### The floor: the least peak RSS any allocator could have"
    echo
    local head="| workload | live at the peak (MiB) | floor (MiB)" rule="|---|---:|---:"
    for b in "${bases[@]}"; do head+=" | floor / $b"; rule+="|---:"; done
    [[ " ${allocs[*]} " != *" mica "* ]] || { head+=" | mica / floor"; rule+="|---:"; }
    echo "$head |"
    echo "$rule|"
    local fm
    declare -A floor_mib=()
    for w in "${works[@]}"; do
      local live
      live=$(awk -v w="$w" '$1 == w { print $2 }' "$floor")
      [ -n "$live" ] || continue
      fm=$(awk -v l="$live" -v b="$base_kib" 'BEGIN { printf "%.1f", l / 1048576 + b / 1024 }')
      floor_mib[$w]=$fm
      local row
      row="| $w | $(awk -v l="$live" 'BEGIN { printf "%.1f", l / 1048576 }') | $fm"
      for b in "${bases[@]}"; do row+=" | $(ratio "$fm" "${med_m[$w,$b]:--}")"; done
      [[ " ${allocs[*]} " != *" mica "* ]] || row+=" | $(ratio "${med_m[$w,mica]:--}" "$fm")"
      echo "$row |"
    done
    local row="| **geometric mean** | | "
    for b in "${bases[@]}"; do
      row+=" | **$(for w in "${!floor_mib[@]}"; do ratio "${floor_mib[$w]}" "${med_m[$w,$b]:--}"; done | geomean)**"
    done
    [[ " ${allocs[*]} " != *" mica "* ]] || row+=" | **$(for w in "${!floor_mib[@]}"; do ratio "${med_m[$w,mica]:--}" "${floor_mib[$w]}"; done | geomean)**"
    echo "$row |"
    echo
    echo "floor: the workload's live bytes at its peak (the sum of the sizes asked"
    echo "for, counted by bench/live-peak.c) plus the peak RSS of a process with no"
    echo "heap ($(awk -v b="$base_kib" 'BEGIN { printf "%.1f", b / 1024 }') MiB: \`bench-tiny 1\` on glibc, 1 KiB live). No allocator's peak RSS"
    echo "can be below it; floor / B is the least RSS ratio to B any allocator could reach."
  fi

  if [ $do_callgrind = 1 ]; then
    echo
    echo "### Instructions per malloc+free pair (64 B, callgrind, loop included)"
    echo
    echo "| allocator | batch (64 then 64) | churn (64 live, rotate) |"
    echo "|---|---:|---:|"
    for a in "${allocs[@]}"; do
      local b c
      b=$(awk -v a="$a" '$1 == a && $2 == "batch" { print $3 }' "$cg")
      c=$(awk -v a="$a" '$1 == a && $2 == "churn" { print $3 }' "$cg")
      echo "| $a | ${b:--} | ${c:--} |"
    done
    echo
    echo "\`valgrind --tool=callgrind --toggle-collect=measured_loop bench-pair batch|churn $pairs\`;"
    echo "Ir of measured_loop (inclusive) / $pairs pairs."
  fi
}

if [ -n "$outfile" ]; then
  report | tee "$outfile"
else
  report
fi

# ---------------------------------------------------------------------------
# Chart (bench/chart.py, matplotlib)
# ---------------------------------------------------------------------------
if [ -n "$chart" ]; then
  if [ $do_timing = 0 ]; then
    note "no chart: it shows the timed workloads, which --no-timing skipped"
  else
    # Debian's python3-matplotlib is for /usr/bin/python3, which need not be
    # the python3 on PATH.
    py=
    for c in python3 /usr/bin/python3; do
      if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import matplotlib' 2>/dev/null; then py=$c; break; fi
    done
    if [ -z "$py" ] && apt_install python3-matplotlib && /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
      py=/usr/bin/python3
    fi
    skip_time=
    for w in "${works[@]}"; do [ -z "${rss_only[$w]:-}" ] || skip_time+=${skip_time:+,}$w; done
    # the ratios are to mimalloc, or to mimalloc3 if mimalloc was not measured
    chart_base=
    for b in "${bases[@]}"; do
      if [[ " ${allocs[*]} " == *" $b "* ]]; then chart_base=$b; break; fi
    done
    if [ -z "$py" ]; then
      note "no chart: matplotlib is not available (Debian: apt-get install python3-matplotlib)"
    elif [ -z "$chart_base" ]; then
      note "no chart: it shows ratios to mimalloc or mimalloc3, and neither was measured"
    elif "$py" "$here/chart.py" -i "$results" -o "$chart" --baseline "$chart_base" ${skip_time:+--no-time "$skip_time"} \
           --title "bench/run.sh$([ $quick = 1 ] && echo " --quick"), $rounds round(s), $(date -u '+%Y-%m-%d')" >&2; then
      note "chart written to $chart"
    else
      note "no chart: bench/chart.py failed"
    fi
  fi
fi
