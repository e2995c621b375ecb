/* SPDX-License-Identifier: MIT */
/* mica's data structures and their invariants.

   Layering: a heap (per thread) owns pages; pages live inside segments;
   segments are carved from arenas (or come straight from the OS).

     arena    a large reservation, split into segment-sized units
     segment  MI_SEGMENT_SIZE aligned; header + page descriptors + pages
     page     blocks of one size; three free lists (see mi_page_t)
     heap     per thread: page queues per size class (bin)

   Ownership rule: every non-atomic field of a heap, its pages and its
   segments is read and written only by the owning thread (the thread whose
   id is in segment->xthread_id). Other threads touch only the fields marked
   `x...` (atomic), with the orderings stated next to each. */
#ifndef MICA_TYPES_H
#define MICA_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "config.h"
#include "arch.h"
#include "atomic.h"
#include "mica.h"   /* by name, not "../": an embedder may keep mica.h next to this file (doc/embedding.md) */

#include "geometry.h"

#define MI_ALIGNMENT_MAX       ((size_t)1 << 30)                 /* 1 GiB; on 32-bit such a request may fail with ENOMEM */
#define MI_MAX_ALLOC_SIZE      ((size_t)PTRDIFF_MAX)
/* MI_PADDING (config.h): every block has room after the requested bytes
   for a 4-byte canary and, in its last bytes, the distance from the
   canary's end to them (internal.h, "padding") */
#if MI_PADDING
#define MI_PADDING_SIZE        (sizeof(uint32_t) + sizeof(size_t))
#else
#define MI_PADDING_SIZE        ((size_t)0)
#endif

/* Fundamental alignment (C17 7.22.3): a block of at least this many bytes
   must be aligned to it, a smaller one to the largest power of two that
   fits (16 on x86-64, i686 and aarch64; 8 on 32-bit ARM and s390x). C++'s
   __STDCPP_DEFAULT_NEW_ALIGNMENT__ is the same (override-new.cpp checks). */
#define MI_MAX_ALIGN_SIZE    ((size_t)mi_alignof(max_align_t))

/* The alignment a block of at least that many bytes has: the fundamental
   one, unless an embedder asks for less (MI_BLOCK_ALIGN in config.h). */
#define MI_BLOCK_ALIGN_SIZE  (MI_BLOCK_ALIGN != 0 ? (size_t)MI_BLOCK_ALIGN : MI_MAX_ALIGN_SIZE)

/* Size classes: granules of 8 bytes. Exact classes up to 128 bytes, in steps
   of 8 up to MI_BIN_STEP and of MI_BIN_STEP after it, so every class size
   keeps blocks aligned to MI_BLOCK_ALIGN_SIZE (page areas start 4 KiB aligned); then
   8 classes per power of two (multiples of 16) up to MI_BIN_FINE_MAX, so
   internal waste is at most 1/9 (11%), and 4 beyond it, at most 1/5: each
   class a thread uses costs it a page (doc/design.md). MI_BIN_EXACT is the
   last exact bin: 16 with 8-byte steps, 9 with 16-byte ones (8, 16, 32,
   48, ..., 128). */
#define MI_GRANULE_SHIFT     3
#define MI_GRANULE_SIZE      ((size_t)1 << MI_GRANULE_SHIFT)
#define MI_BIN_STEP          (MI_BLOCK_ALIGN_SIZE > MI_GRANULE_SIZE ? MI_BLOCK_ALIGN_SIZE : MI_GRANULE_SIZE)
#define MI_BIN_STEP_GRANULES (MI_BIN_STEP / MI_GRANULE_SIZE)
#define MI_BIN_EXACT         (MI_BIN_STEP_GRANULES - 1 + 128 / MI_BIN_STEP)
#define MI_BIN_FINE_MAX      512   /* the largest size with 8 classes per power of two */
/* an unsigned int, as mimalloc's (embedders print it with %u) */
#define MI_BIN_HUGE          ((unsigned)((((MI_SEGMENT_SHIFT - 1 - MI_GRANULE_SHIFT) - 1 - 4) << 3) + 7 + (MI_BIN_EXACT + 1) + 1))
#define MI_BIN_FULL          (MI_BIN_HUGE + 1)
#define MI_FULL_QUEUE_SIZE   (MI_LARGE_OBJ_SIZE_MAX + 2 * MI_GRANULE_SIZE)  /* pseudo block size of the full queue */
/* malloc fast path: one page pointer per request size up to
   MI_SMALL_SIZE_MAX, so the size is the index as it is (per granule, the
   fast path rounded and shifted it: 2 of its 16 instructions). The table
   is 8 KiB on 64-bit where it was 1 KiB (doc/benchmarks.md, twelfth
   session). */
