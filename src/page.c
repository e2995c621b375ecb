/* SPDX-License-Identifier: MIT */
/* Pages: building and collecting free lists, the delayed-free protocol for
   full pages, and the generic (slow) allocation path. Owner thread only,
   except where a function says otherwise. */
#include "mica/internal.h"
#include "runtime-hooks.h"

/* ---------------------------------------------------------------------------
   Delayed free: while a page is in the full queue, frees from other
   threads go to the owner heap's xthread_delayed_free list, so the owner
   learns that the page has room again (see types.h, mi_delayed_t).
--------------------------------------------------------------------------- */
static bool mi_page_try_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  uintptr_t tfree = mi_atomic_load_acquire(&page->xthread_free);
  unsigned waits = 0;
  for (;;) {
    const mi_delayed_t old = mi_tf_delayed(tfree);
    if (old == MI_DELAYED_FREEING) {
      /* another thread is between its two steps: a few instructions */
      if (++waits > 4) return false;
      _mi_prim_thread_yield();
      tfree = mi_atomic_load_acquire(&page->xthread_free);
      continue;
    }
    if (old == delay) return true;
    if (!override_never && old == MI_NEVER_DELAYED_FREE) return true;
    if (mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tfree, mi_tf_set_delayed(tfree, delay))) return true;
  }
}

void _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  _mi_wait_while(!mi_page_try_use_delayed_free(page, delay, override_never));
}

/* ---------------------------------------------------------------------------
   Collecting free lists
--------------------------------------------------------------------------- */
/* Take the blocks of the thread-free list into local_free, and their
   count off `used`. The count is taken first (types.h, mi_page_t: a block
   it counts is on this list or on one taken before). The list is walked
   only to append it to a non-empty local_free, or, MI_SECURE, to check
   every link: counting it by a walk fetched each block from the cache of
   the thread that freed it, and so cost bench-prodcons' producers a
   quarter of their time (doc/benchmarks.md). */
static void mi_page_thread_free_collect(mi_page_t* page) {
  const size_t counted = mi_atomic_exchange_acq_rel(&page->xthread_freed, 0);
  uintptr_t tfree = mi_atomic_load_relaxed(&page->xthread_free);
  mi_block_t* head;
  do {
    head = mi_tf_block(tfree);
    if (head == NULL) break;
  } while (!mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tfree, mi_tf_set_block(tfree, NULL)));
  if (mi_unlikely(counted > page->used)) {
    /* more frees counted than blocks handed out: two threads freed a block at once */
    _mi_message_error(EFAULT, "corrupted thread-free count in page %p (%zu frees, %u blocks in use: a double free from two threads at once?)\n",
                      (void*)page, counted, (unsigned)page->used);
    return;   /* leak the list and keep the page, rather than hand a block out twice */
  }
  page->used = (uint16_t)(page->used - counted);
  if (head == NULL) return;
  if (MI_SECURE || page->local_free != NULL) {
    /* find the tail; a list longer than the page can hold is corrupt */
    size_t count = 1;
    mi_block_t* tail = head;
    mi_block_t* next;
    while ((next = mi_block_next(page, tail)) != NULL && count <= page->capacity) {
#if MI_SECURE
      if (mi_unlikely(!mi_page_link_is_valid(page, next))) {   /* cut the list: the blocks after it leak */
        (void)_mi_page_free_corrupt(page, tail, next);
        break;
      }
#endif
      count++;
      tail = next;
    }
    if (count > page->capacity) {
      _mi_message_error(EFAULT, "corrupted thread-free list in page %p (double free or heap overflow?)\n", (void*)page);
      return;   /* leak the blocks rather than hand one out twice */
    }
    mi_block_set_next(page, tail, page->local_free);
  }
  page->local_free = head;
}

/* MI_SECURE: the link of `block`, a free block of `page`, decodes to
   `next`, which is neither the list end nor a block of the page: a heap
   overflow or a use after free wrote over it. Report it, and end the list
   at `block` (its successors leak) so nothing outside the page is handed
   out. Returns the list end, the new head after `block`. */
mi_decl_noinline mi_block_t* _mi_page_free_corrupt(mi_page_t* page, const mi_block_t* block, const mi_block_t* next) {
  _mi_message_error(EFAULT, "corrupted free list entry of page %p: block %p links to %p, outside the page (heap overflow or use after free?); the list is cut there\n",
                    (void*)page, (const void*)block, (const void*)next);
  return mi_list_end(page);
}

/* Move freed blocks to the free list: thread-free into local-free, and
   local-free into free when free is empty (or always, if `force`). */
void _mi_page_free_collect(mi_page_t* page, bool force) {
  if (force || mi_page_has_thread_freed(page)) mi_page_thread_free_collect(page);
  if (page->local_free == NULL) return;
  MI_HOOK_PAGE_REUSED(page);   /* blocks came back: some were handed out since the page was last empty */
  if (mi_page_free_is_empty(page)) {
    page->free = page->local_free;
    page->local_free = NULL;
  } else if (force) {
    mi_block_t* tail = page->local_free;
    mi_block_t* next;
    while ((next = mi_block_next(page, tail)) != NULL) {
#if MI_SECURE
      if (mi_unlikely(!mi_page_link_is_valid(page, next))) { (void)_mi_page_free_corrupt(page, tail, next); break; }   /* cut below */
#endif
      tail = next;
    }
    mi_block_set_next(page, tail, page->free);
    page->free = page->local_free;
    page->local_free = NULL;
  }
}

/* ---------------------------------------------------------------------------
   Initialising and extending pages
--------------------------------------------------------------------------- */
#if MI_SECURE >= 2
/* MI_SECURE 2: a few blocks at least per extension, so that even pages of
   large blocks get an order to shuffle */
