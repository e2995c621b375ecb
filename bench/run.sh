#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh: benchmark mica against glibc, jemalloc, tcmalloc-minimal and
# mimalloc. See doc/benchmarks.md.
#
# usage: bench/run.sh [options]
#   -q, --quick        quick mode: smaller workloads, 3 rounds, fewer pairs
#   -r, --rounds N     rounds per workload and allocator (default 5; 3 with -q)
#   -o, --output FILE  also write the markdown report to FILE
#   -a, --allocators L comma-separated subset of: glibc,jemalloc,tcmalloc,mimalloc,mica
#   -w, --workloads L  comma-separated subset of: prodcons,churn,server,objects,objects24
#       --no-callgrind skip the instruction counts
#       --no-timing    skip the timed workloads (instruction counts only)
#   -h, --help
# Environment:
#   MICA_LIB           use this libmica.so instead of building one
#   MICA_BASE_LIB      also measure this libmica.so, as allocator "mica-base"
#                      (a build of an earlier commit: before/after, side by side)
#   CC                 compiler for the bench programs (default gcc)
#   BENCH_DIR          build directory (default <repo>/build-bench)
#   BENCH_TIMEOUT      seconds before a single run is killed (default 300)
#
# The timed workloads run through LD_PRELOAD, interleaved: in each round every
# workload runs once under every allocator (the allocator order rotates from
# round to round), so slow drifts of the machine hit all allocators alike.
# Reported: median wall time, peak RSS and minor page faults (from
# /usr/bin/time), and the ratios of time and RSS to mimalloc. Instruction counts come from callgrind
# (--toggle-collect=measured_loop on bench-pair). Nothing here fails on
# slowness; the script fails only if it cannot build or measure at all.
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
allocs_sel=glibc,jemalloc,tcmalloc,mimalloc,mica${MICA_BASE_LIB:+,mica-base}
works_sel=prodcons,churn,server,objects,objects24
do_callgrind=1
do_timing=1

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
    --no-callgrind) do_callgrind=0; shift ;;
    --no-timing) do_timing=0; shift ;;
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
if [ $quick = 1 ]; then
  prodcons_args="3000000 2 2"; churn_args="5000000 10000"; server_args="2000000 4 2000"; pairs=200000
  objects_args="1000000 1 128"; objects24_args="1000000 17 24"
else
  prodcons_args="6000000 2 2"; churn_args="20000000 10000"; server_args="8000000 4 2000"; pairs=1000000
  objects_args="4000000 1 128"; objects24_args="4000000 17 24"
fi
all_works=(prodcons churn server objects objects24)
declare -A work_prog=([prodcons]=bench-prodcons [churn]=bench-churn [server]=bench-server
  [objects]=bench-objects [objects24]=bench-objects)
declare -A work_args=([prodcons]=$prodcons_args [churn]=$churn_args [server]=$server_args
  [objects]=$objects_args [objects24]=$objects24_args)
declare -A work_desc=(
  [prodcons]="2 producers -> 2 consumers, cross-thread frees, 16 B-64 KiB"
  [churn]="1 thread, 10k live slots, free+malloc / realloc, 1 B-1 MiB"
  [server]="4 threads x rounds, working sets handed over, temporaries"
  [objects]="1 thread, millions of live objects of 1-128 B (footprint of small objects)"
  [objects24]="as objects, all of 17-24 B (the worst case for 16-byte alignment)")

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
for p in bench-prodcons bench-churn bench-server bench-objects bench-pair; do
  "$cc" -O2 -g -Wall -Wextra -o "$out/bin/$p" "$here/$p.c" -pthread \
    || die "cannot compile $here/$p.c"
done

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
alloc_pkg=([glibc]=libc6 [jemalloc]=libjemalloc2 [tcmalloc]=libtcmalloc-minimal4 [mimalloc]=libmimalloc2.0 [mica]="" [mica-base]="")
allocs=()
skipped=()
IFS=, read -r -a wanted <<<"$allocs_sel"
for a in "${wanted[@]}"; do
  case $a in
    glibc) alloc_lib[$a]= ;;
    jemalloc) alloc_lib[$a]=$(find_lib libjemalloc.so.2) || { skipped+=("jemalloc (apt-get install libjemalloc2)"); continue; } ;;
    tcmalloc) alloc_lib[$a]=$(find_lib libtcmalloc_minimal.so.4) || { skipped+=("tcmalloc (apt-get install libtcmalloc-minimal4)"); continue; } ;;
    mimalloc) alloc_lib[$a]=$(find_lib libmimalloc.so.2) || { skipped+=("mimalloc (apt-get install libmimalloc2.0)"); continue; } ;;
    mica) if [ -z "$mica_lib" ]; then skipped+=("${mica_note:-mica}"); continue; fi
          alloc_lib[$a]=$mica_lib ;;
    mica-base) [ -f "${MICA_BASE_LIB:-}" ] || die "mica-base needs MICA_BASE_LIB=<an earlier libmica.so>"
          alloc_lib[$a]=$(cd "$(dirname "$MICA_BASE_LIB")" && pwd)/$(basename "$MICA_BASE_LIB") ;;
    *) die "unknown allocator '$a' (glibc, jemalloc, tcmalloc, mimalloc, mica, mica-base)" ;;
  esac
  allocs+=("$a")
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
# run_with ALLOC CMD...: run CMD with ALLOC's library preloaded (glibc: none)
run_with() {
  local a=$1; shift
  if [ -z "${alloc_lib[$a]}" ]; then
    "$@"
  else
    env LD_PRELOAD="${alloc_lib[$a]}" "$@"
  fi
}

