/* SPDX-License-Identifier: MIT */
/* Internal interfaces, grouped by the file that defines them, and the small
   inline helpers that the fast paths share. Never installed. */
#ifndef MICA_INTERNAL_H
#define MICA_INTERNAL_H

/* every system header the included ones use, before MI_HIDDEN_BEGIN (arch.h) */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include <limits.h>
#include <errno.h>
#include "arch.h"
#include "atomic.h"  /* <stdatomic.h>, or in C++ <atomic>, which must not be inside extern "C" */
#include "track.h"
#include "mica.h"   /* by name, not "../": an embedder may keep mica.h next to this file (doc/embedding.md) */

MI_HIDDEN_BEGIN
MI_EXTERN_C_BEGIN   /* C linkage for every declaration, in C++ too (arch.h) */
#include "types.h"
#include "prim.h"
#include "hooks.h"

#if MI_GNUC_COMPATIBLE
#define mi_likely(x)     __builtin_expect(!!(x), 1)
#define mi_unlikely(x)   __builtin_expect(!!(x), 0)
#define mi_decl_noinline __attribute__((noinline))
#define mi_decl_cold     __attribute__((cold))
#else
#define mi_likely(x)     (x)
#define mi_unlikely(x)   (x)
#define mi_decl_noinline
#define mi_decl_cold
#endif

/* MI_DEBUG (config.h): 1 cheap assertions; 2 also checks on every free
   (block start, owning page, double frees by a list walk); 3 also the
   expensive walkers (_mi_*_is_valid) at every state change. */
#if MI_DEBUG > 0
#define mi_assert(x)     ((x) ? (void)0 : _mi_message_assert_fail(#x, __FILE__, __LINE__, __func__))
#else
#define mi_assert(x)     ((void)0)
#endif
#if MI_DEBUG > 1
#define mi_assert_internal(x) mi_assert(x)
#else
#define mi_assert_internal(x) ((void)0)
#endif
#if MI_DEBUG > 2
#define mi_assert_expensive(x) mi_assert(x)
#else
#define mi_assert_expensive(x) ((void)0)
#endif

/* Prototypes by layer, top down, and within a layer by defining file.
   doc/design.md draws the map: a file calls only its own layer, the
   layers below and the leaves; the few calls upward are the hooks in
   hooks.h. test/house/check-layers.sh checks this on the object files. */

/* ==== front end: the mi_ API's internals ================================ */

/* ---- alloc.c -------------------------------------------------------- */
void*  _mi_alloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void   _mi_alloc_deferred_free(mi_heap_t* heap, bool force);
void*  _mi_alloc_zero(mi_heap_t* heap, size_t size, bool zero);
void*  _mi_alloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void*  _mi_alloc_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero);
void   _mi_alloc_zero_tail(void* newp, size_t old_size, size_t newsize);
size_t _mi_alloc_usable_size(const void* p, const char* func);
size_t _mi_alloc_padding_check(const mi_page_t* page, const mi_block_t* block, void* p);   /* MI_PADDING */

/* ---- free.c: the slow paths of _mi_free_inline (below) --------------- */
mi_decl_noinline void _mi_free_generic_ptr(void* p);
mi_decl_noinline void _mi_free_not_sliced(void* p);   /* NULL, a huge block, or not mica's */
void   _mi_free_block(mi_page_t* page, mi_block_t* block);   /* checked already: from any thread */

/* ---- guarded.c: guarded sampling ------------------------------------- */
void   _mi_guarded_heap_init(mi_heap_t* heap);
void*  _mi_guarded_alloc(mi_heap_t* heap, size_t size, bool zero);
void   _mi_guarded_free(mi_page_t* page, void* p);
void   _mi_guarded_moved(mi_page_t* page, void* p);
void   _mi_guarded_page_release(mi_page_t* page);

/* ---- heap.c --------------------------------------------------------- */
extern mi_thread_local mi_heap_t* _mi_heap_default;   /* never NULL: &_mi_heap_empty before init */
extern const mi_heap_t _mi_heap_empty;
void       _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, bool no_reclaim, uint8_t tag, int arena_id);
void       _mi_heap_set_default_direct(mi_heap_t* heap);
void       _mi_heap_unsafe_forget_all(void);
void       _mi_heap_collect_abandon(mi_heap_t* heap);
void       _mi_heap_collect_periodic(mi_heap_t* heap);
bool       _mi_heap_is_valid(const mi_heap_t* heap);   /* MI_DEBUG > 0 builds; reports the first broken invariant */

/* ---- stats-print.c -------------------------------------------------- */
void       _mi_stats_print_at_exit(void);

/* ---- process.c and thread.c (the hooks prim calls: hooks.h) ---------- */
uintptr_t _mi_thread_id_tls(void);
void      _mi_thread_tld_init(mi_tld_t* tld, mi_heap_t* backing);

/* ==== pages and segments ================================================ */

/* ---- bin.c ---------------------------------------------------------- */
size_t     _mi_bin(size_t size);
size_t     _mi_bin_size(size_t bin);

/* ---- page-queue.c --------------------------------------------------- */
void       _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page);
void       _mi_page_queue_remove(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page);
void       _mi_page_queue_enqueue_from(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from, mi_page_t* page);
void       _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page);
size_t     _mi_page_queue_append(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from);
void       _mi_page_queue_direct_reset(mi_heap_t* heap);
mi_page_queue_t* _mi_page_queue_of(const mi_page_t* page);
mi_page_queue_t* _mi_page_queue_in(mi_heap_t* heap, const mi_page_t* page);

