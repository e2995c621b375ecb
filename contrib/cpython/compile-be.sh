#!/bin/sh
# SPDX-License-Identifier: MIT
# Compile-only check of CPython with mica for big-endian ARM: armeb (BE8,
# arm-linux-gnueabihf-gcc -mbig-endian) and aarch64_be (aarch64-linux-gnu-gcc
# -mbig-endian), the targets whose build the vendored mimalloc's yield
# helper once broke (CPython gh-131675, Buildroot's armeb autobuilders).
#
# usage: contrib/cpython/compile-be.sh OUT...
#
# Each OUT is a little-endian cross build of the same target family made by
# contrib/cpython/cross.sh (a --configure-only one is enough): its Makefile
# gives the compiler and CPython's exact flags, its pyconfig.h the target's
# configuration. There is no big-endian C library in Debian, so configure
# cannot run for BE; the script copies pyconfig.h to OUT/be/<target>/ and
# turns it big-endian the way configure would for a BE target
# (WORDS_BIGENDIAN 1, DOUBLE_IS_BIG_ENDIAN_IEEE754 instead of the
# little-endian double format), then compiles with -mbig-endian in that
# directory (CPython's -I. then finds the BE pyconfig.h):
#
#   Objects/obmalloc.c  the allocator's one translation unit
#   Modules/_abc.c      the file whose build failed in gh-131675: it sees the
#                       allocator's headers through pycore_interp.h
#   Python/pystate.c    the thread state (pycore_tstate.h, pycore_interp.h)
#
# for two trees: mica (OUT/cpython-src, as build.sh left it) and CPython's
# own mimalloc (the pristine SRC that OUT was copied from). Each compile must
# succeed, the object must be a big-endian ELF file, and the compiler's
# dependency list must name the BE pyconfig.h and that tree's allocator
# headers, and no mi_ function may be left undefined in the object (what the
# link of a full build would report). For mica, a warning located in an
# allocator file fails too.
#
# Then, for armeb only, a negative control proves that the check can fail:
# _abc.c is compiled against the vendored mimalloc whose atomic.h has the
# yield guards as they were before the gh-131675 fix (an awk rewrite in a
# copy of Include/ under OUT/be/; the pristine tree is not touched): under
# the rules mica is held to, obmalloc.c and _abc.c must fail, and the
# reason is shown.
#
# aarch64_be needs one shim: Debian's arm64 libc headers include
# gnu/stubs-lp64_be.h under -mbig-endian, which they do not ship; the shim
# directory holds a copy of gnu/stubs-lp64.h under that name (the stubs
# list is the same for both byte orders).
#
# Prints "N passed, N failed"; exits 1 on any failure. Logs in OUT/be/.
set -u