#define MI_PAGE_MIN_EXTEND 8
#define MI_PAGE_SHUFFLE_MAX (MI_MAX_EXTEND_SIZE / sizeof(mi_block_t))
mi_static_assert(MI_PAGE_MIN_EXTEND <= MI_PAGE_SHUFFLE_MAX && MI_PAGE_SHUFFLE_MAX <= UINT16_MAX + 1, "shuffle indices fit");

/* Link the `extend` new blocks from `first` in a random order (a
   Fisher-Yates shuffle with the owner heap's generator) before the current
   free list, so that the addresses of consecutive allocations do not
   follow each other: an overflow or a use after free cannot count on
   which block lies next to its target. */
static void mi_page_link_shuffled(mi_page_t* page, uint8_t* first, size_t extend, size_t bsize) {
  uint16_t order[MI_PAGE_SHUFFLE_MAX];
  mi_assert_internal(extend <= MI_PAGE_SHUFFLE_MAX);
  mi_random_ctx_t* const rnd = &mi_page_heap(page)->random;
  for (size_t i = 0; i < extend; i++) order[i] = (uint16_t)i;
  for (size_t i = extend - 1; i > 0; i--) {
    const size_t j = (size_t)(_mi_random_next(rnd) % (i + 1));
    const uint16_t t = order[i]; order[i] = order[j]; order[j] = t;
  }
  for (size_t i = 0; i + 1 < extend; i++) {
    mi_block_set_next_raw(page, (mi_block_t*)(first + order[i] * bsize), (mi_block_t*)(first + order[i + 1] * bsize));
  }
  mi_block_set_next(page, (mi_block_t*)(first + order[extend - 1] * bsize), page->free);
  page->free = (mi_block_t*)(first + order[0] * bsize);
}
#else
#define MI_PAGE_MIN_EXTEND MI_MIN_EXTEND
#endif

/* Carve more blocks into the free list: about MI_MAX_EXTEND_SIZE bytes at
   a time so that memory is touched only as it is needed. */
static void mi_page_extend_free(mi_page_t* page) {
  if (page->capacity >= page->reserved) return;
  const size_t bsize = mi_page_block_size(page);
  size_t extend = page->reserved - page->capacity;
  size_t max_extend = MI_MAX_EXTEND_SIZE / bsize;
  if (max_extend < MI_PAGE_MIN_EXTEND) max_extend = MI_PAGE_MIN_EXTEND;
  if (extend > max_extend) extend = max_extend;
  mi_assert(extend > 0 && page->capacity + extend <= page->reserved);
  uint8_t* const first = mi_page_start(page) + page->capacity * bsize;
#if MI_DEBUG_FILL
  mi_debug_unstamp(page, first, extend);
#endif
#if MI_SECURE >= 2
  if (extend > 1) {
    mi_page_link_shuffled(page, first, extend, bsize);
    page->capacity = (uint16_t)(page->capacity + extend);
    return;
  }
#endif
  uint8_t* const last = first + (extend - 1) * bsize;
  /* the links of fresh blocks are never NULL: raw, no end test; each
     block is written through its successor's address (6 instructions a
     block on x86-64, where it was 8) */
  const ptrdiff_t back = -(ptrdiff_t)bsize;
  for (uint8_t* next = first + bsize; next <= last; next += bsize) {
    mi_block_set_next_raw(page, (mi_block_t*)(next + back), (mi_block_t*)next);
  }
  mi_block_t* const block = (mi_block_t*)last;
  mi_block_set_next(page, block, page->free);
  page->free = (mi_block_t*)first;
  page->capacity = (uint16_t)(page->capacity + extend);
}

/* `single`: one block only, whatever fits (a guarded block's page: the
   rest of the area is its guard page and slack). */
static void mi_page_init(mi_heap_t* heap, mi_page_t* page, size_t block_size, bool single) {
  mi_segment_t* segment = _mi_page_segment(page);
  size_t page_size;
  uint8_t* const start = _mi_segment_page_start(segment, page, &page_size);
  page->xblock_size = (segment->page_kind == MI_PAGE_HUGE ? MI_HUGE_BLOCK_SIZE : (uint32_t)block_size);
  const size_t reserved = (single ? 1 : page_size / block_size);
  page->reserved = (uint16_t)(reserved > UINT16_MAX ? UINT16_MAX : reserved);
  mi_assert_internal(page->reserved > 0);
  /* a checker reports reads of blocks never handed out (a page's only
     block is handed out at once, which tells the checker all of it: no
     pass over a huge area) */
  if (page->reserved > 1) mi_track_mem_noaccess(start, page_size);
  (void)start;
#if MI_SECURE
  page->keys[0] = _mi_random_next(&heap->random);
  page->keys[1] = _mi_random_next(&heap->random);
#endif
  page->heap_tag = heap->tag;
  page->use_qsbr = heap->page_use_qsbr;
  page->debug_offset = heap->debug_offset;
  mi_assert_internal(page->qsbr_goal == 0);   /* the embedder's hooks clear it before a page is given back */
  mi_page_set_heap(page, heap);
  mi_assert_internal(mi_atomic_load_relaxed(&page->xthread_freed) == 0);   /* a cleared descriptor */
  mi_atomic_store_release(&page->xthread_free, mi_tf_make(NULL, MI_NO_DELAYED_FREE));
  mi_atomic_store_relaxed(&page->xdelayed_block, 0);   /* a destroyed heap's pages go back with theirs set */
  mi_page_extend_free(page);
}

/* ---------------------------------------------------------------------------
   Full pages
--------------------------------------------------------------------------- */
static void mi_page_to_full(mi_page_t* page, mi_page_queue_t* pq) {
  mi_heap_t* heap = mi_page_heap(page);
  /* a retired page refilled through the fast paths is retired no more: once
     empty again it must leave the full queue (test-retire-full) */
  page->retire_expire = 0;
  _mi_page_use_delayed_free(page, MI_USE_DELAYED_FREE, false);
  if (!mi_page_is_full(page)) {
    _mi_page_queue_enqueue_from(heap, &heap->pages[MI_BIN_FULL], pq, page);
    _mi_page_free_collect(page, false);   /* a free may have raced in before the flag was set */
  }
  mi_assert_expensive(_mi_page_is_valid(page));
}

