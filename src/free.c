/* SPDX-License-Identifier: MIT */
/* Freeing: the same-thread fast path, the cross-thread path (one atomic
   push), delayed frees into full pages, and invalid-pointer detection. */
#include "mica/internal.h"

/* ---- double free --------------------------------------------------------
   A block on a free list has an encoded link as its first word, so a free
   whose block does not look like that (mi_block_looks_free, on the fast
   path) cannot be a double free. One that does is confirmed by walking the
   lists the block could be on; a live block whose data only looks like a
   link costs the walk and is freed as usual. Walks are bounded and follow
   only links that stay inside the page, so they are safe even when another
   thread owns the lists; from a non-owner thread the answer is best effort
   (the owner may be moving blocks between lists meanwhile). */
static bool mi_list_contains(const mi_page_t* page, const mi_block_t* list, const mi_block_t* block) {
  const uint8_t* const start = mi_page_start(page);
  const size_t area = (size_t)page->capacity * mi_page_block_size(page);
  for (size_t n = 0; list != NULL && n <= page->capacity; n++) {
    if (list == block) return true;
    if ((size_t)((const uint8_t*)list - start) >= area) return false;   /* not a link of this page */
    list = mi_block_next(page, list);
  }
  return false;
}

/* The owner heap's delayed-free list holds at most one block of the page,
   which the page names (types.h: the list itself is not walked). */
static bool mi_delayed_list_contains(const mi_page_t* page, const mi_block_t* block) {
  return (mi_atomic_load_acquire(&((mi_page_t*)page)->xdelayed_block) == (uintptr_t)block);
}

static mi_decl_noinline bool mi_check_is_double_free(const mi_page_t* page, const mi_block_t* block) {
  /* acquire: the links of the blocks other threads pushed (release CAS) */
  const mi_block_t* tfree = mi_tf_block(mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_free));
  if (mi_list_contains(page, mi_page_free_first(page), block) || mi_list_contains(page, page->local_free, block) ||
      mi_list_contains(page, tfree, block) || mi_delayed_list_contains(page, block)) {
    _mi_message_error(EAGAIN, "double free detected of block %p with size %zu (the second free is ignored)\n",
                      (void*)block, mi_page_block_size(page));
    return true;
  }
  return false;
}

static inline bool mi_free_is_double(const mi_page_t* page, const mi_block_t* block) {
  return ((MI_DEBUG > 1 || mi_block_may_be_free(page, block)) && mi_check_is_double_free(page, block));
}

/* From a thread that does not own the page the walk reads the owner's
   lists while it changes them: harmless here, but under ThreadSanitizer
   (MI_TSAN) every such read is a reported race (147 reports in a run of
   CPython's free-threaded build, contrib/cpython/tsan.sh), so a TSan build
   checks double frees only in the owner's frees. */
static inline bool mi_free_mt_is_double(const mi_page_t* page, const mi_block_t* block) {
#if MI_TSAN
  (void)page; (void)block;
  return false;
#else
  return mi_free_is_double(page, block);
#endif
}

#if MI_ALIGNED_MARK
static mi_decl_noinline mi_decl_cold bool mi_report_not_block_start(const void* p) {
  _mi_message_error(EINVAL, "mi_free: invalid pointer %p (not the start of a mica block)\n", p);
  return true;
}
#endif

/* A pointer inside a known segment that is not a live block: in no page
   in use (a block of a freed large page freed again, or a wild pointer),
   before the page's blocks, or (MI_DEBUG >= 2, MI_SECURE >= 1) not at a
   block start (the fast path lets only block starts through at MI_SECURE). Any
   thread may ask: "in use" is read from the atomic flags byte (the
   segment_in_use bit shares a byte with fields the owner writes). A page's
   blocks start at its first unit, except where the segment header comes
   first (the first medium page, a huge page; in a sliced segment the
   header's slice is no page): so "before the blocks" is "in the header",
   one compare instead of the page's start (_mi_segment_page_start). */
