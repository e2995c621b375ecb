/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc/types.h", backed by mica: its include/mica/types.h
   (contrib/cpython/build.sh copies it to Include/internal/mimalloc/mica/). */
#ifndef MIMALLOC_TYPES_H
#define MIMALLOC_TYPES_H
#include "../mica/types.h"
#endif