[ $# -ge 1 ] || { echo "usage: $0 OUT..." >&2; exit 2; }
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { echo "ok: $*"; passed=$((passed + 1)); }

# CPython's Makefile variable $2 in build directory $1
mkvar() {
  printf 'print-%%:\n\t@echo $($*)\n' > "$be/print.mk"
  make -s --no-print-directory -C "$1" -f Makefile -f "$be/print.mk" "print-$2"
}

# One compile: label, tree (of Objects/, Modules/, Python/), file, flags,
# expect (ok or fail), strict (1: a warning located in an allocator file is
# a problem too), and the tree whose Include/ the flags name (default: the
# first tree). Problems: the compile fails; the object is not big-endian;
# the dependency list lacks the BE pyconfig.h or the tree's allocator
# headers; the object leaves an mi_/_mi_ function undefined (the whole
# allocator is in these units, so that is the link error of a full build).
compile_one() {
  label=$1 vtree=$2 file=$3 flags=$4 expect=$5 strict=$6 itree=${7:-$2}
  base=$(echo "$label-$file" | tr '/ ' '__')
  log=$be/$base.log obj=$be/$base.o
  rm -f "$obj"
  problems=""
  # shellcheck disable=SC2086 # the flags are a list
  if ! (cd "$be" && $cc $flags -c "$vtree/$file" -o "$obj") > "$log" 2>&1; then
    problems="does not compile: $(grep -m 1 'error' "$log")"
  else
    "$tool-readelf" -h "$obj" | grep -q 'big endian' || problems="$problems; not a big-endian object"
    # shellcheck disable=SC2086
    deps=$(cd "$be" && $cc $flags -MM "$vtree/$file" 2>/dev/null | tr ' \\' '\n\n')
    echo "$deps" | grep -qxE '(\./)?pyconfig\.h' || problems="$problems; the BE pyconfig.h is not in its dependencies"
    nalloc=$(echo "$deps" | grep -c "^$itree/Include/internal/mimalloc/")
    [ "$nalloc" -ge 3 ] || problems="$problems; only $nalloc allocator headers from $itree"
    undef=$("$tool-nm" -u "$obj" | awk '{ print $NF }' | grep -E '^_?mi_' | tr '\n' ' ')
    [ -z "$undef" ] || problems="$problems; undefined allocator functions: $undef"
    nwarn=$(grep -c 'warning:' "$log")
    walloc=$(grep 'warning:' "$log" | grep -E '/(Objects|Include/internal)/mimalloc/')
    nwarn_alloc=$(printf '%s' "$walloc" | grep -c .)
    [ "$strict" = 1 ] && [ "$nwarn_alloc" -gt 0 ] &&
      problems="$problems; $nwarn_alloc warnings in allocator files: $(echo "$walloc" | head -n 1)"
  fi
  problems=${problems#; }
  if [ "$expect" = fail ]; then
    if [ -n "$problems" ]; then pass "$label $file fails as expected (negative control): $problems"
    else fail "$label $file passed, but the negative control must fail (log $log)"; fi
  elif [ -n "$problems" ]; then
    fail "$label $file: $problems (log $log)"
  else
    pass "$label $file: big-endian object, $nalloc allocator headers, $nwarn warnings ($nwarn_alloc in allocator files)"
  fi
}

# atomic.h with the ARM yield guards as before the gh-131675 fix:
# "__arm__ && __ARM_ARCH__ >= 7" (a macro no compiler defines) for yield,
# then little-endian only (__ARMEL__) for nop; nothing for big-endian.
prefix_atomic() {
  awk '
    /^#elif defined\(__arm__\)$/ { arm = 1; print "#elif defined(__arm__) && __ARM_ARCH__ >= 7"; next }
    arm && /^#if __ARM_ARCH >= 7$/ { next }
    arm && /^#else$/ { print "#elif defined(__armel__) || defined(__ARMEL__)"; next }
    arm && /^#endif$/ { arm = 0; next }
    { print }
  ' "$1"
}

for o in "$@"; do
  out=$(cd "$o" && pwd) || { fail "no build directory $o"; continue; }
  [ -f "$out/Makefile" ] && [ -f "$out/pyconfig.h" ] || { fail "$out is not configured (cross.sh --configure-only)"; continue; }
  tree=$out/cpython-src
  src=$(cat "$out/.cpython-src-from" 2>/dev/null)
  [ -n "$src" ] && [ -f "$src/Objects/obmalloc.c" ] || { fail "$out: no pristine source recorded in .cpython-src-from"; continue; }
  be=$out/be
  rm -rf "$be"; mkdir -p "$be"
  cc=$(mkvar "$out" CC)
  case $cc in
    arm-*gnueabihf-gcc*) target=armeb extra="-mbig-endian" ;;
    aarch64-*-gcc*)
      target=aarch64_be
      stubs=$("$cc" -print-sysroot 2>/dev/null)/usr/include/gnu/stubs-lp64.h
      [ -f "$stubs" ] || stubs=/usr/${cc%-gcc}/include/gnu/stubs-lp64.h
      mkdir -p "$be/shim/gnu" && cp "$stubs" "$be/shim/gnu/stubs-lp64_be.h" ||
        { fail "$out: no $stubs for the aarch64_be shim"; continue; }
      extra="-mbig-endian -isystem $be/shim" ;;
    *) fail "$out: CC is '$cc', not an ARM or aarch64 cross compiler"; continue ;;
  esac
  tool=${cc%-gcc}
  cc="$cc $extra"
  core=$(mkvar "$out" PY_CORE_CFLAGS)
  builtin=$(mkvar "$out" PY_BUILTIN_MODULE_CFLAGS)
  [ -n "$core" ] && [ -n "$builtin" ] || { fail "$out: no flags from its Makefile"; continue; }

  # the BE pyconfig.h
  sed -e 's|^/\* #  *undef WORDS_BIGENDIAN \*/$|#  define WORDS_BIGENDIAN 1|' \
      -e 's|^#define DOUBLE_IS_LITTLE_ENDIAN_IEEE754 1$|#define DOUBLE_IS_BIG_ENDIAN_IEEE754 1|' \
      "$out/pyconfig.h" > "$be/pyconfig.h"
  changed=$(diff "$out/pyconfig.h" "$be/pyconfig.h" | grep -c '^>')
  if [ "$changed" = 2 ] && grep -q '^#  define WORDS_BIGENDIAN 1' "$be/pyconfig.h" &&
     grep -q '^#define DOUBLE_IS_BIG_ENDIAN_IEEE754 1' "$be/pyconfig.h"; then
    pass "$target: BE pyconfig.h from $out/pyconfig.h (WORDS_BIGENDIAN, big-endian doubles)"
  else
    fail "$target: could not make pyconfig.h big-endian ($changed lines changed)"; continue
  fi
  echo "$target: $cc"

  for variant in mica vendored; do
    if [ $variant = mica ]; then vtree=$tree; c=$core; b=$builtin
    else
      vtree=$src
      # the same flags with the pristine tree in place of the copy
      c=$(echo "$core" | sed "s|$tree|$src|g"); b=$(echo "$builtin" | sed "s|$tree|$src|g")
    fi
    start=$(date +%s)
    strict=0; [ $variant = mica ] && strict=1
    compile_one "$target $variant" "$vtree" Objects/obmalloc.c "$c" ok "$strict"
    compile_one "$target $variant" "$vtree" Modules/_abc.c "$b" ok "$strict"
    compile_one "$target $variant" "$vtree" Python/pystate.c "$c" ok "$strict"
    echo "$target $variant: $(( $(date +%s) - start )) s"
  done

  if [ "$target" = armeb ]; then
    # negative control: a copy of the pristine Include/ whose atomic.h has
    # the pre-fix yield guards, in place of the pristine one in the flags
    neg=$be/pre-fix-gh-131675
    mkdir -p "$neg" && cp -R "$src/Include" "$neg/"
    a=Include/internal/mimalloc/mimalloc/atomic.h
    prefix_atomic "$src/$a" > "$neg/$a"
    if cmp -s "$src/$a" "$neg/$a"; then
      fail "armeb: the vendored atomic.h has no ARM yield guard to rewrite"
    else
      to_neg="s|$tree/Include|$neg/Include|g; s|$tree|$src|g"
      compile_one "armeb vendored-pre-fix" "$src" Objects/obmalloc.c "$(echo "$core" | sed "$to_neg")" fail 1 "$neg"
      compile_one "armeb vendored-pre-fix" "$src" Modules/_abc.c "$(echo "$builtin" | sed "$to_neg")" fail 1 "$neg"
    fi
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
