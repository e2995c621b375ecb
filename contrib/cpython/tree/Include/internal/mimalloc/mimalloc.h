/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc.h", backed by mica (contrib/cpython/build.sh
   puts it at Include/internal/mimalloc/mimalloc.h, with mica's headers next
   to it). Every CPython core file includes it through pycore_mimalloc.h,
   which first sets MI_DEBUG and the debug fill bytes. mica is embedded
   (MI_EMBED, doc/embedding.md): no mi_ symbol leaves libpython and malloc
   is not replaced. */
#ifndef MIMALLOC_H
#define MIMALLOC_H
#ifndef MI_EMBED
#define MI_EMBED 1
#endif
#include "mica.h"
#endif