static bool mi_check_is_invalid_block(const mi_segment_t* segment, const mi_page_t* page, const void* p, bool local) {
  mi_assert_internal(mi_page_has_flag(page, MI_PAGE_UNUSED) ||
                     (((const uint8_t*)p < mi_page_start(page)) == ((size_t)((const uint8_t*)p - (const uint8_t*)segment) < segment->segment_info_size)));
  if (mi_page_has_flag(page, MI_PAGE_UNUSED) || mi_page_block_size(page) == 0 ||
      (size_t)((const uint8_t*)p - (const uint8_t*)segment) < segment->segment_info_size) {
    _mi_message_error(EINVAL, "mi_free: invalid pointer %p (in no page in use: freed twice, or not a mica block)\n", p);
    return true;
  }
#if MI_ALIGNED_MARK
  if ((uintptr_t)segment->cookie != ((uintptr_t)segment ^ _mi_segment_cookie) ||
      (!mi_page_has_aligned(page) && ((size_t)((const uint8_t*)p - mi_page_start(page)) % mi_page_block_size(page)) != 0)) {
    return mi_report_not_block_start(p);
  }
  /* in a page with aligned blocks: the block's start, or an aligned
     allocation's pointer (its mark); else a double free of such a pointer
     (its mark went with the first free; the block is on a list), or an
     interior pointer. The block's first word alone cannot tell: a live
     block's cleared link may decode like one (MI_SECURE: with the page's
     random keys; test/wrong/aligned-lookalike.c), so a look-alike is
     walked for. A guarded block is checked by guarded.c. */
  const mi_block_t* block;
  if (mi_page_has_aligned(page) && !mi_page_has_flag(page, MI_PAGE_GUARDED) &&
      !mi_aligned_is_marked(block = _mi_page_block_start(page, p), p)) {
    const bool is_double = mi_link_may_be_free(page, block, (mi_encoded_t)mi_track_peek_word(block)) &&
                           (local ? mi_check_is_double_free(page, block) : mi_free_mt_is_double(page, block));
    return (is_double || mi_report_not_block_start(p));   /* a double free was reported as one */
  }
#else
  (void)local;
#endif
  return false;
}

/* Free into a page owned by another thread: one CAS push onto its
   thread-free list, then one count (xthread_freed, types.h: the owner
   subtracts the count from `used` without walking the list, whose blocks
   it has to fetch from this thread's cache); or, while the page is in its
   owner's full queue, onto the owner heap's delayed-free list (then the
   owner moves the page back). */
static void mi_free_block_local(mi_page_t* page, mi_block_t* block, bool check_double);

static inline void mi_free_count_pushed(mi_page_t* page) {
  mi_atomic_fetch_add_acq_rel(&page->xthread_freed, 1);   /* after the push: the owner takes counts before lists */
}

static mi_decl_noinline void mi_free_block_mt(mi_segment_t* segment, mi_page_t* page, mi_block_t* block) {
  mi_assert_internal(!mi_page_has_flag(page, MI_PAGE_UNUSED) && _mi_page_segment(page) == segment);   /* the flags byte: any thread may read it */
  if (mi_atomic_load_acquire(&segment->xthread_id) == 0) {   /* abandoned */
    if (segment->page_kind == MI_PAGE_HUGE) {
      if (_mi_segment_huge_page_free_abandoned(segment)) return;
    }
    else if (_mi_segment_reclaim_on_free(segment, mi_heap_is_initialized(mi_get_default_heap()) ? mi_get_default_heap() : NULL)) {   /* abandoned_reclaim_on_free: now ours */
      mi_free_block_local(page, block, true);
      return;
    }
  }
  if (mi_free_mt_is_double(page, block)) return;
#if MI_DEBUG_FILL
  mi_debug_fill_freed(page, block);   /* before the release CAS publishes it */
#endif
  uintptr_t tfree = mi_atomic_load_relaxed(&page->xthread_free);
  uintptr_t tfreex;
  bool use_delayed;
  do {
    use_delayed = (mi_tf_delayed(tfree) == MI_USE_DELAYED_FREE);
    if (mi_unlikely(use_delayed)) {
      tfreex = mi_tf_set_delayed(tfree, MI_DELAYED_FREEING);   /* claim the right to use the heap */
    } else {
      mi_block_set_next(page, block, mi_tf_block(tfree));
      tfreex = mi_tf_set_block(tfree, block);
    }
  } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tfree, tfreex));
  if (mi_likely(!use_delayed)) {
    mi_free_count_pushed(page);
    return;
  }

  /* the owner cannot change the heap or the flag while we are DELAYED_FREEING */
  mi_heap_t* heap = (mi_heap_t*)mi_atomic_load_acquire(&page->xheap);
  if (heap != NULL) {
    mi_atomic_store_release(&page->xdelayed_block, (uintptr_t)block);
    uintptr_t head = mi_atomic_load_relaxed(&heap->xthread_delayed_free);
    do { mi_block_set_next(page, block, (mi_block_t*)head); }
    while (!mi_atomic_cas_weak_release(&heap->xthread_delayed_free, &head, (uintptr_t)block));
  }
  tfree = mi_atomic_load_relaxed(&page->xthread_free);
  do {
    if (heap == NULL) {   /* no heap to tell: keep the block on the page */
      mi_block_set_next(page, block, mi_tf_block(tfree));
      tfreex = mi_tf_make(block, MI_NO_DELAYED_FREE);
    } else {
      tfreex = mi_tf_set_delayed(tfree, MI_NO_DELAYED_FREE);
    }
  } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tfree, tfreex));
  if (heap == NULL) mi_free_count_pushed(page);
}