# ---------------------------------------------------------------------------
# Timed workloads, interleaved
# ---------------------------------------------------------------------------
results=$out/results.txt    # workload allocator round seconds kib status minor-faults
: >"$results"
if [ $do_timing = 1 ]; then
  n=${#allocs[@]}
  total=$((rounds * ${#works[@]} * n)); done_runs=0
  for ((r = 1; r <= rounds; r++)); do
    for w in "${works[@]}"; do
      for ((i = 0; i < n; i++)); do
        a=${allocs[$(( (i + r - 1) % n ))]}
        done_runs=$((done_runs + 1))
        log=$out/logs/$w-$a-$r.log
        tf=$out/logs/time.tmp
        rm -f "$tf"
        # Only the bench program runs under the allocator, not timeout or time.
        read -r -a args <<<"${work_args[$w]}"
        pre=()
        [ -z "${alloc_lib[$a]}" ] || pre=(env "LD_PRELOAD=${alloc_lib[$a]}")
        if timeout "$timeout_s" /usr/bin/time -f '%e %M %R' -o "$tf" \
             "${pre[@]}" "$out/bin/${work_prog[$w]}" "${args[@]}" >"$log" 2>&1; then
          read -r secs kib faults <"$tf"
          echo "$w $a $r $secs $kib ok $faults" >>"$results"
          printf 'bench: [%d/%d] round %d %-9s %-9s %6.2f s %8.1f MiB\n' "$done_runs" "$total" "$r" "$w" "$a" \
            "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" >&2
        else
          rc=$?
          status=fail
          [ $rc = 124 ] && status=timeout
          echo "$w $a $r - - $status -" >>"$results"
          note "[$done_runs/$total] round $r $w $a: FAILED (exit status $rc; log $log)"
          tail -n 5 "$log" | sed 's/^/bench:   /' >&2
        fi
      done
    done
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
ratio() {   # ratio A B, formatted
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
pkgver() {
  [ -n "$1" ] && dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "-"
}

report() {
  local cpu kernel
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
    echo "| workload | allocator | time (s) | time / mimalloc | time spread | peak RSS (MiB) | RSS / mimalloc | minor faults (k) | runs ok |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for w in "${works[@]}"; do
      local mt mr
      mt=$(awk -v w="$w" '$1 == w && $2 == "mimalloc" && $6 == "ok" { print $4 }' "$results" | median)
      mr=$(awk -v w="$w" '$1 == w && $2 == "mimalloc" && $6 == "ok" { print $5 / 1024 }' "$results" | median)
      for a in "${allocs[@]}"; do
        local t m f ok all bad spread
        t=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $4 }' "$results" | median)
        spread=$(awk -v w="$w" -v a="$a" -v med="$t" '$1 == w && $2 == a && $6 == "ok" {
                   if (n == 0 || $4 < lo) lo = $4; if (n == 0 || $4 > hi) hi = $4; n++ }
                   END { if (n < 2 || med + 0 == 0) print "-"; else printf "%.0f%%", (hi - lo) / med * 100 }' "$results")
        m=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $5 / 1024 }' "$results" | median)
        f=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok" { print $7 / 1000 }' "$results" | median)
        [ "$f" = "-" ] || f=$(awk -v f="$f" 'BEGIN { printf "%.1f", f }')
        [ "$m" = "-" ] || m=$(awk -v m="$m" 'BEGIN { printf "%.1f", m }')
        ok=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 == "ok"' "$results" | wc -l)
        all=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a' "$results" | wc -l)
        bad=$(awk -v w="$w" -v a="$a" '$1 == w && $2 == a && $6 != "ok" { print $6 }' "$results" | sort -u | paste -sd ' ' -)
        echo "| $w | $a | $t | $(ratio "$t" "$mt") | $spread | $m | $(ratio "$m" "$mr") | $f | $ok/$all${bad:+ ($bad)} |"
      done
    done
    echo
    echo "time spread: (slowest - fastest run) / median. minor faults: page faults"
    echo "served without I/O, in thousands (median); memory returned to the OS and"
    echo "touched again shows up here."
    echo
    echo "Workloads (arguments):"
    echo
    for w in "${works[@]}"; do
      echo "- \`${work_prog[$w]} ${work_args[$w]}\`: ${work_desc[$w]}"
    done
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