#define MI_DIRECT_SHIFT      0
#define MI_DIRECT_UNIT       ((size_t)1 << MI_DIRECT_SHIFT)
#define MI_PAGES_DIRECT      (MI_SMALL_SIZE_MAX / MI_DIRECT_UNIT + 1)

#define MI_HUGE_BLOCK_SIZE   UINT32_MAX   /* xblock_size of huge pages: the size is the page area's */
#define MI_MAX_EXTEND_SIZE   (4 * 1024)   /* bytes of free list built at a time (touches memory lazily) */
#define MI_MIN_EXTEND        1

mi_static_assert(MI_SMALL_PAGES_PER_SEGMENT <= MI_INTPTR_BITS, "segment purge mask holds a bit per page");
mi_static_assert(MI_SLICES_PER_SEGMENT <= MI_INTPTR_BITS, "a sliced segment's slice map is one word");
mi_static_assert(MI_ARENA_SEGMENTS % MI_INTPTR_BITS == 0 || MI_ARENA_SEGMENTS < MI_INTPTR_BITS, "arena bitmaps are whole words");
mi_static_assert(MI_LARGE_OBJ_SIZE_MAX >= MI_MEDIUM_OBJ_SIZE_MAX, "size classes are ordered");
mi_static_assert((MI_MAX_ALIGN_SIZE & (MI_MAX_ALIGN_SIZE - 1)) == 0 && MI_MAX_ALIGN_SIZE <= 16, "exact classes step by the fundamental alignment");
mi_static_assert((MI_BLOCK_ALIGN_SIZE & (MI_BLOCK_ALIGN_SIZE - 1)) == 0 && MI_BLOCK_ALIGN_SIZE <= 16, "exact classes step by the block alignment");

/* ---------------------------------------------------------------------------
   Blocks: a free block holds the (optionally encoded) pointer to the next.
--------------------------------------------------------------------------- */
typedef uintptr_t mi_encoded_t;
typedef struct mi_block_s {
  mi_encoded_t next;
} mi_block_t;

/* The two low bits of page->xthread_free: what a cross-thread free must do
   while the owner has the page in its "full" queue. */
typedef enum mi_delayed_e {
  MI_USE_DELAYED_FREE   = 0, /* push the block on the owner heap's xthread_delayed_free list */
  MI_DELAYED_FREEING    = 1, /* a freeing thread is doing that right now (transient) */
  MI_NO_DELAYED_FREE    = 2, /* push on the page's thread-free list */
  MI_NEVER_DELAYED_FREE = 3  /* as 2, and never change it: abandoned pages (and those of a heap going away) */
} mi_delayed_t;

/* page->xflags bits. Written by the owner only; read by freeing threads
   (a remote free reads MI_PAGE_HAS_ALIGNED, which was set before any block
   it concerns was handed out), so the byte is a relaxed atomic. */
#define MI_PAGE_IN_FULL      0x01   /* page is in the heap's full queue */
#define MI_PAGE_HAS_ALIGNED  0x02   /* some block was handed out at an interior (aligned) pointer */
#define MI_PAGE_UNUSED       0x04   /* no page: an unclaimed unit or slice (frees into it take the slow path, which reports them) */
#define MI_PAGE_GUARDED      0x08   /* one sampled block against a guard page (guarded.c); set with HAS_ALIGNED */