/* ---- page.c --------------------------------------------------------- */
extern const mi_page_t _mi_page_empty;
void*      _mi_page_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void*      _mi_page_malloc_single(mi_heap_t* heap, size_t min_area, size_t block_size, bool zero);
void*      _mi_page_malloc_queued(mi_heap_t* heap, size_t size, bool zero);
void       _mi_page_free_collect(mi_page_t* page, bool force);
void       _mi_page_free(mi_page_t* page, mi_page_queue_t* pq, bool force);
void       _mi_page_retire(mi_page_t* page);
mi_decl_noinline mi_block_t* _mi_page_free_corrupt(mi_page_t* page, const mi_block_t* block, const mi_block_t* next);   /* MI_SECURE */
mi_decl_noinline void _mi_page_retire_of(const void* p);
void       _mi_page_unfull(mi_page_t* page);
void       _mi_page_abandon(mi_page_t* page, mi_page_queue_t* pq);
void       _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page);
void       _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never);
void       _mi_page_delayed_free_all(mi_heap_t* heap);
bool       _mi_page_delayed_free_partial(mi_heap_t* heap);
void       _mi_page_collect_retired(mi_heap_t* heap, bool force);
mi_block_t* _mi_page_block_start(const mi_page_t* page, const void* p);
size_t     _mi_page_usable_size(const mi_page_t* page, const void* p);
bool       _mi_page_visit(const mi_heap_t* heap, mi_page_t* page, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
bool       _mi_page_is_valid(const mi_page_t* page);   /* MI_DEBUG > 0 builds; reports the first broken invariant */
mi_decl_noinline void _mi_page_report_freed_write(const mi_page_t* page, const mi_block_t* block, size_t offset);   /* MI_DEBUG >= 2 */

/* ---- segment.c ------------------------------------------------------ */
extern mi_subproc_t _mi_segment_subproc_main;
extern uintptr_t _mi_segment_cookie;   /* xor key of segment->cookie; set once by mi_process_init */
mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment, bool few, bool* reclaimed, mi_tld_t* tld);
void       _mi_segment_page_populate(const mi_page_t* page);   /* fault a fresh page's memory in now */
void       _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld);
void       _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld);
uint8_t*   _mi_segment_page_start(const mi_segment_t* segment, const mi_page_t* page, size_t* page_size);
bool       _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all, mi_tld_t* tld);
void       _mi_segment_collect_abandoned(mi_heap_t* heap);   /* thread exit: free abandoned segments that other threads emptied */
bool       _mi_segment_huge_page_free_abandoned(mi_segment_t* segment);
bool       _mi_segment_is_valid(const mi_segment_t* segment);   /* MI_DEBUG > 0 builds; reports the first broken invariant */
bool       _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap);   /* true: now the caller's (a local free follows) */
bool       _mi_segment_abandoned_visit(mi_subproc_t* subproc, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
void       _mi_segments_collect_periodic(mi_tld_t* tld);
void       _mi_segment_thread_collect(mi_tld_t* tld);
void       _mi_segments_collect(bool force, mi_tld_t* tld);
void       _mi_segments_reduce(mi_heap_t* heap, size_t target);

/* ==== arenas ============================================================= */

/* ---- segment-map.c -------------------------------------------------- */
extern mi_atomic(uint8_t) _mi_segment_map[];
void _mi_segment_map_allocated_at(const mi_segment_t* segment, size_t page_shift);
void _mi_segment_map_freed_at(const mi_segment_t* segment);

/* ---- arena.c -------------------------------------------------------- */
void* _mi_arena_alloc_segment(size_t size, bool commit, int req_arena_id, mi_memid_t* memid);   /* MI_SEGMENT_SIZE aligned */
void  _mi_arena_free_segment(void* p, size_t size, mi_memid_t memid);
int   _mi_arena_reserve(size_t size);
size_t _mi_arena_count(void);
long  _mi_arena_purge_delay(void);             /* ms; purge_delay x arena_purge_mult, <0 never */
mi_arena_t* _mi_arena_at(size_t idx);      /* descriptor idx < MI_MAX_ARENAS, used or not */
bool  _mi_arena_id_is_valid(int arena_id);
bool  _mi_arena_is_suitable(uint32_t arena_idx1, int req_arena_id);
void  _mi_arenas_collect(bool force);
void  _mi_arenas_unsafe_destroy(void);
bool  _mi_arena_is_valid(size_t idx, bool quiescent);   /* MI_DEBUG > 0 builds; reports the first broken invariant */
bool  _mi_arena_range_is_valid(const void* p, size_t size, const mi_memid_t* memid);   /* a claimed range */

/* ---- bitmap.c ------------------------------------------------------- */
bool  _mi_bitmap_try_claim(mi_atomic(uintptr_t)* map, size_t words, size_t count, size_t* bit_idx);
bool  _mi_bitmap_try_claim_most(mi_atomic(uintptr_t)* map, mi_atomic(uintptr_t)* prefer, size_t words, size_t count, size_t* bit_idx);
void  _mi_bitmap_set(mi_atomic(uintptr_t)* map, size_t idx, size_t count);
void  _mi_bitmap_clear(mi_atomic(uintptr_t)* map, size_t idx, size_t count);
bool  _mi_bitmap_is_any_set(mi_atomic(uintptr_t)* map, size_t idx, size_t count);

/* ==== os.c: policy over prim ============================================= */
size_t _mi_os_page_size(void);
bool   _mi_os_has_overcommit(void);
void   _mi_os_init(void);
void*  _mi_os_alloc(size_t size, bool* is_zero);                  /* page-aligned, read-write */
void*  _mi_os_alloc_aligned(size_t size, size_t alignment, bool commit, bool* is_zero);
void   _mi_os_free(void* p, size_t size);
void*  _mi_os_reserve_aligned(size_t size, size_t alignment, bool accessible);
void   _mi_os_unreserve(void* p, size_t size);
void   _mi_os_account_commit(size_t size, bool increase);
bool   _mi_os_commit(void* p, size_t size);
bool   _mi_os_purge(void* p, size_t size, bool allow_decommit);   /* return memory, keep address range */
uint8_t* _mi_os_whole_pages(void* p, size_t size, size_t* len);   /* the OS pages wholly inside: what a purge reaches */
void   _mi_os_populate(void* p, size_t size);                     /* fault the whole OS pages inside in now (advice) */
bool   _mi_os_protect(void* p, size_t size, bool protect);        /* guard pages: no access (true) or read-write again */
void   _mi_os_advise_huge(void* p, size_t size);
void   _mi_os_thp_init(void);
void*  _mi_os_alloc_huge_pages(size_t size, int numa_node, size_t* page_size);
void   _mi_os_free_huge_pages(void* p, size_t size);
size_t _mi_os_numa_node_count(void);
void   _mi_os_numa_node_count_set(size_t count);                  /* tests: pretend a topology */
size_t _mi_os_numa_node(void);
size_t _mi_os_numa_share(size_t total, size_t nodes, size_t node);
void   _mi_os_numa_bind(void* p, size_t size, int node);
uint32_t _mi_os_clock_now(void);                                  /* 32-bit ms clock, never 0 */
static inline bool _mi_os_clock_expired(uint32_t expire, uint32_t now) {
  return (int32_t)(now - expire) >= 0;                            /* wrap-around safe */
}

/* ==== leaves: callable from every layer; they call only prim ============= */

/* ---- options.c ------------------------------------------------------ */
void _mi_options_init(void);

/* ---- message.c ------------------------------------------------------ */
void _mi_message_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message);
void _mi_message_fprintf(mi_output_fun* out, void* arg, const char* fmt, ...);
void _mi_message_fmt(char* buf, size_t size, const char* fmt, ...);
void _mi_message_signal_safe(const char* fmt, ...);   /* %s %p %zu %td only; to stderr; async-signal-safe */
void _mi_message_verbose(const char* fmt, ...);
void _mi_message_warning(const char* fmt, ...);
void _mi_message_error(int err, const char* fmt, ...);
void _mi_message_assert_fail(const char* assertion, const char* fname, unsigned line, const char* func);
bool _mi_message_invalid(const char* kind, const void* obj, const char* fmt, ...);   /* reports, returns false */

