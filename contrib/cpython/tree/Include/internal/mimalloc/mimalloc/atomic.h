/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc/atomic.h", backed by mica: its include/mica/atomic.h
   (contrib/cpython/build.sh copies it to Include/internal/mimalloc/mica/). */
#ifndef MIMALLOC_ATOMIC_H
#define MIMALLOC_ATOMIC_H
#include "../mica/atomic.h"
#endif
