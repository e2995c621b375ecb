/* SPDX-License-Identifier: MIT */
/* mica's geometry: the sizes of segments, slices, pages and arenas, and the
   block sizes each kind of page takes. A header of its own so that tests
   and tools can state what they expect in these terms (types.h holds the
   data structures and does not mix with the public mimalloc-stats.h). */
#ifndef MICA_GEOMETRY_H
#define MICA_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>
#include "arch.h"

/* Follows the pointer size. A sliced segment has at most one slice per bit
   of a word (its slice map). On 64-bit, 2 MiB segments of 32 KiB slices:
   each size class a thread uses costs it a page, so smaller pages are what
   keeps threaded programs lean (doc/benchmarks.md, nineteenth session:
   peak RSS 0.59 times on bench-mstress, 0.75 on prodcons, at no cost in
   time). 32-bit targets keep 2 MiB segments of 64 KiB slices: 32 KiB
   slices there would need 1 MiB segments, which leave blocks above 512 KiB
   to huge segments (bench-churn, measured on 64-bit: 1.5 times the time). */
#if MI_INTPTR_SIZE == 8
#define MI_SEGMENT_SHIFT     21                      /* 2 MiB */
#define MI_SMALL_PAGE_SHIFT  15                      /* 32 KiB */
#define MI_ARENA_SHIFT       30                      /* 1 GiB reservations */
#define MI_SEGMENT_MAP_BITS_SHIFT 48                 /* user address space mapped by the segment map */
#else
#define MI_SEGMENT_SHIFT     21                      /* 2 MiB */
#define MI_SMALL_PAGE_SHIFT  16                      /* 64 KiB */
#define MI_ARENA_SHIFT       26                      /* 64 MiB reservations */
#define MI_SEGMENT_MAP_BITS_SHIFT 32
#endif
#define MI_MEDIUM_PAGE_SHIFT (MI_SMALL_PAGE_SHIFT + 2)  /* a medium page: a span of 4 slices (doc/benchmarks.md) */

#define MI_SEGMENT_SIZE      ((size_t)1 << MI_SEGMENT_SHIFT)
#define MI_SEGMENT_MASK      ((uintptr_t)MI_SEGMENT_SIZE - 1)
#define MI_SMALL_PAGE_SIZE   ((size_t)1 << MI_SMALL_PAGE_SHIFT)
#define MI_MEDIUM_PAGE_SIZE  ((size_t)1 << MI_MEDIUM_PAGE_SHIFT)
#define MI_SMALL_PAGES_PER_SEGMENT (MI_SEGMENT_SIZE / MI_SMALL_PAGE_SIZE)
#define MI_ARENA_SIZE        ((size_t)1 << MI_ARENA_SHIFT)
#define MI_ARENA_SEGMENTS    (MI_ARENA_SIZE / MI_SEGMENT_SIZE)
#define MI_MAX_ARENAS        128

#define MI_SMALL_OBJ_SIZE_MAX  (MI_SMALL_PAGE_SIZE / 4)    /* 8 KiB (64-bit), 16 KiB (32-bit) */
#define MI_MEDIUM_OBJ_SIZE_MAX (MI_MEDIUM_PAGE_SIZE / 4)   /* 32 KiB, 64 KiB */
#define MI_LARGE_OBJ_SIZE_MAX  (MI_SEGMENT_SIZE / 2)       /* 1 MiB; above: huge */
#define MI_SLICE_SHIFT         MI_SMALL_PAGE_SHIFT         /* sliced segments are split into slices of a small page */
#define MI_SLICE_SIZE          ((size_t)1 << MI_SLICE_SHIFT)
#define MI_MEDIUM_PAGE_SLICES  (MI_MEDIUM_PAGE_SIZE / MI_SLICE_SIZE)   /* a medium page's span */
#define MI_SLICES_PER_SEGMENT  (MI_SEGMENT_SIZE / MI_SLICE_SIZE)
#define MI_HUGE_ALIGN_MIN      (MI_SEGMENT_SIZE / 2)       /* alignments above this get their own segment */

#endif