/* A page in the full queue had a block freed: move it back. If another
   thread put one of its blocks on the heap's delayed-free list (the state
   MI_NO_DELAYED_FREE in the full queue, types.h), the list is taken first:
   out of the full queue the page's frees take the fast path, which cannot
   tell that block (its link may point into any segment) from a live one,
   so a second free of it would go unseen. */
void _mi_page_unfull(mi_page_t* page) {
  if (!mi_page_is_full(page)) return;
  mi_heap_t* heap = mi_page_heap(page);
  if (mi_tf_delayed(mi_atomic_load_relaxed(&page->xthread_free)) == MI_NO_DELAYED_FREE) {
    (void)_mi_page_delayed_free_partial(heap);   /* may free into this page and move it (through here) */
    if (!mi_page_is_full(page)) return;
  }
  mi_page_queue_t* pqfull = &heap->pages[MI_BIN_FULL];
  mi_page_set_in_full(page, false);    /* so the queue below is the page's bin */
  mi_page_queue_t* pq = _mi_page_queue_in(heap, page);
  mi_page_set_in_full(page, true);
  _mi_page_queue_enqueue_from(heap, pq, pqfull, page);
  _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, false);
  mi_assert_expensive(_mi_page_is_valid(page));
}

/* ---------------------------------------------------------------------------
   Freeing, retiring, abandoning and reclaiming pages
--------------------------------------------------------------------------- */
void _mi_page_free(mi_page_t* page, mi_page_queue_t* pq, bool force) {
  mi_assert(mi_page_all_free(page) && !mi_page_has_thread_freed(page));   /* used == 0: every count is taken (types.h) */
  mi_assert(page->qsbr_goal == 0);   /* an embedder's PAGE_EMPTY hook clears its goal before it gives the page back */
  mi_assert_expensive(_mi_page_is_valid(page));
  mi_heap_t* heap = mi_page_heap(page);
  mi_tld_t* tld = heap->tld;
  _mi_page_queue_remove(heap, pq, page);
  if (mi_page_is_huge(page)) _mi_stats_decrease(&_mi_stats.huge, mi_page_block_size(page));
  mi_page_set_heap(page, NULL);
  _mi_segment_page_free(page, force, tld);
}

#define MI_RETIRE_CYCLES 16

/* The last block of a page was freed. A page that is alone in its queue is
   kept a few generic-path cycles: a program that allocates and frees one
   block in a loop would otherwise free and re-create the page every time. */
void _mi_page_retire(mi_page_t* page) {
  MI_HOOK_PAGE_REUSED(page);   /* empty again: a grace period it waited for is void */
  if (page->retire_expire != 0) {
    /* retired before and reused only through the fast paths since: keep it again */
    page->retire_expire = (mi_page_block_size(page) <= MI_SMALL_OBJ_SIZE_MAX ? MI_RETIRE_CYCLES : MI_RETIRE_CYCLES / 4);
    mi_assert_expensive(_mi_page_is_valid(page));
    return;
  }
  mi_page_queue_t* pq = _mi_page_queue_of(page);
  if (pq->first == page && pq->last == page && mi_page_block_size(page) <= MI_MEDIUM_OBJ_SIZE_MAX && !mi_page_is_full(page) &&
      !mi_page_is_huge(page) && !mi_page_has_flag(page, MI_PAGE_GUARDED)) {
    mi_heap_t* heap = mi_page_heap(page);
    page->retire_expire = (mi_page_block_size(page) <= MI_SMALL_OBJ_SIZE_MAX ? MI_RETIRE_CYCLES : MI_RETIRE_CYCLES / 4);
    const size_t bin = (size_t)(pq - heap->pages);
    if (bin < heap->page_retired_min) heap->page_retired_min = bin;
    if (bin > heap->page_retired_max) heap->page_retired_max = bin;
    mi_assert_expensive(_mi_page_is_valid(page));
    return;
  }
  (void)MI_HOOK_PAGE_EMPTY(page, pq, false);
}

void _mi_page_retire_of(const void* p) {
  _mi_page_retire(_mi_ptr_page(p));
}

/* Free retired pages whose time is up (or all, if `force`). */
void _mi_page_collect_retired(mi_heap_t* heap, bool force) {
  size_t min = MI_BIN_FULL, max = 0;
  for (size_t bin = heap->page_retired_min; bin <= heap->page_retired_max && bin < MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &heap->pages[bin];
    mi_page_t* page = pq->first;
    if (page == NULL || page->retire_expire == 0) continue;
    if (mi_page_all_free(page)) {
      page->retire_expire--;
      if (force || page->retire_expire == 0) { (void)MI_HOOK_PAGE_EMPTY(page, pq, force); continue; }
      if (bin < min) min = bin;
      if (bin > max) max = bin;
    } else {
      page->retire_expire = 0;
    }
  }
  heap->page_retired_min = min;
  heap->page_retired_max = max;
}

/* The owner heap goes away with blocks still in use: the page stays in its
   segment, frees from other threads go to its thread-free list. */
void _mi_page_abandon(mi_page_t* page, mi_page_queue_t* pq) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_tld_t* tld = heap->tld;
  mi_assert(page->used > 0 || page->use_qsbr);   /* empty only if a PAGE_EMPTY hook kept it */
  MI_HOOK_PAGE_ABANDONED(page);
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
  _mi_page_queue_remove(heap, pq, page);
  mi_page_set_heap(page, NULL);
  mi_assert_expensive(_mi_page_is_valid(page));   /* before the segment may go to the abandoned list */
  _mi_segment_page_abandon(page, tld);
}

