/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc/internal.h", backed by mica: its include/mica/internal.h
   (contrib/cpython/build.sh copies it to Include/internal/mimalloc/mica/). */
#ifndef MIMALLOC_INTERNAL_H
#define MIMALLOC_INTERNAL_H
#include "../mica/internal.h"
#endif
