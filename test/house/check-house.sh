#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The house rules, checked on the built objects and the sources:
#   layers    every call between source files goes to the caller's layer, a
#             layer below, or a leaf, as doc/design.md's layer map says;
#             the only calls upward are the hooks in include/mica/hooks.h
#   names     an exported internal symbol of src/<mod>.c is _mi_<mod>,
#             _mi_<mod>_* or _mi_<mod>s_* (dashes as underscores), and is
#             used by another file (else it is static) or by a test
#   includes  only src/prim/ includes OS headers; prim includes no internal
#             header but prim.h, arch.h, atomic.h and hooks.h
#   atomics   every atomic field is x-prefixed, and atomics are touched only
#             through atomic.h's order-named wrappers
#   licence   every source, build and script file names its licence (SPDX)
#             in its first three lines
# usage: check-house.sh <section> <source-dir> <libmica.a> [nm]
# Prints "N passed, N failed" like the C tests; exits 1 on any failure.
set -uo pipefail   # so never `producer | grep -q`: grep's early exit fails the producer (SIGPIPE)
section=$1 src=$2 lib=${3:-} nm=${4:-nm}
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

# module of an archive member: "alloc-aligned.c.o" -> "alloc-aligned"
module_of() { local m=${1##*/}; m=${m%.o}; m=${m%.c}; echo "${m%.cpp}"; }

# "<module> <T|U> <symbol>" for every member of the archive. POSIX output
# ("lib.a[obj.o]: name type ..."), which GNU nm and llvm-nm print alike.
symbols() {
  "$nm" -A -P "$lib" 2>/dev/null | awk '{
    obj = $1; sub(/^.*\[/, "", obj); sub(/\]:$/, "", obj);
    if ($3 == "U") print obj, "U", $2; else if ($3 ~ /^[TDBRVW]$/) print obj, "D", $2 }' |
  while read -r obj kind sym; do echo "$(module_of "$obj") $kind $sym"; done
}

# the layer map: the fenced block after <!-- layers --> in doc/design.md,
# one layer per line, top first: "<name>: <module> <module> ..."
declare -A layer_of
leaves=""
read_layers() {
  local n=0
  while IFS= read -r line; do
    local name=${line%%:*} mods=${line#*:}
    [ "$name" = "$line" ] && continue
    for m in $mods; do
      if [ "$name" = "leaves" ]; then layer_of[$m]=leaf; leaves="$leaves $m"; else layer_of[$m]=$n; fi
    done
    n=$((n + 1))
  done < <(awk '/<!-- layers -->/ { f = 1; next } f && /^```/ { if (inb) exit; inb = 1; next } inb { print }' "$src/doc/design.md")
  [ ${#layer_of[@]} -gt 10 ] || { fail "no layer map found in doc/design.md"; return 1; }
}

check_layers() {
  read_layers || return
  local hooks
  hooks=$(grep -oE '\b_mi_[a-z0-9_]+\(' "$src/include/mica/hooks.h" | tr -d '(' | sort -u)
  [ -n "$hooks" ] || fail "no hooks found in include/mica/hooks.h"
  local syms; syms=$(symbols)
  [ -n "$syms" ] || { fail "nm read no symbols from $lib"; return; }
  declare -A def
  while read -r mod kind sym; do [ "$kind" = D ] && def[$sym]=$mod; done <<< "$syms"
  # every module that has an object is on the map
  for mod in $(echo "$syms" | awk '{print $1}' | sort -u); do
    [ -n "${layer_of[$mod]:-}" ] && pass || fail "src module $mod is not on the layer map in doc/design.md"
  done
  local edges=0
  while read -r mod kind sym; do
    [ "$kind" = U ] || continue
    local to=${def[$sym]:-}
    [ -n "$to" ] && [ "$to" != "$mod" ] || continue
    edges=$((edges + 1))
    local lf=${layer_of[$mod]:-} lt=${layer_of[$to]:-}
    [ -n "$lf" ] && [ -n "$lt" ] || continue
    local ok=0
    if [ "$lt" = leaf ] || [ "$to" = prim ]; then ok=1                      # leaves and prim: callable from everywhere
    elif [ "$lf" = leaf ]; then ok=0                                        # a leaf calls only leaves and prim
    elif [ "$lt" -ge "$lf" ]; then ok=1                                     # own layer or below
    fi
    if [ $ok = 0 ] && grep -qx -- "$sym" <<< "$hooks"; then ok=1; fi
    [ $ok = 1 ] && pass || fail "$mod (layer ${lf}) calls $sym in $to (layer ${lt}): upward, and not a hook in hooks.h"
  done <<< "$syms"
  [ $edges -gt 50 ] || fail "only $edges calls between files found: the object walk is broken"
  # every hook is really used upward (no stale entries)
  for h in $hooks; do
    grep -q " U $h\$" <<< "$syms" && pass || fail "hook $h in hooks.h is called by no file"
  done
}

check_names() {
  local syms; syms=$(symbols)
  [ -n "$syms" ] || { fail "nm read no symbols from $lib"; return; }
  local tests; tests=$(cat "$src"/test/*/*.c "$src"/test/*/*.cpp 2>/dev/null)
  local n=0
  while read -r mod kind sym; do
    [ "$kind" = D ] || continue
    case $sym in _mi_*) ;; *) continue ;; esac
    n=$((n + 1))
    local m=${mod//-/_}
    case $sym in
      "_mi_$m" | "_mi_${m}_"* | "_mi_${m}s_"*) pass ;;
      *) fail "$sym is defined in $mod but not named _mi_${m}_*" ;;
    esac
    # used by another object, by a test, or (in some configuration: debug
    # builds, C-only builds, no thread pointer) by another source file or
    # by an inline or macro of an internal header
    if echo "$syms" | awk -v s="$sym" -v m="$mod" '$2 == "U" && $3 == s && $1 != m { found = 1 } END { exit !found }'; then pass
    elif grep -qw -- "$sym" <<< "$tests"; then pass
    elif { find "$src/src" \( -name '*.c' -o -name '*.cpp' \) -exec grep -lw -- "$sym" {} + || true; } | grep -v "/$mod\.c" | grep . >/dev/null; then pass
    elif grep -hw -- "$sym" "$src"/include/mica/*.h |
         grep -vE "^\s*(extern |mi_decl_[a-z]+ )*[A-Za-z_][A-Za-z_0-9]*[ *]+$sym\s*(\(.*\)|\[\]);" | grep . >/dev/null; then pass
    else fail "$sym ($mod) is used in its own file only: make it static"; fi
  done <<< "$syms"
  [ $n -gt 80 ] || fail "only $n internal symbols found: the object walk is broken"
}

check_includes() {
  local f inc
  local std='^(assert|ctype|errno|inttypes|limits|stdalign|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|string|wchar|new|cstddef|cstdlib|exception)\.h$|^(new|cstddef|cstdlib|exception|atomic)$'
  # the memory checkers' client interfaces, in track.h only
  local checker='^(valgrind/(valgrind|memcheck)|sanitizer/asan_interface)\.h$'
  for f in $(cd "$src" && ls src/*.c src/*.h src/*.cpp src/override/* include/mica/*.h 2>/dev/null); do
    for inc in $(grep -oE '^#include <[^>]+>' "$src/$f" | sed 's/#include <\(.*\)>/\1/'); do
      if [[ $inc =~ $std ]]; then pass
      elif [[ $inc =~ $checker ]]; then
        [[ $f == include/mica/track.h ]] && pass || fail "$f includes <$inc>: a memory checker's header belongs in include/mica/track.h"
      else fail "$f includes <$inc>: OS and libc headers belong in src/prim/"; fi
    done
  done
  for f in "$src"/src/prim/*.c; do
    for inc in $(grep -oE '^#include "[^"]+"' "$f" | sed 's/#include "\(.*\)"/\1/'); do
      case $inc in
        mica/prim.h | mica/arch.h | mica/atomic.h | mica/hooks.h | features.h | mica/config.h) pass ;;
        *) fail "${f#$src/} includes \"$inc\": prim sees only prim.h, arch.h, atomic.h and hooks.h" ;;
      esac
    done
  done
  for f in prim.h arch.h atomic.h hooks.h config.h; do   # what prim sees must not pull the rest in
    for inc in $(grep -oE '^#include "[^"]+"' "$src/include/mica/$f" | sed 's/#include "\(.*\)"/\1/'); do
      case $inc in config.h | arch.h) pass ;; *) fail "include/mica/$f includes \"$inc\"" ;; esac
    done
  done
}

check_atomics() {
  local line
  # fields declared with mi_atomic(...) inside structs carry an x prefix
  while IFS= read -r line; do
    local name; name=$(echo "$line" | sed -E 's/.*mi_atomic\([^)]*\) *([A-Za-z_0-9]+).*/\1/')
    [[ $name == x* ]] && pass || fail "atomic field '$name' has no x prefix: $line"
  done < <(grep -hE '^\s+((_Alignas|mi_alignas)\([A-Z_]+\) )?mi_atomic\(' "$src"/include/mica/types.h)
  # raw C11 atomics only in atomic.h
  while IFS= read -r line; do
    fail "raw C11 atomic outside include/mica/atomic.h: $line"
  done < <(grep -nE '\batomic_[a-z_]+(_explicit)?\(|__atomic_|__sync_' "$src"/src/*.c "$src"/src/*/*.c "$src"/include/mica/*.h | grep -v 'include/mica/atomic.h')
  pass
}

check_licence() {
  local f n=0
  while IFS= read -r f; do
    n=$((n + 1))
    head -n 3 "$f" | grep 'SPDX-License-Identifier: MIT' >/dev/null && pass || fail "${f#$src/} has no SPDX-License-Identifier: MIT line at its top"
  done < <(find "$src/src" "$src/include" "$src/test" "$src/bench" "$src/bin" "$src/cmake" "$src/.ci" "$src/CMakeLists.txt" -type f \
             \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.sh' -o -name '*.py' -o -name '*.cmake' \
                -o -name '*.in' -o -name '*.list' -o -name 'CMakeLists.txt' -o -name run -o -name mica-run -o -name '*-gcc' \))
  [ $n -gt 100 ] || fail "only $n files found: the walk is broken"
  [ -f "$src/LICENSE" ] && grep -q '^MIT License' "$src/LICENSE" && pass || fail "no MIT LICENSE file"
}

case $section in
  licence) check_licence ;;
  layers) check_layers ;;
  names) check_names ;;
  includes) check_includes ;;
  atomics) check_atomics ;;
  *) echo "unknown section $section" >&2; exit 2 ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