/* ---- stats.c -------------------------------------------------------- */
extern mi_stats_t _mi_stats;
void _mi_stats_increase(mi_stat_count_t* stat, size_t amount);
void _mi_stats_decrease(mi_stat_count_t* stat, size_t amount);

/* ---- random.c ------------------------------------------------------- */
void      _mi_random_init(mi_random_ctx_t* ctx);
void      _mi_random_split(mi_random_ctx_t* ctx, mi_random_ctx_t* new_ctx);
uintptr_t _mi_random_next(mi_random_ctx_t* ctx);

/* ===========================================================================
   Inline helpers
=========================================================================== */

static inline bool _mi_is_power_of_two(uintptr_t x) { return (x & (x - 1)) == 0; }

static inline uintptr_t _mi_align_up(uintptr_t sz, size_t alignment) {
  const uintptr_t mask = alignment - 1;
  return (alignment & mask) == 0 ? ((sz + mask) & ~mask) : (((sz + mask) / alignment) * alignment);
}
static inline uintptr_t _mi_align_down(uintptr_t sz, size_t alignment) {
  return (alignment & (alignment - 1)) == 0 ? (sz & ~(alignment - 1)) : ((sz / alignment) * alignment);
}
static inline size_t _mi_divide_up(size_t size, size_t divider) {
  return (size + divider - 1) / divider;
}
/* Multiplication that reports overflow instead of wrapping. */
static inline bool mi_mul_overflow(size_t count, size_t size, size_t* total) {
#if MI_GNUC_COMPATIBLE
  return __builtin_mul_overflow(count, size, total);
#else
  *total = count * size;   /* wraps; overflowed iff the operands are large and the division disagrees */
  return ((count | size) >= ((size_t)1 << (sizeof(size_t) * 4)) && size != 0 && *total / size != count);
#endif
}
/* Count allocation: overflow is an error (EOVERFLOW to the handler, ENOMEM to the caller). */
static inline bool mi_count_size_overflow(size_t count, size_t size, size_t* total) {
  if (count == 1) { *total = size; return false; }
  if (mi_unlikely(mi_mul_overflow(count, size, total))) {
    _mi_message_error(EOVERFLOW, "allocation request is too large (%zu * %zu bytes)\n", count, size);
    *total = SIZE_MAX;
    return true;
  }
  return false;
}

/* ---- thread id --------------------------------------------------------- */
#if defined(MI_THREAD_ID_FUNC)
MI_HIDDEN_END   /* the embedder's function keeps the embedder's visibility */
uintptr_t MI_THREAD_ID_FUNC(void);
MI_HIDDEN_BEGIN
static inline uintptr_t _mi_thread_id(void) { return MI_THREAD_ID_FUNC(); }
#define MI_THREAD_ID_SOURCE 2
#elif MI_HAS_THREAD_POINTER
static inline uintptr_t _mi_thread_id(void) { return _mi_arch_thread_pointer(); }
#define MI_THREAD_ID_SOURCE 1
#else
static inline uintptr_t _mi_thread_id(void) { return _mi_thread_id_tls(); }
#define MI_THREAD_ID_SOURCE 0
#endif

/* ---- heap ------------------------------------------------------------- */
static inline mi_heap_t* mi_get_default_heap(void) { return _mi_heap_default; }
static inline bool mi_heap_is_initialized(const mi_heap_t* heap) { return heap != &_mi_heap_empty; }
static inline bool mi_heap_is_backing(const mi_heap_t* heap) { return heap->tld->heap_backing == heap; }

/* The page for a request of `size` (<= MI_SMALL_SIZE_MAX) bytes. With
   MI_PADDING its block takes MI_PADDING_SIZE more; the last few sizes,
   whose block is past the direct pointers, go the generic way. */
static inline mi_page_t* _mi_heap_get_free_small_page(mi_heap_t* heap, size_t size) {
#if MI_PADDING
  if (mi_unlikely(size > MI_SMALL_SIZE_MAX - MI_PADDING_SIZE)) return (mi_page_t*)&_mi_page_empty;
  size += MI_PADDING_SIZE;
#endif
  return heap->pages_free_direct[(size + MI_DIRECT_UNIT - 1) >> MI_DIRECT_SHIFT];
}

/* ---- segments and pages -------------------------------------------------- */
/* `p - 1` so that a block placed exactly at the end of a segment's first
   MI_SEGMENT_SIZE (huge alignment) maps to its own segment; no other block
   starts at a segment boundary, as the segment header is there. */
static inline mi_segment_t* _mi_ptr_segment(const void* p) {
  return (mi_segment_t*)(((uintptr_t)p - 1) & ~MI_SEGMENT_MASK);
}
/* The page shift of the live mica segment `p` is inside, 0 if none (see
   segment-map.c). Reads only mica's own map, so it is safe for any pointer
   value (foreign or wild). Same `p - 1` as above. */
#define MI_SEGMENT_MAP_SIZE   ((uintptr_t)1 << (MI_SEGMENT_MAP_BITS_SHIFT - MI_SEGMENT_SHIFT))
static inline size_t _mi_ptr_segment_shift(const void* p) {
  const uintptr_t unit = ((uintptr_t)p - 1) >> MI_SEGMENT_SHIFT;
  if (mi_unlikely(unit >= MI_SEGMENT_MAP_SIZE)) return 0;   /* beyond the mapped address range, or NULL */
  return mi_atomic_load_relaxed(&_mi_segment_map[unit]);
}
/* The free fast path's read of the map byte of `unit` (< MI_SEGMENT_MAP_SIZE):
   a plain load, which the compiler folds into its compare. A block's byte
   is set before the block is handed out and cleared only after it is
   freed, so a valid free reads a settled byte; a wild pointer's byte may
   be changing, and either value is checked again out of line. A TSan build
   reads it atomically, as ThreadSanitizer cannot know that. */
static inline uint8_t _mi_segment_map_peek(uintptr_t unit) {
#if MI_TSAN
  return mi_atomic_load_relaxed(&_mi_segment_map[unit]);
#else
  return ((const uint8_t*)_mi_segment_map)[unit];
#endif
}
static inline bool _mi_ptr_is_known(const void* p) {
  return _mi_ptr_segment_shift(p) != 0;
}
static inline bool _mi_segment_is_known(const mi_segment_t* segment) {
  return _mi_ptr_is_known((const uint8_t*)segment + 1);
}

