#!/bin/sh
# SPDX-License-Identifier: MIT
# The embedding build (doc/embedding.md), as an embedder does it: the C
# compiler alone, mica's include/ and src/ as include paths, the embedder's
# usual warnings as errors, no CMake target and none of mica's flags.
#   1. test-embed.c (release; MI_DEBUG 2 with the embedder's fill bytes
#      and thread id function; MI_BLOCK_ALIGN 8) compiles cleanly with
#      -std=c11, and MI_BLOCK_ALIGN 8 with MI_OVERRIDE 1 does not;
#   2. no mica symbol leaves the object: every defined global mi_/_mi_
#      symbol is hidden (readelf), and a shared object linked from it
#      exports none (nm -D);
#   3. the programs run and pass.
# usage: check-embed.sh CC SOURCE_DIR WORK_DIR [NM] [READELF]
# Prints "N passed, N failed"; exits 1 on any failure.
set -u
cc=$1 src=$2 work=$3 nm=${4:-nm} readelf=${5:-readelf}
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

rm -rf "$work" && mkdir -p "$work" || exit 1
flags="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wundef -Wstrict-prototypes -Werror -I$src/include -I$src/src"

for variant in release debug align8; do
  d=0; [ $variant = debug ] && d=1
  a=0; [ $variant = align8 ] && a=1
  obj=$work/embed-$variant.o
  if $cc $flags -DEMBED_DEBUG=$d -DEMBED_ALIGN8=$a -c "$src/test/embed/test-embed.c" -o "$obj" 2> "$work/cc-$variant.log"; then
    pass
  else
    cat "$work/cc-$variant.log"; fail "$variant: the embedding unit does not compile cleanly"; continue
  fi
  # defined, global or weak, not hidden, named like mica's: exported
  exported=$($readelf -sW "$obj" | awk '$5 ~ /GLOBAL|WEAK/ && $6 != "HIDDEN" && $7 != "UND" && $8 ~ /^_?mi_/ { print $8 }')
  if [ -n "$exported" ]; then fail "$variant: visible mica symbols in the object:" $exported; else pass; fi
  n=$($readelf -sW "$obj" | awk '$5 ~ /GLOBAL/ && $6 == "HIDDEN" && $8 ~ /^mi_malloc$/' | wc -l)
  [ "$n" = 1 ] && pass || fail "$variant: mi_malloc is not a hidden global of the object (readelf)"
  if $cc -pthread "$obj" -o "$work/embed-$variant" 2> "$work/ld-$variant.log"; then pass; else cat "$work/ld-$variant.log"; fail "$variant: link"; continue; fi
  if "$work/embed-$variant" > "$work/run-$variant.log" 2>&1; then pass; else cat "$work/run-$variant.log"; fail "$variant: the program failed"; fi
done

# the malloc override must give the fundamental alignment: MI_BLOCK_ALIGN
# with MI_OVERRIDE is refused at compile time
if $cc $flags -DMI_OVERRIDE=1 -DMI_BLOCK_ALIGN=8 -fsyntax-only "$src/src/static.c" > "$work/cc-override-align.log" 2>&1; then
  fail "MI_BLOCK_ALIGN 8 with MI_OVERRIDE 1 compiled"
elif grep -q "MI_BLOCK_ALIGN" "$work/cc-override-align.log"; then pass
else cat "$work/cc-override-align.log"; fail "MI_BLOCK_ALIGN 8 with MI_OVERRIDE 1: not refused for that reason"; fi

# a shared object built from the embedding unit exports only its own function
if $cc $flags -fPIC -DEMBED_LIB=1 -c "$src/test/embed/test-embed.c" -o "$work/embed-lib.o" 2> "$work/cc-lib.log" &&
   $cc -shared -pthread "$work/embed-lib.o" -o "$work/libembed.so" 2>> "$work/cc-lib.log"; then
  pass
  dyn=$($nm -D --defined-only "$work/libembed.so" | awk '$3 ~ /^_?mi_/ { print $3 }')
  if [ -n "$dyn" ]; then fail "the shared object exports mica symbols:" $dyn; else pass; fi
  $nm -D --defined-only "$work/libembed.so" | grep -q ' embed_roundtrip$' && pass || fail "nm -D does not list the embedder's own function"
else
  cat "$work/cc-lib.log"; fail "shared object: compile or link"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
