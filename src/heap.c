/* SPDX-License-Identifier: MIT */
/* Heaps: creation, deletion (blocks move to the backing heap), destruction
   (blocks are freed at once), collection and analysis. A heap is used only
   by the thread that created it (a runtime may abandon the heaps of a
   thread that is done, or visit them while it is paused: doc/embedding.md,
   "Runtime support"). */
#include "mica/internal.h"
#include "runtime-hooks.h"

typedef bool (mi_heap_page_visitor_fun)(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg);

/* Visit every page of every queue; the visitor may free or move the page. */
static bool mi_heap_visit_pages(mi_heap_t* heap, mi_heap_page_visitor_fun* fn, void* arg) {
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &heap->pages[bin];
    mi_page_t* page = pq->first;
    while (page != NULL) {
      mi_page_t* next = page->next;
      if (!fn(heap, pq, page, arg)) return false;
      page = next;
    }
  }
  return true;
}

void _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, bool no_reclaim, uint8_t tag, int arena_id) {
  memcpy((void*)heap, &_mi_heap_empty, sizeof(*heap));
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) heap->pages[bin].block_size = _mi_bin_size(bin);
  heap->pages[MI_BIN_FULL].block_size = MI_FULL_QUEUE_SIZE;
  heap->tld = tld;
  heap->thread_id = _mi_thread_id();
  heap->no_reclaim = no_reclaim;
  heap->tag = tag;
  heap->arena_id = arena_id;
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
  if (tld->heap_backing != NULL && tld->heap_backing != heap) _mi_random_split(&tld->heap_backing->random, &heap->random);
  else _mi_random_init(&heap->random);
  heap->cookie = _mi_random_next(&heap->random) | 1;
  _mi_guarded_heap_init(heap);
  heap->next = tld->heaps;
  tld->heaps = heap;
}

/* A heap with pages tagged `heap_tag`; `allow_destroy`: mi_heap_destroy
   may free it at once, so it never takes abandoned pages of other threads
   (else it does, and mi_heap_destroy falls back to mi_heap_delete);
   `arena_id` != 0: it takes memory only from that arena, and allocations
   fail (ENOMEM) when it is full. */
mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id) {
  if (heap_tag < 0 || heap_tag > UINT8_MAX) {
    _mi_message_error(EINVAL, "mi_heap_new_ex: heap tag %d is not in 0..255\n", heap_tag);
    return NULL;
  }
  if (arena_id != 0 && !_mi_arena_id_is_valid((int)arena_id)) {
    _mi_message_error(EINVAL, "mi_heap_new_ex: %d is not an arena id\n", (int)arena_id);
    return NULL;
  }
  mi_heap_t* bheap = mi_heap_get_backing();
  if (bheap == NULL) return NULL;
  mi_heap_t* heap = (mi_heap_t*)mi_heap_malloc(bheap, sizeof(mi_heap_t));
  if (heap == NULL) return NULL;
  _mi_heap_init(heap, bheap->tld, allow_destroy, (uint8_t)heap_tag, (int)arena_id);
  return heap;
}

/* As in mimalloc, not destroyable: it may take over segments of its arena
   that exited threads abandoned. */
mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id) {
  return mi_heap_new_ex(0, false, arena_id);
}

mi_heap_t* mi_heap_new(void) {
  return mi_heap_new_ex(0, true, 0);
}

/* The heap of the thread of `heap` with tag `tag` that may take reclaimed
   pages (not one that may be destroyed); NULL if there is none. */
mi_heap_t* _mi_heap_by_tag(mi_heap_t* heap, uint8_t tag) {
  if (heap->tag == tag && !heap->no_reclaim) return heap;
  for (mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) {
    if (h->tag == tag && !h->no_reclaim) return h;
  }
  return NULL;
}

static void mi_heap_unlink_and_free(mi_heap_t* heap) {
  mi_tld_t* tld = heap->tld;
  if (mi_get_default_heap() == heap) _mi_heap_set_default_direct(tld->heap_backing);
  mi_heap_t* prev = NULL;
  mi_heap_t* cur = tld->heaps;
  while (cur != NULL && cur != heap) { prev = cur; cur = cur->next; }
  if (cur == heap) {
    if (prev != NULL) prev->next = heap->next;
    else tld->heaps = heap->next;
  }
  mi_free(heap);
}