/* The units the map may hold: all it has room for, except, where it covers
   the whole address space (32-bit), the last one, in which NULL - 1 falls:
   a 32-bit program on a 64-bit kernel can map memory there. */
#if MI_SEGMENT_MAP_BITS_SHIFT < MI_INTPTR_BITS
#define MI_SEGMENT_MAP_UNITS  MI_SEGMENT_MAP_SIZE
#else
#define MI_SEGMENT_MAP_UNITS  (MI_SEGMENT_MAP_SIZE - 1)
#endif
/* Can the segment map describe memory up to address `last`? */
static inline bool _mi_segment_map_covers(uintptr_t last) {
  return (last >> MI_SEGMENT_SHIFT) < MI_SEGMENT_MAP_UNITS;
}
/* The descriptor of the page (or large-segment slice) that `p` falls in;
   only the free fast path uses it unresolved (see _mi_segment_page_of). */
static inline mi_page_t* _mi_segment_slice_of(const mi_segment_t* segment, const void* p) {
  /* the offset in the segment, except for a huge-aligned block at segment +
     MI_SEGMENT_SIZE, which gives 0: right, as such segments have one page */
  const size_t idx = ((uintptr_t)p & MI_SEGMENT_MASK) >> segment->page_shift;
  return (mi_page_t*)&segment->pages[idx];
}
/* A continuation slice of a large span resolves to the span's page. */
static inline mi_page_t* _mi_page_resolve(mi_page_t* slice) {
  return slice - slice->slice_offset;
}
static inline mi_page_t* _mi_segment_page_of(const mi_segment_t* segment, const void* p) {
  return _mi_page_resolve(_mi_segment_slice_of(segment, p));
}
static inline mi_segment_t* _mi_page_segment(const mi_page_t* page) {
  return _mi_ptr_segment(page);   /* page descriptors live in the segment header */
}
static inline mi_page_t* _mi_ptr_page(const void* p) {
  return _mi_segment_page_of(_mi_ptr_segment(p), p);
}
static inline size_t mi_page_block_size(const mi_page_t* page) {
  if (mi_likely(page->xblock_size != MI_HUGE_BLOCK_SIZE)) return page->xblock_size;
  size_t psize;
  _mi_segment_page_start(_mi_page_segment(page), page, &psize);
  return psize;
}
static inline uint8_t* mi_page_start(const mi_page_t* page) {
  return _mi_segment_page_start(_mi_page_segment(page), page, NULL);
}
static inline mi_heap_t* mi_page_heap(const mi_page_t* page) {
  return (mi_heap_t*)mi_atomic_load_relaxed(&((mi_page_t*)page)->xheap);
}
static inline void mi_page_set_heap(mi_page_t* page, mi_heap_t* heap) {
  mi_atomic_store_release(&page->xheap, (uintptr_t)heap);
}
static inline bool mi_page_all_free(const mi_page_t* page) { return page->used == 0; }
/* The end of a free list. A link never encodes NULL: the last block of
   every list links to the first byte of its segment, where no block starts
   (the header is there), so each link of a free block, the last one too,
   points into the block's own segment and mi_block_looks_free needs a
   single test. page->free holds this end once its last block is handed out
   (the fast path copies links unchanged); NULL, as in a zeroed descriptor,
   means empty too. Other lists keep NULL heads: mi_block_next maps the end
   back to NULL. */
static inline mi_block_t* mi_list_end(const mi_page_t* page) { return (mi_block_t*)_mi_page_segment(page); }
static inline bool mi_page_free_is_empty(const mi_page_t* page) {
  return page->free == NULL || page->free == mi_list_end(page);
}
/* page->free as a list to walk: NULL-terminated */
static inline mi_block_t* mi_page_free_first(const mi_page_t* page) {
  return mi_page_free_is_empty(page) ? NULL : page->free;
}
static inline bool mi_page_immediate_available(const mi_page_t* page) { return !mi_page_free_is_empty(page); }
static inline bool mi_page_has_flag(const mi_page_t* page, uint8_t flag) {
  return (mi_atomic_load_relaxed(&((mi_page_t*)page)->xflags) & flag) != 0;
}
/* Keep xfast_tid == (xflags == 0 ? segment owner : 0): after a flag or the
   segment's owner changed (types.h). */
static inline void mi_page_fast_tid_update(mi_page_t* page) {
  const uintptr_t tid = mi_atomic_load_relaxed(&_mi_ptr_segment(page)->xthread_id);
  mi_atomic_store_relaxed(&page->xfast_tid, mi_atomic_load_relaxed(&page->xflags) == 0 ? tid : 0);
}
static inline void mi_page_set_flag(mi_page_t* page, uint8_t flag, bool on) {   /* owner only */
  const uint8_t flags = mi_atomic_load_relaxed(&page->xflags);
  mi_atomic_store_relaxed(&page->xflags, (uint8_t)(on ? (flags | flag) : (flags & ~flag)));
  mi_page_fast_tid_update(page);
}
static inline bool mi_page_is_full(const mi_page_t* page) { return mi_page_has_flag(page, MI_PAGE_IN_FULL); }
static inline void mi_page_set_in_full(mi_page_t* page, bool in_full) { mi_page_set_flag(page, MI_PAGE_IN_FULL, in_full); }
static inline bool mi_page_has_aligned(const mi_page_t* page) { return mi_page_has_flag(page, MI_PAGE_HAS_ALIGNED); }
static inline void mi_page_set_has_aligned(mi_page_t* page, bool a) { mi_page_set_flag(page, MI_PAGE_HAS_ALIGNED, a); }
static inline bool mi_page_is_huge(const mi_page_t* page) { return _mi_page_segment(page)->page_kind == MI_PAGE_HUGE; }

static inline mi_block_t* mi_tf_block(uintptr_t tf) { return (mi_block_t*)(tf & ~(uintptr_t)3); }
static inline mi_delayed_t mi_tf_delayed(uintptr_t tf) { return (mi_delayed_t)(tf & 3); }
static inline uintptr_t mi_tf_make(mi_block_t* block, mi_delayed_t delayed) { return (uintptr_t)block | (uintptr_t)delayed; }
static inline uintptr_t mi_tf_set_block(uintptr_t tf, mi_block_t* block) { return mi_tf_make(block, mi_tf_delayed(tf)); }
static inline uintptr_t mi_tf_set_delayed(uintptr_t tf, mi_delayed_t d) { return mi_tf_make(mi_tf_block(tf), d); }
static inline mi_block_t* mi_page_thread_free(const mi_page_t* page) {
  return mi_tf_block(mi_atomic_load_relaxed(&((mi_page_t*)page)->xthread_free));
}
/* Other threads freed blocks that the owner has not taken, or not counted. */
static inline bool mi_page_has_thread_freed(const mi_page_t* page) {
  return (mi_page_thread_free(page) != NULL || mi_atomic_load_relaxed(&((mi_page_t*)page)->xthread_freed) != 0);
}

