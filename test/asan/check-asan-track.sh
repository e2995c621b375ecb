#!/bin/sh
# SPDX-License-Identifier: MIT
# MI_TRACK_ASAN (doc/security.md): a program built with -fsanitize=address
# and linked with a libmica.a (MI_TRACK_ASAN 1, MI_OVERRIDE 0) gets
# AddressSanitizer's reports for mica's blocks.
#   1. a compiler whose -fsanitize=address links: clang (Debian needs
#      libclang-rt-14-dev for its runtime), else gcc (libasan8 comes with
#      gcc-12); neither: skipped (77);
#   2. libmica.a from src/static.c with MI_TRACK_ASAN=1, itself built with
#      -fsanitize=address, so mica's own accesses to poisoned memory would
#      be reported too; asan-track.c linked with it;
#   3. `control` exits 0 with no report; every misuse mode (asan-track.c)
#      exits non-zero with "ERROR: AddressSanitizer: use-after-poison on
#      address A", A the address the program printed, and READ or WRITE as
#      the mode does;
#   4. the negative control: the same program on a libmica.a with
#      MI_TRACK_ASAN=0 runs every misuse mode to its end unreported, so
#      each report above comes from the tracking.
# usage: check-asan-track.sh SOURCE_DIR WORK_DIR [COMPILER...]
# Prints "N passed, N failed"; exits 1 on any failure.
set -u
src=$1 work=$2; shift 2
compilers=${*:-clang gcc}
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

rm -rf "$work" && mkdir -p "$work" || exit 1
cat > "$work/probe.c" <<'EOF'
#include <sanitizer/asan_interface.h>
static char buf[64];
int main(void) { __asan_poison_memory_region(buf, 32); __asan_unpoison_memory_region(buf, 32); return buf[0]; }
EOF
cc=
for c in $compilers; do
  if command -v "$c" > /dev/null 2>&1 && "$c" -fsanitize=address "$work/probe.c" -o "$work/probe" > "$work/probe-$c.log" 2>&1 &&
     "$work/probe"; then
    cc=$c; break
  fi
done
if [ -z "$cc" ]; then
  echo "  skipped: no compiler links -fsanitize=address (tried: $compilers; clang needs libclang-rt-14-dev on Debian 12)"
  exit 77
fi
echo "compiler: $cc ($($cc --version | head -n 1))"

flags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=address -Wall -Wextra -Wundef -Werror -I$src/include"
export ASAN_OPTIONS=detect_leaks=0
modes="overflow:WRITE neighbour:WRITE uaf-read:READ uaf-write:WRITE fresh:READ huge:WRITE aligned:WRITE aligned-small:WRITE"

# build TRACK: libmica-TRACK.a and the program asan-track-TRACK
build() {
  if $cc $flags -I"$src/src" -DMI_TRACK_ASAN=$1 -DMI_OVERRIDE=0 -c "$src/src/static.c" -o "$work/mica-$1.o" > "$work/cc-mica-$1.log" 2>&1 &&
     ar rcs "$work/libmica-$1.a" "$work/mica-$1.o" &&
     $cc $flags -pthread "$src/test/asan/asan-track.c" "$work/libmica-$1.a" -o "$work/asan-track-$1" > "$work/cc-$1.log" 2>&1; then
    pass; return 0
  fi
  cat "$work/cc-mica-$1.log" "$work/cc-$1.log" 2> /dev/null; fail "MI_TRACK_ASAN=$1: libmica.a or the program does not build"; return 1
}

# run TRACK MODE: out, err, rc
run() {
  "$work/asan-track-$1" "$2" > "$work/$1-$2.out" 2> "$work/$1-$2.err"
  rc=$?
}

if build 1; then
  run 1 control
  if [ $rc = 0 ] && grep -q '^control ok$' "$work/1-control.out" && ! grep -q AddressSanitizer "$work/1-control.err"; then
    pass
  else
    cat "$work/1-control.out" "$work/1-control.err"; fail "control: exit $rc or a report (legal use must run clean)"
  fi
  for m in $modes; do
    mode=${m%%:*} access=${m#*:}
    run 1 "$mode"
    addr=$(sed -n 's/^addr \(0x[0-9a-f]*\)$/\1/p' "$work/1-$mode.out")
    if [ $rc = 0 ] || [ -z "$addr" ]; then
      cat "$work/1-$mode.out" "$work/1-$mode.err"; fail "$mode: exit $rc, printed address '${addr}' (expected a report)"; continue
    fi
    if grep -q "ERROR: AddressSanitizer: use-after-poison on address $addr " "$work/1-$mode.err" &&
       grep -q "^$access of size 1 at $addr " "$work/1-$mode.err"; then
      pass
    else
      cat "$work/1-$mode.out" "$work/1-$mode.err"; fail "$mode: no use-after-poison report of a $access at $addr"
    fi
  done
fi

# negative control: without the tracking every misuse goes unreported
if build 0; then
  for m in $modes; do
    mode=${m%%:*}
    run 0 "$mode"
    if [ $rc = 0 ] && grep -q '^survived$' "$work/0-$mode.out" && ! grep -q AddressSanitizer "$work/0-$mode.err"; then
      pass
    else
      cat "$work/0-$mode.out" "$work/0-$mode.err"; fail "$mode without MI_TRACK_ASAN: exit $rc or a report (the check above would not depend on the tracking)"
    fi
  done
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