/* The list node in each page descriptor that an embedder's page-reuse hooks
   use (qsbr_node). An embedder may name its own type of two pointers with
   MI_PAGE_NODE_T (CPython: struct llist_node). */
typedef struct mi_page_node_s {
  struct mi_page_node_s* next;
  struct mi_page_node_s* prev;
} mi_page_node_t;
#ifndef MI_PAGE_NODE_T
#define MI_PAGE_NODE_T mi_page_node_t
#endif

/* ---------------------------------------------------------------------------
   Page: blocks of one size class in one contiguous area.

   Three free lists, so that the malloc and same-thread free fast paths need
   no atomic operation:
     free         blocks ready to allocate, and the  (owner only)
                  blocks the owner frees (pushed on
                  at once: LIFO reuse, and malloc's
                  fast path never has to switch lists)
     local_free   blocks collected from xthread_free (owner only)
     xthread_free blocks freed by other threads      (any thread; CAS push,
                  owner takes all with one exchange)
   `used` counts blocks handed out, less those the owner has counted back:
   its own frees at once, other threads' through xthread_freed, which the
   owner takes before the list (so a block it counts is on a list it has
   taken). A pusher counts a moment after its push, so the owner may take a
   block before its count arrives: `used` then counts it until the next
   collect, even if it is handed out again meanwhile (never over
   2 * capacity). Too high for a moment delays a page's retirement; it is
   never too low, which would free a page with a block in use.
   Invariants (owner's view, at any point between operations; checked by
   _mi_page_is_valid, which says which it can see consistently):
     used >= capacity - |free| - |local_free|, with equality once every
            pusher's count is taken (blocks other threads freed, on
            thread_free or the heap's delayed-free list, count as handed
            out until the owner collects them)
     |thread_free| + |its blocks on the heap's delayed-free list| <= used
     capacity <= reserved;  block_size * reserved <= page area size
     each block on the three lists is in [start, start + capacity * block_size),
       at a block boundary, on one list only
     xflags & MI_PAGE_IN_FULL  <=>  page is in heap->pages[MI_BIN_FULL]
     in the full queue and (xthread_free & 3) == MI_NO_DELAYED_FREE  =>
       xdelayed_block, a block of the page, is on the heap's delayed-free
       list (the freeing thread put it there first; _mi_heap_is_valid
       checks this one)
     xheap == NULL (abandoned)  =>  in no queue, MI_NEVER_DELAYED_FREE
     xfast_tid == (xflags == 0 ? segment's xthread_id : 0)  (whenever the
       owner is not between the two stores of mi_page_set_flag)
   Writers: segment_* fields by the segment owner at page claim/release;
   xheap by the owner (release), read by freeing threads (acquire);
   xthread_free by anyone (CAS release) and the owner (exchange acq_rel);
   xthread_freed by pushers (add acq_rel) and the owner (exchange acq_rel);
   xdelayed_block by the pusher onto the delayed-free list (release) and
   the owner (relaxed).
--------------------------------------------------------------------------- */
typedef struct mi_page_s {
  /* set by the segment; the fields the fast paths use share the first of
     the descriptor's two cache lines */
  mi_alignas(MI_CACHE_LINE) uint8_t segment_idx;   /* index in segment->pages */
  uint8_t   segment_in_use : 1;  /* handed to a heap */
  uint8_t   is_zero_init : 1;    /* blocks not yet carved are known to be zero */
  uint8_t   is_purged : 1;       /* memory was returned to the OS since last use */
  uint8_t   retire_expire : 5;   /* >0: empty but kept for this many more collections (never in the full queue) */
  /* owner heap */
  mi_atomic(uint8_t) xflags;     /* MI_PAGE_IN_FULL | HAS_ALIGNED | UNUSED | GUARDED: the free fast path tests all at once */
  uint8_t   slice_offset;        /* sliced segments: >0 in the continuation slices of a span (distance to its page) */
  uint16_t  capacity;            /* blocks carved into lists so far */
  uint16_t  reserved;            /* blocks that fit in the page */
  uint16_t  used;                /* blocks handed out, less those counted back (see above) */
  uint8_t   heap_tag;            /* tag of the heap that owns it (kept while abandoned: reclaim and visits match it) */
  uint8_t   slice_count;         /* sliced segments: the slices of the page's span (0 in continuation slices) */
  uint32_t  xblock_size;         /* block size; MI_HUGE_BLOCK_SIZE in huge pages (use mi_page_block_size) */
  mi_block_t* free;
  mi_block_t* local_free;
#if MI_SECURE
  uintptr_t keys[2];             /* free-list pointer encoding */
#endif
  mi_atomic(uintptr_t) xthread_free;  /* mi_block_t* | mi_delayed_t in the low 2 bits */
  mi_atomic(uintptr_t) xheap;         /* mi_heap_t* of the owner heap, 0 when abandoned */
  /* the thread whose frees into this page may take the fast path: the
     segment owner's id while no xflags bit is set, else 0, so the free fast
     path tests owner and flags with one load (as mimalloc 3's page
     xthread_id). Written by the segment's owner, or by the thread that
     reclaims the segment, with its xthread_id (mi_page_fast_tid_update). */
  mi_atomic(uintptr_t) xfast_tid;
  /* the block a freeing thread put on the owner heap's delayed-free list
     (one at a time: that push ends in MI_NO_DELAYED_FREE), 0 when none: set
     by that thread before its push (release), cleared by the owner as it
     takes the block off. A second free of the block is found by comparing
     with it, so no thread walks the heap's list: its other blocks lie in
     pages the owner may free at any moment, whose memory may then become
     inaccessible (a guard page, a decommit). */
  mi_atomic(uintptr_t) xdelayed_block;
  /* blocks pushed onto xthread_free and not yet subtracted from `used`:
     each pusher adds 1 (acq_rel) after its push, the owner takes the count
     (exchange, before it takes the list), so the owner never walks the
     list it takes to count it. On the line of xthread_free. */
  mi_atomic(uint16_t) xthread_freed;
  /* Runtime support (doc/embedding.md, "Runtime support"): set at page init
     from the heap; mica reads them on slow paths only. qsbr_goal and
     qsbr_node belong to the embedder's page-reuse hooks: mica never writes
     them and checks both are clear when it gives a page back. Owner only. */
  uint8_t   use_qsbr;            /* the heap's page_use_qsbr: once empty, the page is given back only through the hooks */
  uint8_t   debug_offset;        /* the heap's debug_offset: debug fills leave a block's first bytes alone */
  struct mi_page_s* next;        /* in its heap page queue */
  struct mi_page_s* prev;
  uint64_t  qsbr_goal;           /* embedder's: grace period the empty page waits for (0: none) */
  MI_PAGE_NODE_T qsbr_node;      /* embedder's: links the page into its list of pages waiting for their goal */
} mi_page_t;

