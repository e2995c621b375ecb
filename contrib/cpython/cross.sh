#!/bin/sh
# SPDX-License-Identifier: MIT
# Cross-build CPython with mica for a Debian cross target, to run under
# qemu-user.
#
# usage: contrib/cpython/cross.sh [--build-python=PY] [--disable-gil] [--vendored]
#                                 [--configure-only] TRIPLE SRC OUT
#
# TRIPLE is a Debian cross triple with a compiler and a C library in
# /usr/TRIPLE (tested: arm-linux-gnueabihf, aarch64-linux-gnu; packages
# gcc-<triple>, libc6-dev-<arch>-cross, qemu-user). SRC and OUT are as for
# build.sh, which does the work: this script only adds the cross configure
# arguments (--host, --build, --with-build-python and the answers configure
# cannot find out without running a target program) to CONFIGURE_ARGS.
#
# PY, the build python, must be a CPython of the same version (3.13) that
# runs here, e.g. a native contrib/cpython/build.sh OUT/python; default
# python3.13 on PATH.
#
# Then OUT/python-qemu runs the target python under qemu-user: a shell
# script in OUT (so the interpreter finds its build directory through
# OUT/pybuilddir.txt) that starts qemu with the target's library prefix
# and hands the guest its own path as argv[0], so sys.executable is the
# script and a test's child interpreter runs under qemu too. No binfmt_misc
# registration is needed. QEMU_CPU picks the emulated CPU (default:
# cortex-a9 for arm, cortex-a53 for aarch64, as mica's own CI legs).
#
# Extension modules whose libraries the target lacks (no multiarch :armhf
# or :arm64 libraries are installed) are left out; configure finds nothing
# for the target through pkg-config (PKG_CONFIG_LIBDIR is the target's own,
# usually empty, directory).
set -eu

die() { echo "cross: $*" >&2; exit 1; }

build_python=python3.13
pass=""
while [ $# -gt 0 ]; do
  case $1 in
    --build-python=*) build_python=${1#--build-python=}; shift ;;
    --disable-gil|--vendored|--configure-only) pass="$pass $1"; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -eq 3 ] || die "usage: $0 [--build-python=PY] [--disable-gil] [--vendored] [--configure-only] TRIPLE SRC OUT"
triple=$1 src=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)

command -v "$triple-gcc" >/dev/null || die "no $triple-gcc (apt-get install gcc-$triple)"
sysroot=/usr/$triple
[ -d "$sysroot/lib" ] || die "no target C library in $sysroot (libc6-dev-*-cross)"
case $triple in
  arm*) qemu=qemu-arm cpu=${QEMU_CPU:-cortex-a9} ;;
  aarch64*) qemu=qemu-aarch64 cpu=${QEMU_CPU:-cortex-a53} ;;
  *) die "no qemu known for $triple (add it here)" ;;
esac
qemu_path=$(command -v "$qemu") || die "no $qemu (apt-get install qemu-user)"
bp=$(command -v "$build_python") || die "build python $build_python not found"
ver=$("$bp" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || die "$bp does not run"
want=$(sed -n 's/^PACKAGE_VERSION=.\([0-9.]*\).$/\1/p' "$src/configure")
[ "$ver" = "$want" ] || die "build python $bp is $ver, the source is $want"

# ac_cv_file__dev_ptmx/_ptc: configure refuses to guess them when cross
# compiling (a Linux target has /dev/ptmx, never /dev/ptc);
# ac_cv_buggy_getaddrinfo=no: its check runs a target program.
CONFIGURE_ARGS="--host=$triple --build=$(gcc -dumpmachine) --with-build-python=$bp \
ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no ${CONFIGURE_ARGS:-}"
export CONFIGURE_ARGS
PKG_CONFIG_LIBDIR=/usr/lib/$triple/pkgconfig
export PKG_CONFIG_LIBDIR
echo "cross: $triple, build python $bp ($ver)"
# shellcheck disable=SC2086 # $pass is a list of options
"$here/build.sh" $pass "$src" "$out"

out=$(cd "$out" && pwd)
case $pass in *--configure-only*) exit 0 ;; esac
cat > "$out/python-qemu" <<EOF
#!/bin/sh
# Written by contrib/cpython/cross.sh: the $triple python under qemu-user.
exec "\${QEMU:-$qemu_path}" -cpu "\${QEMU_CPU:-$cpu}" -L $sysroot -0 "\$0" "$out/python" "\$@"
EOF
chmod +x "$out/python-qemu"
v=$("$out/python-qemu" -c 'import sys, platform; print(platform.machine(), sys.executable)') ||
  die "$out/python-qemu does not run"
echo "cross: $out/python-qemu runs: $v"
