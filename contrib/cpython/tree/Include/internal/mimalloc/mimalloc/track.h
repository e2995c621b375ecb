/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc/track.h", backed by mica: its include/mica/track.h
   (contrib/cpython/build.sh copies it to Include/internal/mimalloc/mica/). */
#ifndef MIMALLOC_TRACK_H
#define MIMALLOC_TRACK_H
#include "../mica/track.h"
#endif
