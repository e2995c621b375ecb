/* SPDX-License-Identifier: MIT */
/* Debian's arm64 glibc headers have no big-endian stubs file; the list of
   unimplemented functions is the same as for little-endian. */
#include <gnu/stubs-lp64.h>
