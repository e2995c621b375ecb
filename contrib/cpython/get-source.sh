#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch CPython's source from Debian 13 ("trixie") and unpack the pristine
# upstream tree at DIR (so that DIR/configure exists).
#
# usage: contrib/cpython/get-source.sh DIR
#
# The system's apt configuration is left alone: a private sources file with
# one deb-src stanza (the mirror URI read from the system's own
# /etc/apt/sources.list.d/debian.sources at run time) and private package
# lists, both under the cache directory. The orig tarball's sha256 is checked
# against the .dsc (whose signature apt has checked through the Release file).
#
# Cache: $MICA_CACHE if set, else DIR/../cache. The tarball stays there, out
# of any repository. Idempotent: a second run with DIR unpacked from the same
# tarball does nothing; a cached, verified tarball is not downloaded again.
#
# Environment: MICA_CPYTHON_PKG (default python3.13), MICA_DEBIAN_SUITE
# (default trixie).
set -eu

die() { echo "get-source: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
pkg=${MICA_CPYTHON_PKG:-python3.13}
suite=${MICA_DEBIAN_SUITE:-trixie}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cache=${MICA_CACHE:-$dir/../cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
apt_dir=$cache/apt-$suite
out=$cache/$pkg

# the orig tarball named by the .dsc in $out, and its sha256 there
dsc_file() { ls "$out"/"${pkg}"_*.dsc 2>/dev/null | head -n 1; }
orig_of() { awk '/^Checksums-Sha256:/ { f = 1; next } /^[^ ]/ { f = 0 } f && $3 ~ /\.orig\.tar\./ { print $3; exit }' "$1"; }
sha_of() { awk -v n="$2" '/^Checksums-Sha256:/ { f = 1; next } /^[^ ]/ { f = 0 } f && $3 == n { print $1; exit }' "$1"; }

verified() {
  dsc=$(dsc_file)
  [ -n "$dsc" ] || return 1
  orig=$(orig_of "$dsc")
  [ -n "$orig" ] && [ -f "$out/$orig" ] || return 1
  want=$(sha_of "$dsc" "$orig")
  have=$(sha256sum "$out/$orig" | cut -d' ' -f1)
  [ -n "$want" ] && [ "$want" = "$have" ]
}

if ! verified; then
  src_list=/etc/apt/sources.list.d/debian.sources
  [ -r "$src_list" ] || die "$src_list not readable: no Debian mirror to use"
  uri=$(awk '/^URIs:/ { print $2; exit }' "$src_list")
  [ -n "$uri" ] || die "no URIs: line in $src_list"
  mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$out"
  cat > "$apt_dir/parts/$suite-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  set -- -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/parts" \
         -o "Dir::State::Lists=$apt_dir/lists"
  echo "get-source: apt-get update ($suite deb-src from $uri, private lists in $apt_dir)"
  apt-get -q "$@" update >"$apt_dir/update.log" 2>&1 || { cat "$apt_dir/update.log" >&2; die "apt-get update failed"; }
  echo "get-source: apt-get source --download-only $pkg"
  (cd "$out" && apt-get -q "$@" source --download-only "$pkg") >"$apt_dir/source.log" 2>&1 ||
    { cat "$apt_dir/source.log" >&2; die "apt-get source failed"; }
  verified || die "sha256 of the orig tarball in $out does not match its .dsc"
fi
dsc=$(dsc_file)
orig=$(orig_of "$dsc")
echo "get-source: $orig: sha256 matches $(basename "$dsc")"

# Unpack unless DIR already holds this very tarball's tree.
stamp=$dir/.mica-source
if [ -f "$dir/configure" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$orig $have" ]; then
  echo "get-source: $dir already unpacked from $orig"
  exit 0
fi
[ -z "$(ls -A "$dir")" ] || [ -f "$stamp" ] || die "$dir is not empty and was not made by this script"
find "$dir" -mindepth 1 -delete
tar -xf "$out/$orig" -C "$dir" --strip-components=1
[ -f "$dir/configure" ] || die "no configure in the unpacked tree"
echo "$orig $have" > "$stamp"
echo "get-source: unpacked to $dir"