static void mi_heap_reset_pages(mi_heap_t* heap) {
  for (size_t i = 0; i < MI_PAGES_DIRECT; i++) heap->pages_free_direct[i] = (mi_page_t*)&_mi_page_empty;
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) heap->pages[bin].first = heap->pages[bin].last = NULL;
  heap->page_count = 0;
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
}

/* destroy_on_exit, after the arenas are gone: the calling thread's heaps
   and segment queues forget their pages, so an allocation after this (a
   late destructor) starts over instead of touching unmapped memory. */
void _mi_heap_unsafe_forget_all(void) {
  mi_heap_t* heap = mi_get_default_heap();
  if (!mi_heap_is_initialized(heap)) return;
  mi_tld_t* tld = heap->tld;
  for (mi_heap_t* h = tld->heaps; h != NULL; h = h->next) {
    mi_atomic_store_relaxed(&h->xthread_delayed_free, 0);
    mi_heap_reset_pages(h);
  }
  memset(&tld->segments.sliced_free, 0, sizeof(tld->segments.sliced_free));
  tld->segments.count = 0;
}

/* Move all pages (and pending delayed frees) of `from` into `heap`. */
static void mi_heap_absorb(mi_heap_t* heap, mi_heap_t* from) {
  if (from->page_count == 0) return;
  _mi_page_delayed_free_partial(from);
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    _mi_page_queue_append(heap, &heap->pages[bin], &from->pages[bin]);
  }
  /* frees that raced with the move went to `from`'s list: their pages are now `heap`'s */
  _mi_page_delayed_free_all(from);
  mi_heap_reset_pages(from);
}

void mi_heap_delete(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (mi_heap_is_backing(heap)) { mi_heap_collect(heap, false); return; }   /* the backing heap lives until thread exit */
  mi_assert_expensive(_mi_heap_is_valid(heap));
  mi_heap_absorb(heap->tld->heap_backing, heap);
  mi_assert_expensive(_mi_heap_is_valid(heap->tld->heap_backing));
  mi_heap_unlink_and_free(heap);
}

static bool mi_heap_page_destroy(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg) {
  (void)pq; (void)arg;
#if MI_TRACK_ENABLED
  /* tell the checker every live block is gone */
  _mi_page_free_collect(page, true);
  const size_t bsize = mi_page_block_size(page);
  uint8_t free_map[MI_SMALL_PAGE_SIZE / MI_GRANULE_SIZE / 8 + 1];
  if (page->capacity <= sizeof(free_map) * 8) {
    memset(free_map, 0, sizeof(free_map));
    for (mi_block_t* b = mi_page_free_first(page); b != NULL; b = mi_block_next(page, b)) {
      const size_t i = (size_t)((uint8_t*)b - mi_page_start(page)) / bsize;
      free_map[i / 8] |= (uint8_t)(1 << (i % 8));
    }
    for (size_t i = 0; i < page->capacity; i++) {
      if ((free_map[i / 8] & (1 << (i % 8))) == 0) mi_track_free(mi_page_start(page) + i * bsize, bsize);
    }
  }
#endif
  if (mi_page_has_flag(page, MI_PAGE_GUARDED)) _mi_guarded_page_release(page);   /* its memory accessible again */
  if (mi_page_is_huge(page)) _mi_stats_decrease(&_mi_stats.huge, mi_page_block_size(page));
  page->used = 0;
  page->next = page->prev = NULL;
  mi_page_set_heap(page, NULL);
  _mi_segment_page_free(page, false, heap->tld);
  return true;
}

static void mi_heap_destroy_pages(mi_heap_t* heap) {
  _mi_page_delayed_free_all(heap);
  mi_heap_visit_pages(heap, &mi_heap_page_destroy, NULL);
  mi_heap_reset_pages(heap);
}