static inline void mi_free_block_local(mi_page_t* page, mi_block_t* block, bool check_double) {
  if (check_double && mi_free_is_double(page, block)) return;
#if MI_DEBUG_FILL
  mi_debug_fill_freed(page, block);   /* the link word follows */
#endif
  mi_page_free_block_local(page, block);
}

static inline void mi_free_generic(mi_segment_t* segment, mi_page_t* page, bool local, void* p) {
  page = _mi_page_resolve(page);
  if (mi_check_is_invalid_block(segment, page, p, local)) return;
  if (mi_unlikely(mi_page_has_flag(page, MI_PAGE_GUARDED))) { _mi_guarded_free(page, p); return; }   /* quarantined */
  mi_block_t* block = (mi_page_has_aligned(page) ? _mi_page_block_start(page, p) : (mi_block_t*)p);
#if MI_ALIGNED_MARK
  /* its pointer can no longer be freed; not written in a double free (no
     mark: the word may be the free block's link) */
  if ((void*)block != p && mi_aligned_is_marked(block, p)) mi_aligned_mark_set(p, false);
#endif
#if MI_PADDING
  /* an overflow is reported and the block freed all the same: the canary
     and slack are its own bytes (one that ran past the block's end has
     hit its neighbour's, which no check here can mend). Not for a block
     that looks free: a double free, confirmed and reported below. */
  if (!mi_block_may_be_free(page, block)) (void)_mi_alloc_padding_check(page, block, p);
#endif
  mi_track_free(p, _mi_page_usable_size(page, p));
  if (mi_likely(local)) mi_free_block_local(page, block, true);
  else mi_free_block_mt(segment, page, block);
}

/* `p` is in the live segment _mi_ptr_segment(p) (found by `p - 1`). */
static void mi_free_generic_in_segment(void* p) {
  mi_segment_t* segment = _mi_ptr_segment(p);
  const bool local = (_mi_thread_id() == mi_atomic_load_relaxed(&segment->xthread_id));
  mi_free_generic(segment, _mi_segment_slice_of(segment, p), local, p);
}

/* The free slow path from the fast path, which found a live sliced segment
   by `p` itself: the same segment as by `p - 1`, unless `p` is the
   segment's base (a wild pointer at its header), which the other way out
   checks. */
void _mi_free_generic_ptr(void* p) {
  if (mi_unlikely(((uintptr_t)p & MI_SEGMENT_MASK) == 0)) _mi_free_not_sliced(p);
  else mi_free_generic_in_segment(p);
}

/* A block whose free was checked before (a guarded block leaving the
   quarantine, guarded.c), from any thread. */
void _mi_free_block(mi_page_t* page, mi_block_t* block) {
  mi_segment_t* segment = _mi_page_segment(page);
  if (_mi_thread_id() == mi_atomic_load_relaxed(&segment->xthread_id)) mi_free_block_local(page, block, false);
  else mi_free_block_mt(segment, page, block);
}

static mi_decl_noinline mi_decl_cold void mi_free_invalid(void* p) {
  _mi_message_error(EINVAL, "mi_free: invalid pointer %p (not allocated by mica)\n", p);
}

/* The fast path's way out for a pointer in no sliced segment, found by `p`
   (a huge-aligned block at a unit boundary lies past its segment's unit). */
void _mi_free_not_sliced(void* p) {
  if (_mi_ptr_is_known(p)) mi_free_generic_in_segment(p);   /* a huge block, or a segment's end */
  else if (p != NULL) mi_free_invalid(p);             /* foreign or wild: report, touch nothing */
}

void mi_free(void* p) {
  _mi_free_inline(p);
}

/* mimalloc v3 frees small blocks faster here; mica's mi_free is as fast */
void mi_free_small(void* p) { mi_free(p); }

void mi_free_size(void* p, size_t size)                           { (void)size; mi_free(p); }
void mi_free_size_aligned(void* p, size_t size, size_t alignment)  { (void)size; (void)alignment; mi_free(p); }
void mi_free_aligned(void* p, size_t alignment)                    { (void)alignment; mi_free(p); }
void mi_cfree(void* p) { if (mi_is_in_heap_region(p)) mi_free(p); }