/* ---- free-list links: the only place that reads or writes them ----------
   A free block's first word holds the link to the next one, always encoded,
   so a block on a free list can be told from a live one by its contents
   (mi_block_looks_free): the link decodes into the block's own segment
   (the last one to the list end, mi_list_end), which user data does only
   by rare chance (and malloc clears the word when it hands a block out).
   That keeps a double free from putting a block on a list twice, in
   release builds too (see free.c).
   Release builds xor with a fixed odd constant: correctness never depends
   on it (a look-alike only costs a list walk), and a constant needs no
   initialisation order.
   MI_SECURE: per-page random keys around a multiplication by an odd
   constant (invertible modulo 2^bits), which spreads any change of the
   stored word over the decoded one's high bits: a one-byte overflow into
   a link (or any small change) decodes far outside the page, so the check
   on every pop (mi_page_link_is_valid) catches it. A rotation spread
   nothing: a flipped low byte came out as a few flipped bits elsewhere,
   in about one page of ten inside the page's block area, and the list
   then handed a block out twice (test/misuse: overflow-1-free, secure3). */
#if MI_SECURE
#if MI_INTPTR_SIZE == 8
#define MI_LINK_MUL      ((uintptr_t)0x9e3779b97f4a7c15ULL)   /* 2^64 / golden ratio, odd */
#define MI_LINK_MUL_INV  ((uintptr_t)0xf1de83e19937733dULL)   /* its inverse modulo 2^64 */
#else
#define MI_LINK_MUL      ((uintptr_t)0x9e3779b9UL)
#define MI_LINK_MUL_INV  ((uintptr_t)0x144cbc89UL)
#endif
mi_static_assert((uintptr_t)(MI_LINK_MUL * MI_LINK_MUL_INV) == 1, "MI_LINK_MUL_INV is MI_LINK_MUL's inverse");
static inline mi_block_t* mi_link_decode_raw(const mi_page_t* page, mi_encoded_t link) {
  return (mi_block_t*)(((link - page->keys[0]) * MI_LINK_MUL_INV) ^ page->keys[1]);
}
static inline mi_encoded_t mi_link_encode_raw(const mi_page_t* page, const mi_block_t* next) {
  return (((uintptr_t)next ^ page->keys[1]) * MI_LINK_MUL) + page->keys[0];
}
#else
/* The upper 32 bits set: a link xor the key is never a user-space address,
   so the pointers in user data do not look like links. A sign-extended
   32-bit value: x86-64 takes it as an immediate operand. */
#if MI_INTPTR_SIZE == 8
#define MI_LINK_KEY ((uintptr_t)0xffffffffd21f6e5bULL)
#else
#define MI_LINK_KEY ((uintptr_t)0xd21f6e5bUL)
#endif
static inline mi_block_t* mi_link_decode_raw(const mi_page_t* page, mi_encoded_t link) {
  (void)page; return (mi_block_t*)(link ^ MI_LINK_KEY);
}
static inline mi_encoded_t mi_link_encode_raw(const mi_page_t* page, const mi_block_t* next) {
  (void)page; return (mi_encoded_t)next ^ MI_LINK_KEY;
}
#endif
/* NULL in, NULL out: the list end (mi_list_end) in between */
static inline mi_block_t* mi_link_decode(const mi_page_t* page, mi_encoded_t link) {
  mi_block_t* const b = mi_link_decode_raw(page, link);
  return (b == mi_list_end(page) ? NULL : b);
}
static inline mi_encoded_t mi_link_encode(const mi_page_t* page, const mi_block_t* next) {
  return mi_link_encode_raw(page, next == NULL ? mi_list_end(page) : next);
}

/* The fast paths' page->free link, copied as it is: a block or the end
   (never NULL: page->free is NULL only before the first extend) */
static inline mi_block_t* mi_block_next_raw(const mi_page_t* page, const mi_block_t* block) {
  mi_track_mem_defined(block, sizeof(mi_block_t));
  mi_block_t* next = mi_link_decode_raw(page, block->next);
  mi_track_mem_noaccess(block, sizeof(mi_block_t));
  return next;
}
static inline void mi_block_set_next_raw(const mi_page_t* page, mi_block_t* block, const mi_block_t* next) {
  mi_assert_internal(next != NULL);
  mi_track_mem_undefined(block, sizeof(mi_block_t));
  block->next = mi_link_encode_raw(page, next);
  mi_track_mem_noaccess(block, sizeof(mi_block_t));
}
/* A list's links as a NULL-terminated list (the end mapped, mi_list_end) */
static inline mi_block_t* mi_block_next(const mi_page_t* page, const mi_block_t* block) {
  mi_block_t* const next = mi_block_next_raw(page, block);
  return (next == mi_list_end(page) ? NULL : next);
}
static inline void mi_block_set_next(const mi_page_t* page, mi_block_t* block, const mi_block_t* next) {
  mi_block_set_next_raw(page, block, next == NULL ? mi_list_end(page) : next);
}

/* The start of a page's block area: _mi_segment_page_start inline, for the
   checks on the fast paths (the page's unit, after the header in unit 0). */
static inline uint8_t* mi_page_area_start(const mi_page_t* page) {
  const mi_segment_t* const segment = _mi_page_segment(page);
  uint8_t* start = (uint8_t*)segment + ((uintptr_t)page->segment_idx << segment->page_shift);
  if (page->segment_idx == 0) start += segment->segment_info_size;
  return start;
}
/* MI_SECURE: may `next`, read from the link of a block of `page`'s free
   list, become the list's head? The list end, or a block boundary of the
   page's carved area. A corrupted link (a heap overflow wrote over a free
   block, or a use after free) fails this with near certainty: it decodes
   with the page's random keys into a random address. */
static inline bool mi_page_link_is_valid(const mi_page_t* page, const mi_block_t* next) {
  if (next == mi_list_end(page)) return true;
  const size_t offset = (size_t)((const uint8_t*)next - mi_page_area_start(page));
  const size_t bsize = page->xblock_size;
  return (offset < (size_t)page->capacity * bsize && offset % bsize == 0);
}
/* MI_SECURE: is `p`, freed into a page without aligned blocks, a block's start? */
static inline bool mi_page_is_block_start(const mi_page_t* page, const void* p) {
  const size_t offset = (size_t)((const uint8_t*)p - mi_page_area_start(page));
  return (page->xblock_size == MI_HUGE_BLOCK_SIZE ? offset == 0 : offset % page->xblock_size == 0);
}