void mi_heap_destroy(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (!heap->no_reclaim) { mi_heap_delete(heap); return; }   /* the backing heap may hold reclaimed pages of others */
  mi_assert_expensive(_mi_heap_is_valid(heap));
  mi_heap_destroy_pages(heap);
  mi_heap_unlink_and_free(heap);
}

/* ---------------------------------------------------------------------------
   Collection
--------------------------------------------------------------------------- */
static bool mi_heap_page_collect(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg) {
  const bool force = *(const bool*)arg;
  (void)heap;
  _mi_page_free_collect(page, force);
  if (mi_page_all_free(page)) (void)MI_HOOK_PAGE_EMPTY(page, pq, force);
  return true;
}

/* `periodic`: the generic path's own collection (generic_collect), not
   the program's: the segments keep a busy thread's purge rounds. */
static void mi_heap_collect_ex(mi_heap_t* heap, bool force, bool periodic) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  _mi_alloc_deferred_free(heap, force);
  _mi_page_delayed_free_partial(heap);
  if (force && mi_heap_is_backing(heap)) {
    /* take over what exited threads left behind, so it can be freed */
    _mi_segment_try_reclaim_abandoned(heap, true, heap->tld);
  }
  MI_HOOK_HEAP_COLLECT(heap);
  mi_heap_visit_pages(heap, &mi_heap_page_collect, &force);
  _mi_page_collect_retired(heap, force);
  if (periodic) _mi_segments_collect_periodic(heap->tld);
  else _mi_segments_collect(force, heap->tld);
  mi_assert_expensive(_mi_heap_is_valid(heap));
}

void mi_heap_collect(mi_heap_t* heap, bool force) {
  mi_heap_collect_ex(heap, force, false);
}

void _mi_heap_collect_periodic(mi_heap_t* heap) {
  mi_heap_collect_ex(heap, false, true);
}

void mi_collect(bool force) {
  mi_heap_collect(mi_get_default_heap(), force);
}

/* Collect, then give up segments of full pages until the thread owns at
   most `target_thread_owned` bytes of segments (0: target_segments_per_thread,
   at least 1); other threads may reclaim them. */
void mi_collect_reduce(size_t target_thread_owned) {
  mi_collect(true);
  mi_heap_t* heap = mi_get_default_heap();
  if (!mi_heap_is_initialized(heap)) return;
  size_t target = target_thread_owned / MI_SEGMENT_SIZE;
  if (target_thread_owned == 0) target = (size_t)mi_option_get_clamp(mi_option_target_segments_per_thread, 1, 1024);
  if (target == 0) target = 1;
  _mi_segments_reduce(heap, target);
}

static bool mi_heap_page_never_delayed(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg) {
  (void)heap; (void)pq; (void)arg;
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
  return true;
}

static bool mi_heap_page_abandon_or_free(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg) {
  (void)heap; (void)arg;
  _mi_page_free_collect(page, true);
  /* an empty page a PAGE_EMPTY hook keeps (its grace period runs) is
     abandoned empty: the reclaiming thread asks PAGE_SAFE_TO_FREE */
  if (!mi_page_all_free(page) || !MI_HOOK_PAGE_EMPTY(page, pq, false)) _mi_page_abandon(page, pq);
  return true;
}

/* Thread exit: free what can be freed, abandon the rest to other threads. */
void _mi_heap_collect_abandon(mi_heap_t* heap) {
  mi_assert_expensive(_mi_heap_is_valid(heap));
  /* once per thread (a runtime abandons its backing heap first) */
  if (mi_heap_is_backing(heap)) _mi_segment_collect_abandoned(heap);
  /* no more delayed frees from here on; then the ones already made */
  mi_heap_visit_pages(heap, &mi_heap_page_never_delayed, NULL);
  _mi_page_delayed_free_all(heap);
  MI_HOOK_HEAP_COLLECT(heap);
  mi_heap_visit_pages(heap, &mi_heap_page_abandon_or_free, NULL);
  mi_heap_reset_pages(heap);
}