void _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page) {
  mi_page_set_in_full(page, false);
  if (page->reserved == 1) {
    /* a single-block page stays full: its block is live */
    _mi_page_queue_push(heap, &heap->pages[MI_BIN_FULL], page);
    _mi_page_use_delayed_free(page, MI_USE_DELAYED_FREE, false);
    _mi_page_free_collect(page, false);   /* a free that raced in; the page is then freed by the next collect */
  } else {
    _mi_page_queue_push(heap, _mi_page_queue_in(heap, page), page);
  }
  MI_HOOK_PAGE_RECLAIMED(page);
  mi_assert_expensive(_mi_page_is_valid(page));
}

/* ---------------------------------------------------------------------------
   Delayed frees: blocks other threads freed into this heap's full pages
--------------------------------------------------------------------------- */
/* A block from the heap's delayed-free list; false if its page is in a
   transient state (the caller retries later). Owner thread. */
static bool mi_page_delayed_block_free_try(mi_block_t* block) {
  mi_page_t* page = _mi_ptr_page(block);
  if (!mi_page_try_use_delayed_free(page, MI_NO_DELAYED_FREE, false)) return false;
  mi_atomic_store_relaxed(&page->xdelayed_block, 0);
  _mi_page_free_collect(page, false);
  mi_assert_expensive(_mi_page_is_valid(page));
  mi_page_free_block_local(page, block);   /* checked when it was freed into the delayed list */
  return true;
}

/* Process the blocks other threads freed into full pages. Returns false if
   some block had to be put back (its page was in a transient state). */
bool _mi_page_delayed_free_partial(mi_heap_t* heap) {
  uintptr_t list = mi_atomic_load_relaxed(&heap->xthread_delayed_free);
  if (list == 0) return true;
  list = mi_atomic_exchange_acq_rel(&heap->xthread_delayed_free, 0);
  bool all = true;
  mi_block_t* block = (mi_block_t*)list;
  while (block != NULL) {
    mi_page_t* const page = _mi_ptr_page(block);
    mi_block_t* next = mi_block_next(page, block);
    if (!mi_page_delayed_block_free_try(block)) {
      /* put it back for next time */
      all = false;
      uintptr_t head = mi_atomic_load_relaxed(&heap->xthread_delayed_free);
      do { mi_block_set_next(page, block, (mi_block_t*)head); }
      while (!mi_atomic_cas_weak_release(&heap->xthread_delayed_free, &head, (uintptr_t)block));
    }
    block = next;
  }
  return all;
}

void _mi_page_delayed_free_all(mi_heap_t* heap) {
  _mi_wait_while(!_mi_page_delayed_free_partial(heap));
}

/* ---------------------------------------------------------------------------
   Finding a page with a free block (the generic path)
--------------------------------------------------------------------------- */
/* NULL with *reclaimed set (when reclaimed is not NULL): abandoned
   segments taken over brought a page of the size into pq instead.
   `populate`: fault the page's memory in at once, in one call, rather
   than a fault per OS page as blocks are carved. A fill_run of 0 here
   means the queue had no page at all (the heap's first of the size, or
   its first since all of them went back), which the segment makes small
   for a medium size. */
static mi_page_t* mi_page_fresh(mi_heap_t* heap, mi_page_queue_t* pq, size_t block_size, bool* reclaimed, bool populate) {
  mi_page_t* page = _mi_segment_page_alloc(heap, block_size, 0, pq->fill_run == 0, reclaimed, heap->tld);
  if (page == NULL) return NULL;
  if (populate) _mi_segment_page_populate(page);
  mi_page_init(heap, page, block_size, false);
  _mi_page_queue_push(heap, pq, page);
  mi_assert_expensive(_mi_page_is_valid(page));
  return page;
}

/* A page of pq to allocate from, moved to the front; NULL if none has room.
   Of the first MI_PAGE_CANDIDATES pages with room (after collecting their
   frees), the fullest with a free block, so allocations fill the pages in
   use and the emptier ones drain and go back (as mimalloc 3's search); only
   if none has a free block, the first with room to extend. Extending the
   front page at once, as the search did, touched fresh memory while freed
   blocks, resident, waited further back (bench-churn and bench-server's
   peak RSS, doc/benchmarks.md). Pages without room go to the full queue on
   the way; `*filled` tells whether one did. */
#define MI_PAGE_CANDIDATES 8
static mi_page_t* mi_page_queue_find_available(mi_heap_t* heap, mi_page_queue_t* pq, bool* filled) {
  mi_page_t* best = NULL;       /* the fullest with a free block */
  mi_page_t* room = NULL;       /* the first with room to extend */
  size_t candidates = 0;
  mi_page_t* page = pq->first;
  while (page != NULL && candidates < MI_PAGE_CANDIDATES) {
    mi_page_t* next = page->next;
    _mi_page_free_collect(page, false);
    if (mi_page_immediate_available(page)) {
      pq->fill_run = 0;   /* freed blocks come back: no run of fills */
      candidates++;
      if (best == NULL || page->used > best->used) best = page;
    }
    else if (page->capacity < page->reserved) {
      candidates++;
      if (room == NULL) room = page;
    }
    else { mi_page_to_full(page, pq); *filled = true; }   /* no room: out of the way of later searches */
    page = next;
  }
  page = best;
  if (page == NULL && room != NULL) { page = room; mi_page_extend_free(page); }
  if (page != NULL) {
    page->retire_expire = 0;
    MI_HOOK_PAGE_REUSED(page);
    _mi_page_queue_move_to_front(heap, pq, page);
    mi_assert_expensive(_mi_page_is_valid(page));   /* collected, maybe extended */
  }
  return page;
}

/* A size whose pages have filled MI_PAGE_POPULATE_RUN times in a row, with
   no freed block reused in between, is being built up: its next page will
   most likely fill too, so its memory is faulted in at once (a page fault
   per OS page took a third of bench-objects' time, doc/benchmarks.md). A
   size whose blocks come and go (a server's, a thread's few of a rare size)
   keeps the lazy carving, which touches only what it hands out: at most
   its last page of a run is faulted in beyond what it uses. */