/* ---------------------------------------------------------------------------
   Segment: MI_SEGMENT_SIZE aligned (so a block's segment is found by masking
   its address), header first, then the page areas. A huge segment holds one
   block and may be larger than MI_SEGMENT_SIZE; every pointer handed out
   from it still lies in (segment, segment + MI_SEGMENT_SIZE], which is why
   _mi_ptr_segment masks `p - 1` (see doc/design.md, huge alignment).
   Invariants (checked by _mi_segment_is_valid):
     used <= capacity;  abandoned <= used;  used == pages (sliced: spans) in use
     xthread_id == 0  <=>  segment is on the abandoned list (both change
                           under the abandoned lock)
     tld != NULL (owned)  =>  in tld's free queue of its kind <=> a unit is free
     purge_mask | purge_due  names free units only;  commit_mask covers units in use
     dirty_mask == the free units with !is_zero_init (0 in huge segments)
     guard_mask (MI_SECURE 3, sliced) within commit_mask: the
                  last unit of each page in use that has a guard, none of
                  its other units; free units keep theirs (segment.c)
     page_kind == HUGE  =>  capacity == 1
     page_kind == SLICED =>  capacity == MI_SLICES_PER_SEGMENT, a page is a span of
                            slices [i, i+n), n == pages[i].slice_count (a small page:
                            1), with bits i..i+n-1 set in slice_map (bit 0: the
                            header), pages[i] its descriptor and pages[i+k]
                            continuation descriptors with slice_offset == k
   Writers: all fields by the owner; xthread_id by the owner or, under the
   abandoned lock, by the reclaiming thread (store release; freeing threads
   load relaxed and only compare with their own id).
--------------------------------------------------------------------------- */
typedef enum mi_page_kind_e {
  MI_PAGE_SLICED,  /* 64 KiB slices: a small page (blocks <= MI_SMALL_OBJ_SIZE_MAX) is one slice, a
                      medium page (blocks <= MI_MEDIUM_OBJ_SIZE_MAX) a span of MI_MEDIUM_PAGE_SIZE, a
                      large block's page (<= MI_LARGE_OBJ_SIZE_MAX) a span of its size */
  MI_PAGE_HUGE     /* one block in a segment of its own size */
} mi_page_kind_t;