/* ---------------------------------------------------------------------------
   Validity (compiled in debug builds; MI_DEBUG=3 checks it when a heap is
   collected, deleted, destroyed or abandoned; test/unit/test-invariants.c
   calls it directly). Owner thread only. Walks every page of the heap
   (_mi_page_is_valid each), so a call costs O(the heap's memory).
   Checked, in this order:
     the heap is on its tld's list of heaps
     pages[b].block_size == _mi_bin_size(b) (b < MI_BIN_FULL);
       pages[MI_BIN_FULL].block_size == MI_FULL_QUEUE_SIZE
     each queue is a well-linked list (first->prev == NULL, last->next ==
       NULL, x->next->prev == x) of pages whose xheap is this heap, whose
       segment this thread owns, with MI_PAGE_IN_FULL exactly in
       pages[MI_BIN_FULL], and otherwise in the queue of their bin
       (_mi_page_queue_in); each page is valid
     page_count == the pages in all queues
     pages_free_direct[g] == the first page of the queue of bin(g * MI_DIRECT_UNIT), or
       &_mi_page_empty when that queue is empty or the heap samples
       (guarded_sample_rate != 0: guarded.c)
     the delayed-free list (a snapshot: other threads push onto it; the
       links behind the head do not change until the owner takes it): each
       block lies in a page of this heap, at a block boundary of its carved
       area; and a page in the full queue whose delayed-free state is
       MI_NO_DELAYED_FREE has a block there, the one its xdelayed_block
       names (a freeing thread put it there before it set that state; the
       owner takes it off only to move the page out of the full queue)
--------------------------------------------------------------------------- */
#if MI_DEBUG > 0
/* Is `block` (if not NULL) on the delayed-free list that starts at `list`?
   Checks every block on the way. */
static bool mi_heap_delayed_list_find(const mi_heap_t* heap, const mi_block_t* list, const mi_block_t* block, bool* found) {
  *found = false;
  size_t n = 0;
  for (const mi_block_t* b = list; b != NULL; ) {
    if (!_mi_ptr_is_known(b)) return _mi_message_invalid("heap", heap, "delayed-free block %p lies in a live segment", (const void*)b);
    const mi_page_t* bpage = _mi_ptr_page(b);
    const uint8_t* start = mi_page_start(bpage);
    const size_t bsize = mi_page_block_size(bpage);
    const size_t ofs = (size_t)((const uint8_t*)b - start);
    if (!bpage->segment_in_use || mi_page_heap(bpage) != heap || ofs >= (size_t)bpage->capacity * bsize || ofs % bsize != 0) {
      return _mi_message_invalid("heap", heap, "delayed-free block %p is at a block boundary of a page of this heap (page %p)", (const void*)b, (const void*)bpage);
    }
    if (++n > MI_SEGMENT_SIZE / sizeof(mi_block_t)) return _mi_message_invalid("heap", heap, "the delayed-free list ends (it has a cycle)");
    if (b == block) { *found = true; return true; }
    b = mi_block_next(bpage, b);
  }
  return true;
}

