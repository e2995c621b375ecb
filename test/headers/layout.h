/* SPDX-License-Identifier: MIT */
/* What a C unit and a C++ unit that include mica's headers must agree on:
   the size and alignment of each type (the atomic ones among them), the
   offset and size of each field the library and an includer share (every
   atomic field among them), where mi_page_t's bit-fields fall, and what a
   few inline helpers and the atomic wrappers compute. Compiled twice, as C
   (layout-c.c) and as C++ (test-headers-cxx.cpp), after mica's headers; the
   C++ program compares the two lists of values (check-headers-cxx.sh). */
#ifndef MICA_TEST_HEADERS_LAYOUT_H
#define MICA_TEST_HEADERS_LAYOUT_H

/* the language's own keyword, so the test does not rely on arch.h's */
#ifdef __cplusplus
#define LAYOUT_ALIGNOF(t) alignof(t)
#else
#define LAYOUT_ALIGNOF(t) _Alignof(t)
#endif

#define LAYOUT_TYPES(T) \
  T(mi_block_t) T(mi_page_t) T(mi_memid_t) T(mi_segment_t) T(mi_segment_queue_t) T(mi_page_queue_t) \
  T(mi_random_ctx_t) T(mi_heap_t) T(mi_stat_count_t) T(mi_stats_t) T(mi_tld_t) T(mi_subproc_t) \
  T(mi_arena_t) T(mi_os_info_t) T(mi_delayed_t) T(mi_page_kind_t) T(mi_lock_id_t) T(mi_heap_area_t) \
  T(mi_atomic(uintptr_t)) T(mi_atomic(intptr_t)) T(mi_atomic(uint32_t)) T(mi_atomic(uint8_t))

#define LAYOUT_FIELDS(F) \
  F(mi_page_t, segment_idx) F(mi_page_t, xflags) F(mi_page_t, slice_offset) F(mi_page_t, capacity) \
  F(mi_page_t, reserved) F(mi_page_t, used) F(mi_page_t, heap_tag) F(mi_page_t, xblock_size) \
  F(mi_page_t, free) F(mi_page_t, local_free) F(mi_page_t, xthread_free) F(mi_page_t, xheap) F(mi_page_t, xfast_tid) \
  F(mi_page_t, next) F(mi_page_t, prev) \
  F(mi_memid_t, units) F(mi_memid_t, is_pinned) \
  F(mi_segment_t, memid) F(mi_segment_t, segment_size) F(mi_segment_t, cookie) F(mi_segment_t, used) \
  F(mi_segment_t, page_shift) F(mi_segment_t, page_kind) F(mi_segment_t, purge_expire) \
  F(mi_segment_t, commit_mask) F(mi_segment_t, subproc) F(mi_segment_t, dont_free) F(mi_segment_t, tld) \
  F(mi_segment_t, xthread_id) F(mi_segment_t, pages) \
  F(mi_page_queue_t, block_size) \
  F(mi_heap_t, tld) F(mi_heap_t, pages_free_direct) F(mi_heap_t, pages) F(mi_heap_t, xthread_delayed_free) \
  F(mi_heap_t, thread_id) F(mi_heap_t, cookie) F(mi_heap_t, random) F(mi_heap_t, page_count) \
  F(mi_heap_t, next) F(mi_heap_t, generic_count) F(mi_heap_t, arena_id) F(mi_heap_t, tag) \
  F(mi_heap_t, no_reclaim) \
  F(mi_stat_count_t, xcurrent) F(mi_stat_count_t, xpeak) F(mi_stat_count_t, xtotal) \
  F(mi_stats_t, committed) F(mi_stats_t, reclaimed) \
  F(mi_tld_t, heartbeat) F(mi_tld_t, recurse) F(mi_tld_t, heap_backing) F(mi_tld_t, heaps) \
  F(mi_tld_t, segments) F(mi_segments_tld_t, sliced_free) F(mi_segments_tld_t, count) \
  F(mi_segments_tld_t, purge_check) F(mi_segments_tld_t, abandoned) \
  F(mi_subproc_t, abandoned_last) F(mi_subproc_t, xabandoned_count) F(mi_subproc_t, xthread_count) \
  F(mi_arena_t, xstart) F(mi_arena_t, unit_count) F(mi_arena_t, numa_node) F(mi_arena_t, is_huge) \
  F(mi_arena_t, xpurge_expire) F(mi_arena_t, xin_use) F(mi_arena_t, xdirty) F(mi_arena_t, xcommitted) \
  F(mi_arena_t, xpurge)

/* the helpers: each an expression of the headers' inline functions and
   macros, evaluated in both languages */
#define LAYOUT_HELPERS(H) \
  H(MI_BIN_HUGE) H(MI_PAGES_DIRECT) H(MI_MAX_ALIGN_SIZE) H(MI_BLOCK_ALIGN_SIZE) H(MI_SEGMENT_MAP_SIZE) \
  H(MI_ARENA_MAP_WORDS) H(MI_THREAD_ID_SOURCE) H(MI_DEBUG_FILL) H(MI_HAS_THREAD_POINTER) \
  H(_mi_align_up(1000, 64)) H(_mi_align_up(1000, 48)) H(_mi_align_down(1000, 48)) \
  H(_mi_divide_up(1000, 7)) H(mi_bsr(0x12345)) H(_mi_is_power_of_two(4096)) \
  H(layout_mul_overflow(SIZE_MAX / 2, 3)) H(layout_mul_overflow(1000, 1000)) \
  H((uintptr_t)_mi_ptr_segment((void*)(5 * MI_SEGMENT_SIZE + 100))) \
  H((uintptr_t)_mi_ptr_segment((void*)(6 * MI_SEGMENT_SIZE))) \
  H(mi_tf_make((mi_block_t*)0x1000, MI_NEVER_DELAYED_FREE)) H(mi_tf_delayed(0x1002)) \
  H((uintptr_t)mi_tf_block(0x1003)) H(mi_link_encode(&layout_page, (const mi_block_t*)0x2000)) \
  H((uintptr_t)mi_link_decode(&layout_page, mi_link_encode(&layout_page, (const mi_block_t*)0x2000))) \
  H(_mi_os_clock_expired(0xFFFFFFF0u, 5)) H(_mi_os_clock_expired(5, 0xFFFFFFF0u)) \
  H(layout_page_bits()) H(layout_atomics())