/* Where a piece of memory came from, so it can be given back. */
typedef struct mi_memid_s {
  uint32_t arena_idx;      /* 1 + index in the arena array; 0: straight from the OS */
  uint32_t block_idx;      /* first segment unit in the arena */
  size_t   units;          /* arena units used */
  bool     is_zero;        /* memory was zero when handed out */
  bool     is_committed;   /* the whole range is accessible (else the segment commits per page) */
  bool     is_pinned;      /* never purged: huge OS pages, or memory the caller gave mica */
} mi_memid_t;

struct mi_tld_s;
struct mi_subproc_s;

typedef struct mi_segment_s {
  mi_memid_t memid;
  size_t     segment_size;       /* bytes, a multiple of the OS page size */
  size_t     segment_info_size;  /* header + page descriptors; page 0 starts after it */
  uintptr_t  cookie;             /* segment ^ process cookie: detects wild pointers in debug */
  uintptr_t  link_tag;           /* the high bits (above MI_SEGMENT_SHIFT) of a free-list link to a block
                                    here: the free fast path's double-free test in one compare (mi_link_tag);
                                    written once at allocation, read by any freeing thread */
  struct mi_segment_s* next;     /* in the owner's free-page queue, or the abandoned list */
  struct mi_segment_s* prev;
  size_t     used;               /* pages in use */
  size_t     abandoned;          /* pages in use whose heap is gone */
  size_t     capacity;           /* pages */
  size_t     page_shift;         /* log2 unit size (sliced: the slice) */
  mi_page_kind_t page_kind;
  uint32_t   purge_expire;       /* ms clock of the next purge round; 0: none; owner only */
  uintptr_t  purge_mask;         /* units (pages; sliced: slices) freed in this round, still resident */
  uintptr_t  purge_due;          /* units freed in the previous round: purged at the next deadline */
  uint32_t   purge_last;         /* ms clock when the newest unit joined purge_mask */
  uint32_t   purge_round;        /* ms clock when the current round began */
  uintptr_t  slice_map;          /* sliced segments: slices in use */
  uintptr_t  commit_mask;        /* units (pages; sliced: slices) that are accessible; all when memid.is_committed */
  uintptr_t  dirty_mask;         /* free units (pages; sliced: slices) whose memory is not known zero (used, not purged since): claimed first */
  struct mi_subproc_s* subproc;  /* whose abandoned list it joins (set at allocation) */
  bool       dont_free;          /* being abandoned by force: page frees neither free nor abandon it */
  bool       header_guard;       /* MI_SECURE 3: the last OS page of segment_info_size is inaccessible */
  uintptr_t  guard_mask;         /* MI_SECURE 3, sliced: units whose last OS page is inaccessible */
  struct mi_tld_s* tld;          /* owner's thread data (NULL while abandoned) */
#if MI_LANG_CXX
  mi_atomic(uintptr_t) xthread_id;
#else
  union {
    mi_atomic(uintptr_t) xthread_id;
    uintptr_t thread_id;         /* the same word under mimalloc's name, for embedders that read it while
                                    the owner is paused (CPython's free-threaded GC); never written through */
  };
#endif
  mi_page_t  pages[1];           /* capacity entries */
} mi_segment_t;