bool _mi_heap_is_valid(const mi_heap_t* heap) {
  const mi_tld_t* tld = heap->tld;
  const mi_heap_t* h = (tld == NULL ? NULL : tld->heaps);
  while (h != NULL && h != heap) h = h->next;
  if (h == NULL) return _mi_message_invalid("heap", heap, "the heap is on its tld's list of heaps");

  size_t count = 0;
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    const mi_page_queue_t* pq = &heap->pages[bin];
    const size_t bsize = (bin == MI_BIN_FULL ? MI_FULL_QUEUE_SIZE : _mi_bin_size(bin));
    if (pq->block_size != bsize) return _mi_message_invalid("heap", heap, "pages[%zu].block_size == %zu (%zu)", bin, bsize, pq->block_size);
    if ((pq->first == NULL) != (pq->last == NULL) || (pq->first != NULL && (pq->first->prev != NULL || pq->last->next != NULL))) {
      return _mi_message_invalid("heap", heap, "queue %zu: first->prev == NULL, last->next == NULL", bin);
    }
    for (const mi_page_t* page = pq->first; page != NULL; page = page->next) {
      if (++count > heap->page_count) return _mi_message_invalid("heap", heap, "page_count == the pages in its queues (%zu, more found)", heap->page_count);
      if (mi_page_heap(page) != heap || !page->segment_in_use ||
          mi_atomic_load_relaxed(&_mi_page_segment(page)->xthread_id) != heap->thread_id) {
        return _mi_message_invalid("heap", heap, "page %p in queue %zu is in use, has this heap, and its segment is this thread's", (const void*)page, bin);
      }
      if (mi_page_is_full(page) != (bin == MI_BIN_FULL) || _mi_page_queue_in((mi_heap_t*)heap, page) != pq) {
        return _mi_message_invalid("heap", heap, "page %p: MI_PAGE_IN_FULL <=> in pages[MI_BIN_FULL], else in the queue of its bin (queue %zu)", (const void*)page, bin);
      }
      if (page->next != NULL && page->next->prev != page) return _mi_message_invalid("heap", heap, "queue %zu: page->next->prev == page (page %p)", bin, (const void*)page);
      if (!_mi_page_is_valid(page)) return false;
    }
  }
  if (count != heap->page_count) return _mi_message_invalid("heap", heap, "page_count == the pages in its queues (%zu != %zu)", heap->page_count, count);

  for (size_t g = 0; g < MI_PAGES_DIRECT; g++) {
    const mi_page_t* first = heap->pages[_mi_bin(g * MI_DIRECT_UNIT)].first;
    if (heap->pages_free_direct[g] != (first != NULL && heap->guarded_sample_rate == 0 ? first : &_mi_page_empty)) {
      return _mi_message_invalid("heap", heap, "pages_free_direct[%zu] == the first page of bin %zu, or &_mi_page_empty (also in a heap that samples)",
                                 g, _mi_bin(g * MI_DIRECT_UNIT));
    }
  }

  /* the delayed-free list: every block, then one for each full page that says it has one */
  bool found;
  mi_atomic(uintptr_t)* delayed = &((mi_heap_t*)heap)->xthread_delayed_free;
  if (!mi_heap_delayed_list_find(heap, (const mi_block_t*)mi_atomic_load_acquire(delayed), NULL, &found)) return false;
  for (const mi_page_t* page = heap->pages[MI_BIN_FULL].first; page != NULL; page = page->next) {
    if (mi_tf_delayed(mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_free)) != MI_NO_DELAYED_FREE) continue;
    const mi_block_t* named = (const mi_block_t*)mi_atomic_load_acquire(&((mi_page_t*)page)->xdelayed_block);
    if (named == NULL || _mi_ptr_page(named) != page) {
      return _mi_message_invalid("heap", heap, "full page %p with MI_NO_DELAYED_FREE names a block of its own in xdelayed_block (%p)",
                                 (const void*)page, (const void*)named);
    }
    if (!mi_heap_delayed_list_find(heap, (const mi_block_t*)mi_atomic_load_acquire(delayed), named, &found)) return false;
    if (!found) return _mi_message_invalid("heap", heap, "full page %p with MI_NO_DELAYED_FREE has a block on the delayed-free list (%p)", (const void*)page, (const void*)named);
  }
  return true;
}
#endif

/* ---------------------------------------------------------------------------
   Default heap
--------------------------------------------------------------------------- */
mi_heap_t* mi_heap_get_default(void) {
  mi_heap_t* heap = mi_get_default_heap();
  if (!mi_heap_is_initialized(heap)) { mi_thread_init(); heap = mi_get_default_heap(); }
  return heap;
}

mi_heap_t* mi_heap_get_backing(void) {
  mi_heap_t* heap = mi_heap_get_default();
  return (mi_heap_is_initialized(heap) ? heap->tld->heap_backing : NULL);
}

mi_heap_t* mi_heap_set_default(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return NULL;
  mi_heap_t* old = mi_get_default_heap();
  _mi_heap_set_default_direct(heap);
  return old;
}