#ifndef MI_PAGE_POPULATE_RUN
#define MI_PAGE_POPULATE_RUN 4
#endif
static mi_page_t* mi_page_queue_find_free(mi_heap_t* heap, mi_page_queue_t* pq) {
  bool filled = false;
  mi_page_t* page = mi_page_queue_find_available(heap, pq, &filled);
  if (page != NULL) return page;
  MI_HOOK_HEAP_COLLECT(heap);   /* pages whose grace period is over */
  _mi_page_collect_retired(heap, false);
  pq->fill_run = (filled ? pq->fill_run + 1 : 0);
  const bool populate = (pq->fill_run >= MI_PAGE_POPULATE_RUN);
  bool reclaimed = false;
  page = mi_page_fresh(heap, pq, pq->block_size, &reclaimed, populate);
  if (page == NULL && reclaimed) {
    page = mi_page_queue_find_available(heap, pq, &filled);   /* a reclaimed page of this size */
    if (page == NULL) page = mi_page_fresh(heap, pq, pq->block_size, NULL, populate);
  }
  return page;
}

/* A page of its own for one large, huge or huge-aligned block: a span of
   slices in a sliced segment, or a huge segment. It is full as soon as its
   block is handed out (see _mi_page_malloc_generic). The block is the
   whole area, or `block_size` bytes at its start if that is not 0 (NULL
   if the area is smaller). */
static mi_page_t* mi_single_page_alloc(mi_heap_t* heap, size_t size, size_t page_alignment, size_t block_size) {
  /* a zero-byte request still gets a block: a page area of size 0 has no room */
  const size_t area_size = (size == 0 ? MI_GRANULE_SIZE : _mi_align_up(size, MI_GRANULE_SIZE));
  mi_page_t* page = _mi_segment_page_alloc(heap, area_size, page_alignment, false, NULL, heap->tld);
  if (page == NULL) return NULL;
  size_t page_size;
  (void)_mi_segment_page_start(_mi_page_segment(page), page, &page_size);
  if (block_size != 0 && page_size < area_size) {   /* a guard page of MI_SECURE took room */
    mi_page_init(heap, page, page_size, true);   /* a descriptor the queue and free path accept */
    _mi_page_queue_push(heap, _mi_page_queue_in(heap, page), page);
    _mi_page_free(page, _mi_page_queue_in(heap, page), false);
    return NULL;
  }
  mi_page_init(heap, page, (block_size != 0 ? block_size : page_size), true);
  _mi_page_queue_push(heap, _mi_page_queue_in(heap, page), page);
  mi_assert_expensive(_mi_page_is_valid(page));
  if (mi_page_is_huge(page)) _mi_stats_increase(&_mi_stats.huge, mi_page_block_size(page));
  return page;
}

static mi_page_t* mi_find_page(mi_heap_t* heap, size_t size, size_t huge_alignment) {
  if (mi_unlikely(size > MI_MEDIUM_OBJ_SIZE_MAX || huge_alignment > 0)) {
    if (mi_unlikely(size > MI_MAX_ALLOC_SIZE)) {
      _mi_message_error(EOVERFLOW, "allocation request is too large (%zu bytes)\n", size);
      return NULL;
    }
    MI_HOOK_HEAP_COLLECT(heap);   /* pages whose grace period is over, before more memory is taken */
    return mi_single_page_alloc(heap, size, huge_alignment, 0);
  }
  mi_page_queue_t* pq = &heap->pages[_mi_bin(size)];
  return mi_page_queue_find_free(heap, pq);
}

/* A block from a page with room, found or made for `size` (the generic
   path: see _mi_alloc_generic); NULL when there is no memory. */
void* _mi_page_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  _mi_page_delayed_free_partial(heap);
  /* a block with room for the padding (MI_PADDING); a size too large stays too large */
  mi_page_t* page = mi_find_page(heap, (size <= MI_MAX_ALLOC_SIZE ? size + MI_PADDING_SIZE : size), huge_alignment);
  if (mi_unlikely(page == NULL)) return NULL;
  mi_block_t* block = mi_page_free_first(page);
  if (block == NULL) {   /* a found page has a block on one of its owner's lists */
    block = page->local_free;
    page->local_free = NULL;
  }
  mi_assert_internal(block != NULL);
  void* p = mi_page_hand_out(page, block, size, zero);
  if (mi_unlikely(page->reserved == 1)) {
    /* large or huge: one block, handed out now; the page is full from here
       on, so a free from another thread reaches the owner (delayed free) */
    mi_page_to_full(page, _mi_page_queue_in(heap, page));
  }
  return p;
}

/* One block of `block_size` bytes at the start of a page of its own whose
   area has at least `min_area` bytes, in slices (64 KiB aligned, so whole
   OS pages), handed out: guarded sampling (guarded.c) puts a guard page
   after it. A medium request takes a span too (a medium page is not
   aligned to more than 4 KiB). NULL if there is no memory. */
void* _mi_page_malloc_single(mi_heap_t* heap, size_t min_area, size_t block_size, bool zero) {
  mi_assert_internal(block_size < min_area && min_area <= MI_LARGE_OBJ_SIZE_MAX);
  const size_t request = (min_area <= MI_SMALL_OBJ_SIZE_MAX || min_area > MI_MEDIUM_OBJ_SIZE_MAX ? min_area : MI_MEDIUM_OBJ_SIZE_MAX + 1);
  mi_page_t* page = mi_single_page_alloc(heap, request, 0, block_size);
  if (page == NULL) return NULL;
  void* p = mi_page_hand_out(page, mi_page_free_first(page), block_size - MI_PADDING_SIZE, zero);   /* the caller places its request */
  mi_page_to_full(page, _mi_page_queue_in(heap, page));
  return p;
}

/* A block from the first page of its size's queue if that has one at hand
   (its free or local_free list), else NULL: the generic path of a heap
   that samples, whose pages_free_direct is empty (guarded.c). */
