/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc/prim.h", backed by mica: its include/mica/prim.h
   (contrib/cpython/build.sh copies it to Include/internal/mimalloc/mica/). */
#ifndef MIMALLOC_PRIM_H
#define MIMALLOC_PRIM_H
#include "../mica/prim.h"
#endif