/* Could `block` (being freed, so still the user's) be on a free list of
   `page`? True for every block that is (but a block at a segment boundary,
   which huge alignment places: its page never takes the fast path, and
   free.c also tests for the end link); for a live block only if its first
   word happens to decode like a link. Cheap: one load the free writes
   anyway. A true answer is confirmed by a list walk (free.c). */
static inline mi_encoded_t mi_block_link_peek(const mi_block_t* block) {
  mi_track_mem_defined(block, sizeof(mi_block_t));   /* the user may never have written it; or free */
  const mi_encoded_t link = block->next;
  mi_track_mem_noaccess(block, sizeof(mi_block_t));  /* a live block: mi_track_free follows (or it is invalid) */
  return link;
}
/* ... given the block's first word */
static inline bool mi_link_looks_free(const mi_page_t* page, const mi_block_t* block, mi_encoded_t link) {
#if MI_SECURE
  return ((((uintptr_t)mi_link_decode_raw(page, link) ^ (uintptr_t)block) >> MI_SEGMENT_SHIFT) == 0);
#else
  (void)page;
  /* the decode folded in, as a signed shift: the key's shifted high bits
     stay a small immediate (gcc compares a logical shift with a 64-bit
     constant that costs one more instruction) */
  return (((intptr_t)(link ^ (uintptr_t)block) >> MI_SEGMENT_SHIFT) == ((intptr_t)MI_LINK_KEY >> MI_SEGMENT_SHIFT));
#endif
}
static inline bool mi_block_looks_free(const mi_page_t* page, const mi_block_t* block) {
  return mi_link_looks_free(page, block, mi_block_link_peek(block));
}
/* The high bits of a link to a block of `segment`, kept in its header
   (link_tag): the free fast path then tests a block in the segment with
   one compare of its first word's high bits, no xor with the block
   (bench-pair, doc/benchmarks.md). The same test as mi_link_looks_free. */
static inline uintptr_t mi_link_tag(const mi_segment_t* segment) {
#if MI_SECURE
  (void)segment;
  return 0;   /* per-page keys: mi_link_looks_free decodes */
#else
  return mi_link_encode_raw(NULL, (const mi_block_t*)segment) >> MI_SEGMENT_SHIFT;
#endif
}
static inline bool mi_segment_block_looks_free(const mi_segment_t* segment, const mi_page_t* page, const mi_block_t* block) {
#if MI_SECURE
  (void)segment;
  return mi_block_looks_free(page, block);
#else
  (void)page;
  return ((mi_block_link_peek(block) >> MI_SEGMENT_SHIFT) == segment->link_tag);
#endif
}
/* The slow paths' wider test: also the list end (a block at a segment
   boundary: huge alignment puts the end in another unit), and, in a page
   in the full queue, a link to a block anywhere in mica's segments: the
   owner heap's delayed-free list (page.c) links blocks of its full pages
   across segments. Such a page never takes the fast path, and leaves the
   full queue only after its blocks left that list (_mi_page_unfull). Only
   there: on 32-bit a live block's pointer decodes into the heap with a
   chance of heap size / 4 GiB, and each costs a list walk. */
static inline bool mi_link_may_be_free(const mi_page_t* page, const mi_block_t* block, mi_encoded_t link) {
  return (mi_link_looks_free(page, block, link) || link == mi_link_encode(page, NULL) ||
          (mi_page_is_full(page) && _mi_ptr_is_known(mi_link_decode_raw(page, link))));
}
static inline bool mi_block_may_be_free(const mi_page_t* page, const mi_block_t* block) {
  return mi_link_may_be_free(page, block, mi_block_link_peek(block));
}

/* ---- the fast paths, shared by the mi_ API and the override exports ---- */

/* MI_DEBUG >= 2 fills a block handed out with MI_DEBUG_UNINIT and a freed
   one with MI_DEBUG_FREED (config.h; an embedder may choose the bytes), so
   a read of memory never written or already freed shows a known pattern.
   Both leave the block's first page->debug_offset bytes alone (the heap's
   debug_offset: a runtime's lock-free readers still look at them).
   Not for huge blocks (as in mimalloc: they may be gigabytes), nor under
   ThreadSanitizer (MI_TSAN) or a memory checker (MI_TRACK_ENABLED), which
   tracks the contents or poisons the block. */
#define MI_DEBUG_FILL (MI_DEBUG >= 2 && !MI_TSAN && !MI_TRACK_ENABLED)
#if MI_DEBUG_FILL
static inline void mi_debug_fill(const mi_page_t* page, void* block, int byte, size_t offset) {
  const size_t size = mi_page_block_size(page);
  if (offset < page->debug_offset) offset = page->debug_offset;   /* bytes a lock-free reader may still look at */
  if (!mi_page_is_huge(page) && offset < size) memset((uint8_t*)block + offset, byte, size - offset);
}

/* Use after free, where cheap: a freed block is filled with MI_DEBUG_FREED
   after its link (and the debug_offset bytes) and stamped, in its last
   word, with a value keyed by its address; when a stamped block is handed
   out again, the first MI_DEBUG_FREED_CHECK filled bytes must still hold
   the fill (page.c reports the first that does not). The stamp tells a
   freed block from one never handed out, whose bytes are anything; stale
   bytes cannot take it for one, as the stamp's key is random per process. */
#define MI_DEBUG_FREED_CHECK 64
static inline size_t mi_debug_fill_start(const mi_page_t* page) {
  return (page->debug_offset > sizeof(mi_block_t) ? page->debug_offset : sizeof(mi_block_t));
}
static inline uintptr_t mi_debug_freed_stamp(const mi_page_t* page, const void* block) {
  return ((uintptr_t)block ^ _mi_segment_cookie ^ page->debug_offset) * (uintptr_t)UINT64_C(0x9E3779B97F4A7C15);
}
/* the stamp's place, or NULL when the block has no room for it (or is huge: not filled) */
static inline uint8_t* mi_debug_freed_stamp_at(const mi_page_t* page, const void* block) {
  const size_t size = mi_page_block_size(page);
  if (mi_page_is_huge(page) || size < mi_debug_fill_start(page) + sizeof(uintptr_t)) return NULL;
  return (uint8_t*)block + size - sizeof(uintptr_t);
}
static inline void mi_debug_fill_freed(const mi_page_t* page, mi_block_t* block) {
  mi_debug_fill(page, block, MI_DEBUG_FREED, sizeof(mi_block_t));
  uint8_t* const at = mi_debug_freed_stamp_at(page, block);
  if (at != NULL) { const uintptr_t stamp = mi_debug_freed_stamp(page, block); memcpy(at, &stamp, sizeof(stamp)); }
}
/* Blocks just carved: their memory may hold the stamp of a block freed
   there before the page was (a page of the same size at the same place),
   with bytes written since by whatever used the memory in between. */