void* _mi_page_malloc_queued(mi_heap_t* heap, size_t size, bool zero) {
  if (size > MI_MEDIUM_OBJ_SIZE_MAX - MI_PADDING_SIZE) return NULL;
  mi_page_t* page = heap->pages[_mi_bin(size + MI_PADDING_SIZE)].first;   /* as _mi_page_malloc_generic */
  if (page == NULL) return NULL;
  mi_block_t* block = mi_page_free_first(page);
  if (block == NULL) {
    block = page->local_free;
    if (block == NULL) return NULL;
    page->local_free = NULL;
  }
  return mi_page_hand_out(page, block, size, zero);
}

/* Block start of an interior pointer handed out by an aligned allocation. */
mi_block_t* _mi_page_block_start(const mi_page_t* page, const void* p) {
  const size_t diff = (size_t)((const uint8_t*)p - mi_page_start(page));
  const size_t adjust = diff % mi_page_block_size(page);
  return (mi_block_t*)((uintptr_t)p - adjust);
}

/* The usable size of the block that `p` points into. */
size_t _mi_page_usable_size(const mi_page_t* page, const void* p) {
  if (mi_unlikely(mi_page_has_aligned(page))) {
    const mi_block_t* block = _mi_page_block_start(page, p);
    return mi_page_block_size(page) - (size_t)((const uint8_t*)p - (const uint8_t*)block);
  }
  return mi_page_block_size(page);
}

/* The area (mimalloc: a page) a heap visitor is shown. */
static void mi_page_area_init(mi_heap_area_t* area, mi_page_t* page) {
  const size_t bsize = mi_page_block_size(page);
  memset(area, 0, sizeof(*area));
  area->blocks = mi_page_start(page);
  area->reserved = (size_t)page->reserved * bsize;
  area->committed = (size_t)page->capacity * bsize;
  area->used = page->used;
  area->block_size = bsize - MI_PADDING_SIZE;   /* the largest request a block takes */
  area->full_block_size = bsize;
  area->heap_tag = page->heap_tag;
}

/* The size a visitor is told for a live block: with MI_PADDING, what was
   asked for (from the block's start, for an aligned block), else the
   block size. */
static size_t mi_page_visit_size(const mi_page_t* page, void* block, size_t bsize) {
#if MI_PADDING
  (void)bsize;
  return mi_padding_size(page, (const mi_block_t*)block, block);
#else
  (void)page; (void)block;
  return bsize;
#endif
}

/* Show `visitor` the page as an area (block NULL) and, if `visit_blocks`,
   every live block in it. By the owner, a runtime while the owner is
   paused, or under the abandoned lock: the blocks other threads freed are
   collected first, so `used` and the blocks shown are the live ones only
   (CPython counts sys.getallocatedblocks() with area.used, and its
   collector takes every block shown for an object). */
bool _mi_page_visit(const mi_heap_t* heap, mi_page_t* page, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  _mi_page_free_collect(page, true);   /* all free blocks on `free` */
  mi_assert_expensive(_mi_page_is_valid(page));
  const size_t bsize = mi_page_block_size(page);
  mi_heap_area_t area;
  mi_page_area_init(&area, page);
  void* block = mi_page_start(page);
  size_t size = bsize;
  /* a guarded block: the program's pointer and size; while quarantined it
     is free to the program, and its page is not shown */
  if (mi_page_has_flag(page, MI_PAGE_GUARDED) && !_mi_guarded_block_of(page, &block, &size)) return true;
  if (!visitor(heap, &area, NULL, area.block_size, arg)) return false;
  if (!visit_blocks || page->used == 0) return true;
  if (page->capacity == 1) {
    if (!mi_page_has_flag(page, MI_PAGE_GUARDED)) size = mi_page_visit_size(page, block, bsize);
    return visitor(heap, &area, block, size, arg);
  }
  /* mark the free blocks, then visit the others */
  uintptr_t free_map[(MI_SMALL_PAGE_SIZE / MI_GRANULE_SIZE) / MI_INTPTR_BITS + 1];
  const size_t map_words = (page->capacity + MI_INTPTR_BITS - 1) / MI_INTPTR_BITS;
  if (map_words > sizeof(free_map) / sizeof(free_map[0])) return false;
  memset(free_map, 0, map_words * sizeof(uintptr_t));
  for (mi_block_t* b = mi_page_free_first(page); b != NULL; b = mi_block_next(page, b)) {
    const size_t i = (size_t)((uint8_t*)b - mi_page_start(page)) / bsize;
    if (i < page->capacity) free_map[i / MI_INTPTR_BITS] |= (uintptr_t)1 << (i % MI_INTPTR_BITS);
  }
  for (size_t i = 0; i < page->capacity; i++) {
    if ((free_map[i / MI_INTPTR_BITS] >> (i % MI_INTPTR_BITS)) & 1) continue;
    uint8_t* const block = mi_page_start(page) + i * bsize;
    if (!visitor(heap, &area, block, mi_page_visit_size(page, block, bsize), arg)) return false;
  }
  return true;
}

const mi_page_t _mi_page_empty;   /* all zero: no free blocks */

/* A block handed out again had bytes written after its free (internal.h,
   mi_debug_check_freed, MI_DEBUG >= 2): reported; the block is handed out
   all the same. Defined in every build: an embedder's debug build may
   include the headers and link a release library. */
void _mi_page_report_freed_write(const mi_page_t* page, const mi_block_t* block, size_t offset) {
  _mi_message_error(EFAULT, "use after free: block %p of size %zu was written after it was freed (at offset %zu)\n",
                    (const void*)block, mi_page_block_size(page), offset);
}