/* a zeroed page descriptor of this unit's own */
static mi_page_t layout_page;

static inline size_t layout_mul_overflow(size_t count, size_t size) {
  size_t total;
  return mi_mul_overflow(count, size, &total) ? 1 : total;
}

/* Sets mi_page_t's bit-fields and flags through the helpers, then reads the
   descriptor's first eight bytes as bytes. */
static inline uint64_t layout_page_bits(void) {
  layout_page.segment_idx = 0xA5;
  layout_page.segment_in_use = 1;
  layout_page.is_zero_init = 0;
  layout_page.is_purged = 1;
  layout_page.retire_expire = 0x13;
  /* the flags byte by hand: mi_page_set_flag also reads the page's segment
     (xfast_tid), which this static descriptor does not have */
  mi_atomic_store_relaxed(&layout_page.xflags, (uint8_t)(MI_PAGE_IN_FULL | MI_PAGE_HAS_ALIGNED));
  mi_atomic_store_relaxed(&layout_page.xflags, (uint8_t)MI_PAGE_IN_FULL);
  layout_page.slice_offset = 0x5A;
  layout_page.capacity = 0x1234;
  const unsigned char* b = (const unsigned char*)&layout_page;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
  return v + (mi_page_is_full(&layout_page) ? 1000 : 0) + (mi_page_has_aligned(&layout_page) ? 2000 : 0);
}

/* Every wrapper of atomic.h once, on this unit's own atomics. */
static mi_atomic(uintptr_t) layout_word;
static mi_atomic(uint32_t) layout_u32;
static inline uintptr_t layout_atomics(void) {
  mi_atomic_store_relaxed(&layout_word, 5);
  mi_atomic_store_release(&layout_word, mi_atomic_load_relaxed(&layout_word) + 1);        /* 6 */
  uintptr_t old = mi_atomic_exchange_acq_rel(&layout_word, 10);                           /* 6 */
  old += mi_atomic_fetch_add_relaxed(&layout_word, 3);                                    /* 10; 13 */
  old += mi_atomic_fetch_sub_relaxed(&layout_word, 1);                                    /* 13; 12 */
  old += mi_atomic_fetch_add_acq_rel(&layout_word, 4);                                    /* 12; 16 */
  old += mi_atomic_fetch_or_acq_rel(&layout_word, 0x100);                                 /* 16; 0x110 */
  old += mi_atomic_fetch_and_acq_rel(&layout_word, 0xF0F);                                /* 0x110; 0x100 */
  uintptr_t expected = 1;
  bool ok = mi_atomic_cas_weak_relaxed(&layout_word, &expected, 2);                        /* fails: expected 0x100 */
  while (!mi_atomic_cas_weak_release(&layout_word, &expected, expected + 1)) { }          /* 0x101 */
  expected = mi_atomic_load_acquire(&layout_word);
  while (!mi_atomic_cas_weak_acq_rel(&layout_word, &expected, expected * 2)) { }          /* 0x202 */
  expected = 0x202;
  ok = ok || !mi_atomic_cas_strong_acq_rel(&layout_word, &expected, 0x303);                /* 0x303 */
  mi_atomic_store_relaxed(&layout_u32, 0xFFFFFFFFu);
  mi_atomic_fetch_add_relaxed(&layout_u32, 2);                                            /* wraps to 1 */
  return (ok ? 1 : 0) + old * 0x10000 + mi_atomic_load_relaxed(&layout_word) + mi_atomic_load_relaxed(&layout_u32);
}

/* The list of values; returns their count (at most LAYOUT_MAX). */
#define LAYOUT_MAX 512
static inline size_t layout_values(uint64_t* v) {
  size_t n = 0;
#define LAYOUT_TYPE_VALUES(t)     v[n++] = sizeof(t); v[n++] = LAYOUT_ALIGNOF(t);
#define LAYOUT_FIELD_VALUES(t, f) v[n++] = offsetof(t, f); v[n++] = sizeof(((t*)0)->f);
#define LAYOUT_HELPER_VALUES(e)   v[n++] = (uint64_t)(e);
  LAYOUT_TYPES(LAYOUT_TYPE_VALUES)
  LAYOUT_FIELDS(LAYOUT_FIELD_VALUES)
  LAYOUT_HELPERS(LAYOUT_HELPER_VALUES)
  return n;
}

/* The name of value i, for the report. */
static inline const char* layout_name(size_t i) {
#define LAYOUT_TYPE_NAMES(t)      "sizeof(" #t ")", "alignof(" #t ")",
#define LAYOUT_FIELD_NAMES(t, f)  "offsetof(" #t ", " #f ")", "sizeof(" #t "." #f ")",
#define LAYOUT_HELPER_NAMES(e)    #e,
  static const char* const names[] = {
    LAYOUT_TYPES(LAYOUT_TYPE_NAMES) LAYOUT_FIELDS(LAYOUT_FIELD_NAMES) LAYOUT_HELPERS(LAYOUT_HELPER_NAMES)
  };
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

#endif