typedef struct mi_segment_queue_s {
  mi_segment_t* first;
  mi_segment_t* last;
} mi_segment_queue_t;

/* ---------------------------------------------------------------------------
   Heap: a thread's allocation state. Owner thread only, except
   xthread_delayed_free (any thread pushes with CAS release; the owner takes
   the whole list with an exchange).
   Invariants (checked by _mi_heap_is_valid):
     pages_free_direct[g] == first page of the queue for bin(g * MI_DIRECT_UNIT), or
                             &_mi_page_empty when that queue is empty
     a small or medium page in pages[b] (b < MI_BIN_FULL) has block_size ==
       _mi_bin_size(b); a large page (one block, its span) is in
       pages[_mi_bin(block_size)], a huge one in pages[MI_BIN_HUGE]
     page_count == the pages in all queues, each with xheap == this heap
--------------------------------------------------------------------------- */
typedef struct mi_page_queue_s {
  mi_page_t* first;
  mi_page_t* last;
  size_t     block_size;
  size_t     fill_run;   /* fresh pages taken in a row because the queue's pages filled up; 0 once
                            a search reuses a freed block (page.c: from MI_PAGE_POPULATE_RUN on, a
                            fresh page's memory is faulted in at once); a heuristic, never checked */
} mi_page_queue_t;

typedef struct mi_random_ctx_s {
  uint64_t state[2];
} mi_random_ctx_t;

struct mi_heap_s {
  struct mi_tld_s* tld;
  mi_page_t*       pages_free_direct[MI_PAGES_DIRECT];
  mi_page_queue_t  pages[MI_BIN_FULL + 1];
  mi_atomic(uintptr_t) xthread_delayed_free;   /* mi_block_t* list, each link encoded by its block's page */
  uintptr_t        thread_id;
  uintptr_t        cookie;
  mi_random_ctx_t  random;
  size_t           page_count;
  size_t           page_retired_min;   /* bins that may hold retired pages */
  size_t           page_retired_max;
  mi_heap_t*       next;               /* in tld->heaps */
  size_t           generic_count;      /* generic-path calls since the last collection (generic_collect) */
  int              arena_id;           /* 0, or the only arena it takes segments from (1 + first descriptor index) */
  uint8_t          tag;                /* heap_tag of its pages (mi_heap_new_ex) */
  uint8_t          debug_offset;       /* copied into its pages: debug fills skip a block's first bytes (runtime support) */
  bool             page_use_qsbr;      /* copied into its pages as use_qsbr (runtime support) */
  bool             no_reclaim;         /* may be destroyed: does not take pages from abandoned segments */
  /* guarded sampling (guarded.c). Owner thread only. While the rate is not
     0, pages_free_direct leads only to &_mi_page_empty, so every
     allocation takes the generic path, which counts down. */
  size_t           guarded_sample_rate;   /* one allocation in this many is sampled; 0: none */
  size_t           guarded_sample_count;  /* allocations until the next sample (1: the next one) */
  size_t           guarded_size_min;      /* sampled sizes: [min, max] */
  size_t           guarded_size_max;
};