/* ---------------------------------------------------------------------------
   Validity (compiled in debug builds; MI_DEBUG=3 checks it at every page
   state change, test/unit/test-invariants.c calls it directly). Only the
   page's owner may ask, or, for an abandoned page, a thread that keeps it
   from being reclaimed (the abandoned lock, or the abandoning thread before
   it publishes the segment). `free`, `local_free` and `used` are the
   owner's and checked exactly; other threads push onto xthread_free
   meanwhile, so that list is checked as the snapshot its head gives (the
   links behind a head never change until the owner takes the list). The
   blocks on the owner heap's delayed-free list are _mi_heap_is_valid's.
   Checked, in this order (the first broken one is reported):
     page == segment->pages[segment_idx], segment_in_use, not MI_PAGE_UNUSED,
       slice_offset == 0 (a page, not a continuation slice)
     xblock_size == MI_HUGE_BLOCK_SIZE  <=>  the segment is huge
     0 < reserved;  capacity <= reserved;  reserved * block_size <= page area;
       used <= capacity;  reserved > 1 (not a one-block page): block_size is a bin's size
     every block on free, local_free and thread_free lies in the carved area
       [start, start + capacity * block_size), at a block boundary, and on
       one list, once
     capacity - |free| - |local_free| <= used <= that + xthread_freed -
       |thread_free| (equal once pushers between push and count have
       counted: types.h); |thread_free| <= used (blocks freed by other
       threads count as used until the owner collects)
     xheap == NULL (abandoned)  =>  in no queue, MI_NEVER_DELAYED_FREE
     xheap != NULL  =>  linked (prev, next, first, last) in
       _mi_page_queue_in(heap, page), with neighbours of the same queue: so
       MI_PAGE_IN_FULL  <=>  the page is in pages[MI_BIN_FULL], and otherwise
       it is in the queue of its bin; the first page of a small bin is the
       one pages_free_direct leads to (no page if the heap samples)
     retire_expire != 0 (retired)  =>  not MI_PAGE_IN_FULL
     MI_PAGE_GUARDED  =>  reserved == 1, MI_PAGE_HAS_ALIGNED
--------------------------------------------------------------------------- */
#if MI_DEBUG > 0
#define MI_PAGE_MAX_BLOCKS (MI_SMALL_PAGE_SIZE / MI_GRANULE_SIZE)   /* 8-byte blocks in a small page */

/* Mark the blocks of one list in `map` (a bit per block index); false
   (reported) at the first block outside the carved area, off a block
   boundary, or marked before (on another list, or a cycle). */
static bool mi_page_list_mark(const mi_page_t* page, const mi_block_t* list, const char* name, uintptr_t* map, size_t* count) {
  const uintptr_t start = (uintptr_t)mi_page_start(page);
  const size_t bsize = mi_page_block_size(page);
  const size_t area = (size_t)page->capacity * bsize;
  size_t n = 0;
  const mi_block_t* last = NULL;
  for (const mi_block_t* b = list; b != NULL; b = mi_block_next(page, b)) {
    last = b;
    const size_t ofs = (size_t)((uintptr_t)b - start);   /* below the start it wraps, so it is >= area */
    if (ofs >= area) {
      return _mi_message_invalid("page", page, "block %p on its %s list lies outside the carved area [%p, %p)",
                                 (const void*)b, name, (void*)start, (void*)(start + area));
    }
    if (ofs % bsize != 0) {
      return _mi_message_invalid("page", page, "block %p on its %s list is not at a block boundary (block size %zu)",
                                 (const void*)b, name, bsize);
    }
    const size_t i = ofs / bsize;
    const uintptr_t bit = (uintptr_t)1 << (i % MI_INTPTR_BITS);
    if ((map[i / MI_INTPTR_BITS] & bit) != 0) {
      return _mi_message_invalid("page", page, "block %p is on two free lists, or twice on one (seen again on %s)",
                                 (const void*)b, name);
    }
    map[i / MI_INTPTR_BITS] |= bit;
    n++;
  }
  if (last != NULL && mi_block_next_raw(page, last) != mi_list_end(page)) {
    return _mi_message_invalid("page", page, "the last block %p of its %s list links to the list end", (const void*)last, name);
  }
  *count = n;
  return true;
}

/* Is `page` linked in `pq` with neighbours that belong there too? */
static bool mi_page_is_linked_in(const mi_heap_t* heap, const mi_page_queue_t* pq, const mi_page_t* page) {
  mi_heap_t* h = (mi_heap_t*)heap;
  if (page->prev == NULL ? pq->first != page : (page->prev->next != page || mi_page_heap(page->prev) != heap || _mi_page_queue_in(h, page->prev) != pq)) return false;
  if (page->next == NULL ? pq->last != page : (page->next->prev != page || mi_page_heap(page->next) != heap || _mi_page_queue_in(h, page->next) != pq)) return false;
  return true;
}

/* Whether xthread_freed reaches `count` within 200 ms: the counts of
   pushers between their push and their count (a few instructions, unless
   the pusher is descheduled there). */
static bool mi_page_counts_arrive(const mi_page_t* page, size_t count) {
  uint32_t start = 0;
  while (mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_freed) < count) {
    const uint32_t now = _mi_os_clock_now();
    if (start == 0) start = now;
    else if (_mi_os_clock_expired(start + 200, now)) return false;
    _mi_prim_thread_yield();
  }
  return true;
}