static inline void mi_debug_unstamp(const mi_page_t* page, uint8_t* first, size_t count) {
  const size_t size = mi_page_block_size(page);
  for (size_t i = 0; i < count; i++) {
    uint8_t* const at = mi_debug_freed_stamp_at(page, first + i * size);
    if (at != NULL) memset(at, 0, sizeof(uintptr_t));
  }
}
static inline void mi_debug_check_freed(const mi_page_t* page, const mi_block_t* block) {
  const uint8_t* const at = mi_debug_freed_stamp_at(page, block);
  if (at == NULL) return;
  uintptr_t stamp;
  memcpy(&stamp, at, sizeof(stamp));
  if (stamp != mi_debug_freed_stamp(page, block)) return;   /* not freed since it was carved */
  const size_t start = mi_debug_fill_start(page);
  size_t end = (size_t)(at - (const uint8_t*)block);
  if (end > start + MI_DEBUG_FREED_CHECK) end = start + MI_DEBUG_FREED_CHECK;
  for (size_t i = start; i < end; i++) {
    if (mi_unlikely(((const uint8_t*)block)[i] != MI_DEBUG_FREED)) { _mi_page_report_freed_write(page, block, i); return; }
  }
}
#endif

/* ---- padding (MI_PADDING) -----------------------------------------------
   A block of a request of `size` bytes at `p` (the block start, or inside
   the block for an aligned request) is laid out as
     [p, p + size)            the program's bytes: mi_usable_size is `size`
     [p + size, + 4)          canary: keyed by the block's address and the
                              process's random key, unaligned; its bytes are
                              never 0, so a stray string terminator shows
     [.., end - word)         slack, `delta` bytes; the first
                              MI_PADDING_FILL_MAX of them are MI_DEBUG_PADDING
     [end - word, end)        delta (a size_t), read back from the end
   so the request's end is end - MI_PADDING_SIZE - delta. Checked on free
   and by mi_usable_size (alloc.c). */
#if MI_PADDING
#define MI_PADDING_FILL_MAX 4096   /* a huge block's slack is up to a segment: check a bounded part */
static inline uint32_t mi_padding_canary(const mi_block_t* block) {
  const uintptr_t x = ((uintptr_t)block ^ _mi_segment_cookie) * (uintptr_t)UINT64_C(0xBF58476D1CE4E5B9);
  return (uint32_t)(x >> (MI_INTPTR_BITS - 32)) | 0x01010101u;
}
static inline uint8_t* mi_padding_delta_at(const mi_page_t* page, const mi_block_t* block) {
  return (uint8_t*)block + mi_page_block_size(page) - sizeof(size_t);
}
/* Place the canary right after `size` bytes at `p`, in `block`. */
static inline void mi_padding_set(const mi_page_t* page, const mi_block_t* block, void* p, size_t size) {
  uint8_t* const delta_at = mi_padding_delta_at(page, block);
  uint8_t* const canary_at = (uint8_t*)p + size;
  mi_assert_internal(canary_at + sizeof(uint32_t) <= delta_at);
  const uint32_t canary = mi_padding_canary(block);
  memcpy(canary_at, &canary, sizeof(canary));
  const size_t delta = (size_t)(delta_at - canary_at) - sizeof(uint32_t);
  memset(canary_at + sizeof(uint32_t), MI_DEBUG_PADDING, (delta < MI_PADDING_FILL_MAX ? delta : MI_PADDING_FILL_MAX));
  memcpy(delta_at, &delta, sizeof(delta));
}
/* The requested size recorded for `p` in `block`, unchecked; at most what
   the block has room for (the record may be overwritten). */
static inline size_t mi_padding_size(const mi_page_t* page, const mi_block_t* block, const void* p) {
  const uint8_t* const delta_at = mi_padding_delta_at(page, block);
  const size_t room = (size_t)(delta_at - (const uint8_t*)p) - sizeof(uint32_t);
  size_t delta;
  memcpy(&delta, delta_at, sizeof(delta));
  return (delta <= room ? room - delta : room);
}
#endif
/* A request shrinks in its block (realloc in place, an aligned
   allocation's extra bytes): the canary moves to its new end, so that
   mi_usable_size says `newsize`. Nothing without padding. */
static inline void mi_padding_resize(void* p, size_t newsize) {
#if MI_PADDING
  const mi_page_t* page = _mi_ptr_page(p);
  mi_padding_set(page, _mi_page_block_start(page, p), p, newsize);
#else
  (void)p; (void)newsize;
#endif
}

/* The aligned mark (MI_DEBUG >= 2 and MI_SECURE, whose frees refuse
   interior pointers): an aligned allocation that places its pointer inside
   its block puts this word just before it (alloc-aligned.c), so that free
   can tell that pointer from an interior one of the same block (free.c).
   Keyed by the address and the process's random key, like the canary: a
   copy from another block never matches, program data by chance only.
   The word lies in the block's bytes before the pointer, which the program
   does not own; it is cleared when the block is freed. */
#define MI_ALIGNED_MARK (MI_DEBUG > 1 || MI_SECURE)
#if MI_ALIGNED_MARK
static inline uintptr_t mi_aligned_mark(const void* p) {
  return ((uintptr_t)p ^ _mi_segment_cookie) * (uintptr_t)UINT64_C(0xD6E8FEB86659FD93);
}
static inline void mi_aligned_mark_set(void* p, bool on) {
  uintptr_t* const at = (uintptr_t*)p - 1;
  mi_track_mem_undefined(at, sizeof(*at));
  *at = (on ? mi_aligned_mark(p) : 0);
  mi_track_mem_noaccess(at, sizeof(*at));
}
/* `p`, in `block` of a page with aligned blocks, is its block's start or
   a pointer an aligned allocation handed out */
static inline bool mi_aligned_is_marked(const mi_block_t* block, const void* p) {
  if (p == (const void*)block) return true;
  if ((size_t)((const uint8_t*)p - (const uint8_t*)block) < sizeof(uintptr_t)) return false;
  return (mi_track_peek_word((const uintptr_t*)p - 1) == mi_aligned_mark(p));   /* an interior pointer's word is the program's */
}
#endif