/* ---------------------------------------------------------------------------
   Statistics: process-wide word-sized counters, updated with relaxed atomics
   on slow paths only (the malloc/free fast paths count nothing).
--------------------------------------------------------------------------- */
typedef struct mi_stat_count_s {
  mi_atomic(intptr_t) xcurrent;
  mi_atomic(intptr_t) xpeak;
  mi_atomic(intptr_t)  xtotal;    /* sum of increases */
} mi_stat_count_t;

typedef struct mi_stats_s {
  mi_stat_count_t reserved;      /* bytes of address space reserved */
  mi_stat_count_t committed;     /* bytes held by segments and direct OS allocations (resident on touch) */
  mi_stat_count_t segments;
  mi_stat_count_t pages;
  mi_stat_count_t huge;          /* huge blocks (bytes) */
  mi_stat_count_t threads;
  mi_stat_count_t abandoned;     /* segments on the abandoned list */
  mi_stat_count_t mmap_calls;
  mi_stat_count_t purges;        /* bytes returned to the OS */
  mi_stat_count_t purge_calls;   /* OS calls that returned them */
  mi_stat_count_t populates;     /* bytes faulted in ahead of use (_mi_os_populate) */
  mi_stat_count_t reclaimed;     /* abandoned segments taken over */
  mi_stat_count_t guarded;       /* sampled blocks (guarded.c): live, and total allocated */
} mi_stats_t;

/* ---------------------------------------------------------------------------
   Thread-local data: everything a thread owns besides its heaps' queues.
   Owner thread only.
--------------------------------------------------------------------------- */
/* The segment layer's part of it (segment.c). */
typedef struct mi_segments_tld_s {
  mi_segment_queue_t sliced_free;    /* sliced segments with free slices */
  size_t             count;          /* segments the thread owns */
  uint32_t           purge_check;    /* ms clock when owned segments were last scanned for purges */
  uint32_t           purge_active;   /* ms clock when the thread last freed or asked for a page */
  struct mi_subproc_s* abandoned;    /* the thread's sub-process: the abandoned pool its segments join and
                                        it reclaims from (never NULL once initialised; mimalloc's name, which
                                        an embedder sets after _mi_thread_tld_init to a pool of its own) */
} mi_segments_tld_t;

typedef struct mi_tld_s {
  unsigned long long heartbeat;      /* generic-path calls, for deferred free */
  bool               recurse;        /* inside a deferred-free callback */
  mi_heap_t*         heap_backing;   /* the thread's first heap; never deleted before thread exit */
  mi_heap_t*         heaps;          /* all heaps of the thread */
  mi_segments_tld_t  segments;
} mi_tld_t;

/* ---------------------------------------------------------------------------
   Sub-process: a set of threads that share abandoned segments only among
   themselves (mi_subproc_new). Arenas are shared by all. The abandoned
   list is a FIFO under MI_LOCK_ABANDONED (all sub-processes share the lock:
   its sections are a few pointer writes); a segment is on its
   sub-process's list exactly when its xthread_id is 0.
--------------------------------------------------------------------------- */
typedef struct mi_subproc_s {
  mi_segment_t*        abandoned_first;   /* under MI_LOCK_ABANDONED */
  mi_segment_t*        abandoned_last;    /* under MI_LOCK_ABANDONED */
  mi_atomic(uintptr_t) xabandoned_count;   /* written under the lock; read without it to peek */
  mi_atomic(uintptr_t) xthread_count;      /* threads added with mi_subproc_add_current_thread, still alive */
  mi_atomic(uint32_t)  xpurge_check;       /* ms clock of the last purge of the list (segment.c, mi_abandoned_purge) */
} mi_subproc_t;

/* Arena descriptor; see src/arena.c for the protocol. All atomics are words
   and the descriptor is cache-line aligned in a static array. */