/* ---------------------------------------------------------------------------
   Analysis
--------------------------------------------------------------------------- */
static mi_page_t* mi_heap_page_of(const mi_heap_t* heap, const void* p) {
  if (heap == NULL || p == NULL || !mi_heap_is_initialized(heap)) return NULL;
  mi_segment_t* segment = _mi_ptr_segment(p);
  if (!_mi_segment_is_known(segment)) return NULL;
  if (mi_atomic_load_relaxed(&segment->xthread_id) != heap->thread_id) return NULL;
  mi_page_t* page = _mi_segment_page_of(segment, p);
  if (!page->segment_in_use || mi_page_heap(page) != heap) return NULL;
  return page;
}

bool mi_heap_contains_block(mi_heap_t* heap, const void* p) {
  return mi_heap_page_of(heap, p) != NULL;
}

/* Does `p` point into one of the heap's pages (any address in a block
   area, as mimalloc answers)? Safe for any pointer value. */
bool mi_heap_check_owned(mi_heap_t* heap, const void* p) {
  const mi_page_t* page = mi_heap_page_of(heap, p);
  if (page == NULL) return false;
  const uint8_t* start = mi_page_start(page);
  const uint8_t* end = start + (size_t)page->capacity * mi_page_block_size(page);
  return (const uint8_t*)p >= start && (const uint8_t*)p < end;
}

bool mi_check_owned(const void* p) {
  return mi_heap_check_owned(mi_get_default_heap(), p);
}

typedef struct mi_visit_blocks_args_s {
  bool visit_blocks;
  mi_block_visit_fun* visitor;
  void* arg;
} mi_visit_blocks_args_t;

static bool mi_heap_visit_area(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* varg) {
  (void)pq;
  mi_visit_blocks_args_t* args = (mi_visit_blocks_args_t*)varg;
  return _mi_page_visit(heap, page, args->visit_blocks, args->visitor, args->arg);
}

/* Visit every area (page) of the heap and, if `visit_blocks`, every live
   block in it. The visitor is first called with block == NULL per area. */
bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  if (heap == NULL || visitor == NULL || !mi_heap_is_initialized(heap)) return false;
  mi_visit_blocks_args_t args = { visit_blocks, visitor, arg };
  /* first the blocks other threads freed into its full pages, so none is
     shown: by the owner, or by a runtime's collector while the owner is
     paused (CPython's takes every block shown for an object, as its
     vendored mimalloc does this too); it may move pages between the
     heap's queues, and an emptied page goes through MI_HOOK_PAGE_EMPTY on
     the visiting thread */
  _mi_page_delayed_free_all((mi_heap_t*)heap);
  return mi_heap_visit_pages((mi_heap_t*)heap, &mi_heap_visit_area, &args);
}

/* Does the page of `p` belong to `heap` (any heap if NULL) and hold at
   most `perc_threshold` percent used blocks? Not the page at the head of
   its queue (the one being allocated from), nor one still being carved.
   Unsafe: only the page's owner may ask, and `p` must be a live block. */
bool mi_unsafe_heap_page_is_under_utilized(mi_heap_t* heap, void* p, size_t perc_threshold) {
  if (p == NULL || !_mi_ptr_is_known(p)) return false;
  const mi_page_t* page = _mi_ptr_page(p);
  if (!page->segment_in_use || page->capacity == 0 || page->capacity < page->reserved) return false;
  if (page->used == page->capacity || page->prev == NULL) return false;
  const mi_heap_t* page_heap = mi_page_heap(page);
  if (page_heap == NULL || (heap != NULL && page_heap != heap)) return false;
  if (perc_threshold >= 100) return true;
  return (perc_threshold >= (100 * (size_t)page->used) / page->capacity);
}

/* The heap of a thread that has not allocated yet: constant, and every page
   pointer leads to _mi_page_empty, so its first allocation takes the
   generic path, which initialises the thread. */
const mi_heap_t _mi_heap_empty = {
  .tld = NULL,
  .pages_free_direct = { [0 ... MI_PAGES_DIRECT - 1] = (mi_page_t*)&_mi_page_empty },
  .page_retired_min = MI_BIN_FULL,
};

_Thread_local mi_heap_t* _mi_heap_default = (mi_heap_t*)&_mi_heap_empty;

void _mi_heap_set_default_direct(mi_heap_t* heap) {
  _mi_heap_default = heap;
}
