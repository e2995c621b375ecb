/* SPDX-License-Identifier: MIT */
/* What the C library beneath mica provides, as 0/1 values for the layers
   above (the only libc knowledge outside src/prim/prim.c). */
#ifndef MICA_PRIM_FEATURES_H
#define MICA_PRIM_FEATURES_H

#include "mica/config.h"

/* glibc's internal allocator names (__libc_malloc, ...), which legacy code
   and some glibc internals call; musl has none. */
#define MI_PRIM_HAS_LIBC_ALLOC_NAMES  (MI_LIBC_MUSL == 0)

/* glibc's allocator introspection (mallinfo, mallinfo2, malloc_trim,
   malloc_stats, mallopt), which programs call to ask their allocator. */
#define MI_PRIM_HAS_MALLOC_INTROSPECTION  (MI_LIBC_MUSL == 0)

#endif