#define MI_ARENA_MAP_WORDS  ((MI_ARENA_SEGMENTS + MI_INTPTR_BITS - 1) / MI_INTPTR_BITS)
typedef struct mi_arena_s {
  mi_alignas(MI_CACHE_LINE) mi_atomic(uintptr_t) xstart;  /* base address, 0: slot unused (release on publish) */
  size_t               unit_count;                /* segment units in use-able range (set before publish) */
  int                  id;                        /* 1 + index of the first descriptor of its region (mi_arena_id_t) */
  int                  numa_node;                 /* node the memory is bound to, -1: any */
  bool                 exclusive;                 /* only heaps made for this arena id allocate here */
  bool                 is_pinned;                 /* never purged or decommitted (huge pages, caller's memory) */
  bool                 is_user;                   /* the caller's memory: never unmapped by mica */
  bool                 is_huge;                   /* backed by reserved huge OS pages (MAP_HUGETLB) */
  mi_atomic(uint32_t)  xpurge_expire;              /* ms clock; 0: nothing pending */
  mi_atomic(uintptr_t) xin_use[MI_ARENA_MAP_WORDS];    /* unit claimed */
  mi_atomic(uintptr_t) xdirty[MI_ARENA_MAP_WORDS];     /* unit possibly non-zero */
  mi_atomic(uintptr_t) xcommitted[MI_ARENA_MAP_WORDS]; /* unit accessible */
  mi_atomic(uintptr_t) xpurge[MI_ARENA_MAP_WORDS];     /* unit free and resident since before this purge round: purged when it ends */
  mi_atomic(uintptr_t) xfreed[MI_ARENA_MAP_WORDS];     /* unit freed (and resident) during this round: moves to xpurge when it ends */
} mi_arena_t;

mi_static_assert_atomic(uintptr_t);
mi_static_assert_atomic(uint32_t);
mi_static_assert_atomic(uint8_t);
mi_static_assert_atomic(uint16_t);
mi_static_assert_atomic(intptr_t);
mi_static_assert(offsetof(mi_page_t, xthread_free) % sizeof(uintptr_t) == 0, "page atomics are aligned");
mi_static_assert(offsetof(mi_page_t, xdelayed_block) % sizeof(uintptr_t) == 0, "page atomics are aligned");
mi_static_assert(sizeof(mi_page_t) == 2 * MI_CACHE_LINE, "page descriptors are whole cache lines, a power of two: the free path indexes them with a shift");
mi_static_assert(sizeof(MI_PAGE_NODE_T) <= 2 * sizeof(void*), "an embedder's page node is at most two pointers");
mi_static_assert(offsetof(mi_page_t, xheap) % sizeof(uintptr_t) == 0, "page atomics are aligned");
mi_static_assert(offsetof(mi_page_t, xthread_freed) % sizeof(uint16_t) == 0, "page atomics are aligned");
mi_static_assert((MI_SMALL_PAGE_SIZE / MI_GRANULE_SIZE) * 2 <= UINT16_MAX, "used may count a block twice for a moment (types.h, mi_page_t) without wrapping");
mi_static_assert(offsetof(mi_segment_t, xthread_id) % sizeof(uintptr_t) == 0, "segment atomics are aligned");
mi_static_assert(offsetof(struct mi_heap_s, xthread_delayed_free) % sizeof(uintptr_t) == 0, "heap atomics are aligned");
mi_static_assert(offsetof(mi_arena_t, xpurge_expire) % sizeof(uint32_t) == 0, "arena atomics are aligned");
mi_static_assert(offsetof(mi_arena_t, xin_use) % sizeof(uintptr_t) == 0, "arena atomics are aligned");
mi_static_assert(offsetof(mi_subproc_t, xabandoned_count) % sizeof(uintptr_t) == 0, "sub-process atomics are aligned");
mi_static_assert(offsetof(mi_subproc_t, xpurge_check) % sizeof(uint32_t) == 0, "sub-process atomics are aligned");
mi_static_assert(sizeof(mi_arena_t) % MI_CACHE_LINE == 0, "arena array elements stay aligned");
mi_static_assert(sizeof(mi_stat_count_t) % sizeof(intptr_t) == 0, "stat counters are aligned");

#endif
