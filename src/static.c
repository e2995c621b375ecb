/* SPDX-License-Identifier: MIT */
/* The whole allocator as one translation unit: built as mica.o for a
   static whole-program override, or compiled into a larger build (as
   CPython vendors its allocator). The only file that includes .c files. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "prim/prim.c"
#include "options.c"
#include "message.c"
#include "stats.c"
#include "stats-print.c"
#include "random.c"
#include "os.c"
#include "bitmap.c"
#include "arena.c"
#include "segment-map.c"
#include "segment.c"
#include "bin.c"
#include "page-queue.c"
#include "page.c"
#include "heap.c"
#include "alloc.c"
#include "alloc-aligned.c"
#include "alloc-posix.c"
#include "free.c"
#include "guarded.c"
#include "alloc-new.c"
#include "compat.c"
#include "process.c"
#include "thread.c"
#include "override/override.c"
#include "override/override-global.c"