bool _mi_page_is_valid(const mi_page_t* page) {
  const mi_segment_t* segment = _mi_page_segment(page);
  if (page->segment_idx >= segment->capacity || &segment->pages[page->segment_idx] != page) {
    return _mi_message_invalid("page", page, "page == segment->pages[segment_idx] (segment %p, index %u)", (void*)segment, page->segment_idx);
  }
  if (!page->segment_in_use || mi_page_has_flag(page, MI_PAGE_UNUSED) || page->slice_offset != 0) {
    return _mi_message_invalid("page", page, "segment_in_use && !MI_PAGE_UNUSED && slice_offset == 0 (in use %u, offset %u)",
                               (unsigned)page->segment_in_use, (unsigned)page->slice_offset);
  }
  if ((segment->page_kind == MI_PAGE_HUGE) != (page->xblock_size == MI_HUGE_BLOCK_SIZE)) {
    return _mi_message_invalid("page", page, "xblock_size == MI_HUGE_BLOCK_SIZE <=> the segment is huge (xblock_size %u)", (unsigned)page->xblock_size);
  }
  size_t psize;
  (void)_mi_segment_page_start(segment, page, &psize);
  const size_t bsize = mi_page_block_size(page);
  if (bsize == 0 || page->reserved == 0 || page->capacity > page->reserved || (size_t)page->reserved * bsize > psize || page->used > 2 * (size_t)page->capacity) {
    return _mi_message_invalid("page", page, "0 < reserved, capacity <= reserved, reserved * block_size <= page size, used <= 2 * capacity "
                               "(used %u, capacity %u, reserved %u, block size %zu, page size %zu)",
                               (unsigned)page->used, (unsigned)page->capacity, (unsigned)page->reserved, bsize, psize);
  }
  if (page->reserved > 1 && bsize != _mi_bin_size(_mi_bin(bsize))) {
    return _mi_message_invalid("page", page, "a page of several blocks has a bin's block size (%zu)", bsize);
  }
  if (page->retire_expire != 0 && mi_page_is_full(page)) {
    return _mi_message_invalid("page", page, "retire_expire != 0 => not in the full queue (%u)", (unsigned)page->retire_expire);
  }
  if (mi_page_has_flag(page, MI_PAGE_GUARDED) && (page->reserved != 1 || !mi_page_has_aligned(page))) {
    return _mi_message_invalid("page", page, "MI_PAGE_GUARDED => one block, MI_PAGE_HAS_ALIGNED (reserved %u)", (unsigned)page->reserved);
  }
  if (page->capacity > MI_PAGE_MAX_BLOCKS) {
    return _mi_message_invalid("page", page, "capacity <= %zu (%u)", (size_t)MI_PAGE_MAX_BLOCKS, (unsigned)page->capacity);
  }

  /* the three lists: in the carved area, at block boundaries, disjoint */
  uintptr_t map[MI_PAGE_MAX_BLOCKS / MI_INTPTR_BITS];
  memset(map, 0, ((page->capacity + MI_INTPTR_BITS - 1) / MI_INTPTR_BITS) * sizeof(uintptr_t));
  size_t nfree, nlocal, nthread;
  const size_t counted_before = mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_freed);   /* before the list: see below */
  const uintptr_t tfree = mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_free);
  if (page->capacity > 0 && page->free == NULL) {
    return _mi_message_invalid("page", page, "free != NULL once blocks are carved (it holds the list end when empty)");
  }
  if (!mi_page_list_mark(page, mi_page_free_first(page), "free", map, &nfree)) return false;
  if (!mi_page_list_mark(page, page->local_free, "local_free", map, &nlocal)) return false;
  if (!mi_page_list_mark(page, mi_tf_block(tfree), "thread_free", map, &nthread)) return false;
  /* `used` is capacity - |free| - |local_free|, plus the blocks taken
     before their pusher counted them (types.h): `excess`, whose counts are
     in xthread_freed beside those of the thread_free blocks. Pushers only
     add: a count read before the list covers no more than excess +
     |thread_free|; one read after covers them all, once the pushers that
     are between push and count have counted. */
  if ((size_t)page->used + nfree + nlocal < page->capacity) {
    return _mi_message_invalid("page", page, "used >= capacity - |free| - |local_free| (%u < %u - %zu - %zu)",
                               (unsigned)page->used, (unsigned)page->capacity, nfree, nlocal);
  }
  const size_t excess = (size_t)page->used + nfree + nlocal - page->capacity;
  if (counted_before > excess + nthread) {
    return _mi_message_invalid("page", page, "xthread_freed <= |thread_free| + used - (capacity - |free| - |local_free|) (%zu > %zu + %zu)",
                               counted_before, nthread, excess);
  }
  if (excess > 0 && !mi_page_counts_arrive(page, excess + nthread)) {
    return _mi_message_invalid("page", page, "used <= capacity - |free| - |local_free| + xthread_freed - |thread_free| (%u > %u - %zu - %zu + %zu - %zu)",
                               (unsigned)page->used, (unsigned)page->capacity, nfree, nlocal,
                               (size_t)mi_atomic_load_acquire(&((mi_page_t*)page)->xthread_freed), nthread);
  }
  if (nthread > page->used) {
    return _mi_message_invalid("page", page, "|thread_free| <= used (%zu > %u)", nthread, (unsigned)page->used);
  }

  /* the queue it is in */
  const mi_heap_t* heap = mi_page_heap(page);
  if (heap == NULL) {
    if (page->next != NULL || page->prev != NULL || mi_page_is_full(page)) {
      return _mi_message_invalid("page", page, "abandoned (xheap == NULL) => in no queue");
    }
    if (mi_tf_delayed(tfree) != MI_NEVER_DELAYED_FREE) {
      return _mi_message_invalid("page", page, "abandoned (xheap == NULL) => MI_NEVER_DELAYED_FREE (%d)", (int)mi_tf_delayed(tfree));
    }
    return true;
  }
  const mi_page_queue_t* pq = _mi_page_queue_in((mi_heap_t*)heap, page);
  if (!mi_page_is_linked_in(heap, pq, page)) {
    return _mi_message_invalid("page", page, "linked in the queue its flags and bin name (%s queue of heap %p)",
                               mi_page_is_full(page) ? "the full" : "its bin's", (const void*)heap);
  }
  if (pq->first == page && pq->block_size <= MI_SMALL_SIZE_MAX &&
      heap->pages_free_direct[pq->block_size >> MI_DIRECT_SHIFT] != (heap->guarded_sample_rate == 0 ? page : &_mi_page_empty)) {
    return _mi_message_invalid("page", page, "pages_free_direct[%zu] leads to the first page of its bin (to no page in a heap that samples)",
                               pq->block_size >> MI_DIRECT_SHIFT);
  }
  return true;
}
#endif