/* Hand out `block`, the head of the page's `free` list, for a request of
   `size` bytes (what a memory checker lets the program touch). No lock, no
   atomic operation. */
static inline void* mi_page_hand_out(mi_page_t* page, mi_block_t* block, size_t size, bool zero) {
  (void)size;
#if MI_DEBUG_FILL
  mi_debug_check_freed(page, block);
#endif
  mi_block_t* const next = mi_block_next_raw(page, block);
#if MI_SECURE
  page->free = (mi_likely(mi_page_link_is_valid(page, next)) ? next : _mi_page_free_corrupt(page, block, next));
#else
  page->free = next;
#endif
  page->used++;
  if (mi_likely(!zero) || (page->is_zero_init && page->reserved == 1)) {
    /* no stale link, so a later free cannot take the block for a free one
       (and in a fresh single-block page the link is all that was written) */
    mi_track_mem_undefined(block, sizeof(mi_block_t));
    block->next = 0;
#if MI_DEBUG_FILL
    if (!zero) mi_debug_fill(page, block, MI_DEBUG_UNINIT, 0);   /* the link too: it is no longer one */
#endif
  } else {
    mi_track_mem_undefined(block, mi_page_block_size(page));
    memset(block, 0, mi_page_block_size(page));
  }
#if MI_PADDING
  mi_padding_set(page, block, block, size);
#endif
  mi_track_malloc(block, size, mi_page_block_size(page), zero);
  return block;
}

/* Pop a block from a page: the malloc fast path. The owner's frees go onto
   `free` itself, so steady-state reuse never leaves this path; when `free`
   is empty, blocks collected from other threads' frees (local_free) are
   taken in one step. Owner frees once went to local_free, and a free/malloc
   rotation paid 5 instructions a pair to move them (doc/benchmarks.md). */
static inline void* _mi_page_malloc_inline(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero) {
  mi_block_t* block = page->free;
  /* empty: NULL or the list end. A small page has no block at a segment
     boundary, so one test of the low bits tells both (mi_list_end) */
  if (mi_unlikely(((uintptr_t)block & MI_SEGMENT_MASK) == 0)) {
    block = page->local_free;
    if (mi_unlikely(block == NULL)) return _mi_alloc_generic(heap, size, zero, 0);
    page->local_free = NULL;
  }
  return mi_page_hand_out(page, block, size, zero);
}

/* Free a block into its page's local list: the owner thread, after the
   checks (free.c), or the owner taking a delayed free (page.c). */
static inline void mi_page_free_block_local(mi_page_t* page, mi_block_t* block) {
  mi_assert_internal(page->used > 0);
  mi_block_set_next(page, block, page->free);
  page->free = block;
  if (mi_unlikely(--page->used == 0)) _mi_page_retire(page);
  else if (mi_unlikely(mi_page_is_full(page))) _mi_page_unfull(page);
}

static inline void* _mi_malloc_inline(size_t size) {
  mi_heap_t* heap = mi_get_default_heap();
  if (mi_likely(size <= MI_SMALL_SIZE_MAX)) {
    return _mi_page_malloc_inline(heap, _mi_heap_get_free_small_page(heap, size), size, false);
  }
  return _mi_alloc_generic(heap, size, false, 0);
}

/* Free: the segment map vouches for the pointer before any of its memory
   is read; then a same-thread free into a page that is neither full nor
   holding aligned blocks is three stores, no atomic operation. */
static inline void _mi_free_inline(void* p) {
  /* every segment but a huge one is sliced: one compare of the map's shift
     sends NULL, foreign pointers and huge blocks out of line, and the
     descriptor's index is a constant shift. Indexed by `p`, not `p - 1`
     (_mi_ptr_segment): no block of a sliced segment starts at its base
     (its header's descriptor is never in use, so such a wild pointer goes
     to the slow path, which checks it), and a huge-aligned block at a unit
     boundary lands on a unit the map leaves 0, so out of line. The base is
     the index shifted back (kept opaque, or GCC masks a copy of `p`):
     two instructions fewer (bench-pair, doc/benchmarks.md). */
  uintptr_t unit = (uintptr_t)p >> MI_SEGMENT_SHIFT;
  if (mi_unlikely(unit >= MI_SEGMENT_MAP_SIZE || _mi_segment_map_peek(unit) != MI_SLICE_SHIFT)) {
    _mi_free_not_sliced(p);
    return;
  }
  mi_opaque(unit);
  mi_segment_t* const segment = (mi_segment_t*)(unit << MI_SEGMENT_SHIFT);
  /* as _mi_segment_slice_of (no segment load); a continuation slice has
     has_aligned set, so xfast_tid 0: slow path */
  uintptr_t page_offset = (((uintptr_t)p & MI_SEGMENT_MASK) >> MI_SLICE_SHIFT) * sizeof(mi_page_t);
  mi_opaque(page_offset);   /* one shift and mask: else gcc scales a slice index apart, one more instruction */
  mi_page_t* const page = (mi_page_t*)((uint8_t*)segment->pages + page_offset);
  mi_block_t* const block = (mi_block_t*)p;
  /* our page, in use, not full, no aligned blocks: one load (types.h) */
  /* MI_SECURE: the block-start check first, so that a refused interior
     pointer is never peeked at (with MI_TRACK_ASAN the peek leaves the
     word it read poisoned, in a block that stays live) */
  if (mi_likely(_mi_thread_id() == mi_atomic_load_relaxed(&page->xfast_tid) && MI_DEBUG < 2 && MI_PADDING == 0 &&
                (MI_SECURE == 0 || mi_page_is_block_start(page, p)) && !mi_segment_block_looks_free(segment, page, block))) {
    mi_track_free(p, mi_page_block_size(page));
    mi_block_set_next_raw(page, block, page->free);
    page->free = block;
    /* the last block: retire the page, unless it is retired already (then
       its countdown just runs on); by pointer, to keep the page address
       off the fast path */
    if (mi_unlikely(--page->used == 0) && page->retire_expire == 0) _mi_page_retire_of(p);
  } else {
    _mi_free_generic_ptr(p);   /* recomputes what it needs: nothing to keep live on the fast path */
  }
}

/* Bounded wait for a transient state held by another thread for a few
   instructions: spin briefly with the CPU hint, then yield to the OS so a
   preempted holder can run. Never a lock. */
#define _mi_wait_while(cond) do { \
    unsigned _mi_spins = 0; \
    while (cond) { if (++_mi_spins < 64) _mi_arch_pause(); else _mi_prim_thread_yield(); } \
  } while (0)

MI_EXTERN_C_END
MI_HIDDEN_END

#endif
