/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc.h", backed by mica. contrib/cpython/build.sh
   puts mica's headers in Include/internal/mimalloc/mimalloc/ (so CPython's
   "mimalloc/mimalloc/types.h", "internal.h", ... are mica's own files, and
   `make install` copies every header mica needs) with a symlink "mica" to
   that directory for mica's sources. Every CPython core file includes this
   through pycore_mimalloc.h, which first sets MI_DEBUG and the debug fill
   bytes. mica is embedded (MI_EMBED, doc/embedding.md): no mi_ symbol leaves
   libpython and malloc is not replaced. */
#ifndef MIMALLOC_H
#define MIMALLOC_H
#ifndef MI_EMBED
#define MI_EMBED 1
#endif
#include "mimalloc/mica.h"
#endif
