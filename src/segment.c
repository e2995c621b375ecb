/* SPDX-License-Identifier: MIT */
/* Segments: MI_SEGMENT_SIZE-aligned memory split into pages, their
   allocation from arenas, delayed purging of free pages, and abandoning
   (thread exit) / reclaiming (another thread takes over).

   A sliced segment whose owner is alive is in its tld's free queue
   exactly when it has a free page. Each sub-process has a list of abandoned
   segments (their owner exited, or gave them up, with pages still in use);
   the lists are protected by MI_LOCK_ABANDONED, and a segment is on its
   sub-process's list exactly when its xthread_id is 0. The lists are FIFOs:
   reclaiming takes the oldest segments, which other threads' frees have
   most likely emptied meanwhile, so every segment is visited in turn.

   Commit policy: a segment's memory is committed up front (eager) unless
   it comes from arena memory that is not committed yet and eager_commit is
   off, or the thread owns fewer than eager_commit_delay segments; then the
   header's unit is committed at once and each page (sliced: slice) when it
   is first claimed (commit_mask). */
#include "mica/internal.h"
#include "runtime-hooks.h"

#define MI_SEGMENT_INFO_ALIGN  4096   /* page 0 starts 4 KiB aligned: power-of-two blocks up to 4 KiB are naturally aligned */

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld);

/* A new owner (0: abandoned): the segment's id (release: a freeing thread
   that sees it, acquire, sees the segment as its owner left it) and every
   descriptor's free fast-path id with it (types.h, mi_page_t.xfast_tid). */
static void mi_segment_set_thread_id(mi_segment_t* segment, uintptr_t tid) {
  mi_atomic_store_release(&segment->xthread_id, tid);
  for (size_t i = 0; i < segment->capacity; i++) mi_page_fast_tid_update(&segment->pages[i]);
}

/* ---------------------------------------------------------------------------
   Queues of segments with free pages (owner only)
--------------------------------------------------------------------------- */
static mi_segment_queue_t* mi_segment_free_queue(mi_segment_t* segment, mi_tld_t* tld) {
  if (segment->page_kind == MI_PAGE_SLICED) return &tld->segments.sliced_free;
  return NULL;
}

static bool mi_segment_queue_contains(const mi_segment_queue_t* queue, const mi_segment_t* segment) {
  return (segment->next != NULL || segment->prev != NULL || queue->first == segment);
}

static void mi_segment_queue_remove(mi_segment_queue_t* queue, mi_segment_t* segment) {
  if (!mi_segment_queue_contains(queue, segment)) return;
  if (segment->prev != NULL) segment->prev->next = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  if (segment == queue->first) queue->first = segment->next;
  if (segment == queue->last) queue->last = segment->prev;
  segment->next = segment->prev = NULL;
}

static void mi_segment_queue_push(mi_segment_queue_t* queue, mi_segment_t* segment) {
  mi_assert_internal(!mi_segment_queue_contains(queue, segment));
  segment->next = NULL;
  segment->prev = queue->last;
  if (queue->last != NULL) queue->last->next = segment;
  else queue->first = segment;
  queue->last = segment;
}

/* To the front: the segment a page was just freed in is where the next page
   is claimed (most recently freed first, so still resident memory is reused
   before untouched or purged memory). */
static void mi_segment_queue_push_front(mi_segment_queue_t* queue, mi_segment_t* segment) {
  mi_segment_queue_remove(queue, segment);
  segment->prev = NULL;
  segment->next = queue->first;
  if (queue->first != NULL) queue->first->prev = segment;
  else queue->last = segment;
  queue->first = segment;
}

/* ---------------------------------------------------------------------------
   Geometry
--------------------------------------------------------------------------- */
/* MI_SECURE 3: how many bytes at the end of a page area of `area_size`
   bytes are its guard (inaccessible): one OS page, queried at run time,
   unless that would take more than half the area (a 64 KiB OS page and a
   64 KiB slice: such pages go without) or the page is larger than a slice
   (units end on slice boundaries, which such a page does not keep). Depends only on the area's size,
   so the page geometry and the protect/unprotect calls agree. */
static size_t mi_segment_guard_size(size_t area_size) {
#if MI_SECURE >= 3
  const size_t guard = _mi_os_page_size();
  return (guard <= area_size / 2 && guard <= MI_SLICE_SIZE ? guard : 0);
#else
  (void)area_size;
  return 0;
#endif
}

/* A page's whole area: its blocks, then (MI_SECURE 3) its guard */
static uint8_t* mi_segment_page_area(const mi_segment_t* segment, const mi_page_t* page, size_t* area_size) {
  size_t psize;
  uint8_t* start;
  if (segment->page_kind == MI_PAGE_SLICED) {
    start = (uint8_t*)segment + page->segment_idx * MI_SLICE_SIZE;   /* spans never include slice 0 */
    psize = page->slice_count * MI_SLICE_SIZE;
  } else {
    start = (uint8_t*)segment + segment->segment_info_size;
    psize = segment->segment_size - segment->segment_info_size;
  }
  *area_size = psize;
  return start;
}

uint8_t* _mi_segment_page_start(const mi_segment_t* segment, const mi_page_t* page, size_t* page_size) {
  size_t psize;
  uint8_t* const start = mi_segment_page_area(segment, page, &psize);
  if (page_size != NULL) *page_size = psize - mi_segment_guard_size(psize);
  return start;
}

/* Fault a claimed page's area in now if its memory is untouched or purged
   (is_zero_init: not resident); resident memory needs nothing. */
void _mi_segment_page_populate(const mi_page_t* page) {
  if (!page->is_zero_init) return;
  size_t page_size;
  uint8_t* const start = _mi_segment_page_start(_mi_page_segment(page), page, &page_size);
  _mi_os_populate(start, page_size);
}

/* MI_SECURE 3: the guard between the segment header and the first page
   area, the last OS page of segment_info_size (mi_segment_info_size makes
   room for it), when there is room (header_guard). */
static void mi_segment_header_guard(const mi_segment_t* segment, bool protect) {
#if MI_SECURE >= 3
  if (!segment->header_guard) return;
  const size_t guard = _mi_os_page_size();
  (void)_mi_os_protect((uint8_t*)segment + segment->segment_info_size - guard, guard, protect);
#else
  (void)segment; (void)protect;
#endif
}

/* The memory of purge unit `i`: a slice of a sliced segment. */
static uint8_t* mi_segment_unit_area(const mi_segment_t* segment, size_t i, size_t* size) {
  const size_t unit = (segment->page_kind == MI_PAGE_SLICED ? MI_SLICE_SIZE : ((size_t)1 << segment->page_shift));
  uint8_t* start = (uint8_t*)segment + i * unit;
  *size = unit;
  if (i == 0) { start += segment->segment_info_size; *size -= segment->segment_info_size; }
  return start;
}

static bool mi_segment_unit_is_free(const mi_segment_t* segment, size_t i) {
  if (segment->page_kind == MI_PAGE_SLICED) return ((segment->slice_map >> i) & 1) == 0;
  return !segment->pages[i].segment_in_use;
}

static uintptr_t mi_slice_mask(size_t idx, size_t count) {
  const uintptr_t ones = (count >= MI_INTPTR_BITS ? ~(uintptr_t)0 : (((uintptr_t)1 << count) - 1));
  return ones << idx;
}

static uintptr_t mi_segment_full_slice_map(void) {
  return mi_slice_mask(0, MI_SLICES_PER_SEGMENT);
}

static size_t mi_segment_unit_size(const mi_segment_t* segment) {
  return (segment->page_kind == MI_PAGE_SLICED ? MI_SLICE_SIZE : ((size_t)1 << segment->page_shift));
}

/* Commit units [idx, idx+count) of a lazily committed segment. */
static bool mi_segment_ensure_committed(mi_segment_t* segment, size_t idx, size_t count) {
  const uintptr_t need = mi_slice_mask(idx, count) & ~segment->commit_mask;
  if (need == 0) return true;
  const size_t unit = mi_segment_unit_size(segment);
  for (size_t i = idx; i < idx + count; i++) {
    if (((need >> i) & 1) == 0) continue;
    if (!_mi_os_commit((uint8_t*)segment + i * unit, unit)) return false;
    segment->commit_mask |= (uintptr_t)1 << i;
    segment->guard_mask &= ~((uintptr_t)1 << i);   /* all of it read-write now */
  }
  return true;
}

static bool mi_segment_is_suitable(const mi_segment_t* segment, const mi_heap_t* heap) {
  return _mi_arena_is_suitable(segment->memid.arena_idx, heap->arena_id);
}

static bool mi_segment_has_free(const mi_segment_t* segment) {
  if (segment->page_kind == MI_PAGE_SLICED) return segment->slice_map != mi_segment_full_slice_map();
  return segment->used < segment->capacity;
}

/* The slices of a sliced segment's page: its span (set at claim). */
static size_t mi_segment_span_count(const mi_page_t* page) {
  return page->slice_count;
}

/* MI_SECURE 3: the guard at the end of a page's area is made inaccessible
   when the page is claimed. In sliced segments it stays so when
   the page is given back (guard_mask), and a page claimed later at the
   same place and size costs no mprotect: with threads each call is a TLB
   shootdown, and bench-mstress made 121,444 of them (4.4 times its time at
   level 0). A claim opens the old guards inside its area, and the
   segment's free opens them all. A huge segment's guard comes and goes
   with its page. */
#if MI_SECURE >= 3
static void mi_segment_unit_guard(mi_segment_t* segment, size_t unit, bool protect) {
  const uintptr_t bit = (uintptr_t)1 << unit;
  if (((segment->guard_mask & bit) != 0) == protect) return;
  const size_t guard = _mi_os_page_size();
  uint8_t* const end = (uint8_t*)segment + (unit + 1) * mi_segment_unit_size(segment);
  if (_mi_os_protect(end - guard, guard, protect)) segment->guard_mask ^= bit;
}
#endif

/* Open the guards of `units` with one call: from the first one's guard to
   the last one's end, where no other guard may lie (the units of one free
   span; all units of a segment with no page in use). */
static void mi_segment_guards_open(mi_segment_t* segment, uintptr_t units) {
  const uintptr_t open = segment->guard_mask & units;
  if (open == 0) return;
  const size_t unit = mi_segment_unit_size(segment);
  uint8_t* const start = (uint8_t*)segment + (mi_bsf(open) + 1) * unit - _mi_os_page_size();
  uint8_t* const end = (uint8_t*)segment + (mi_bsr(open) + 1) * unit;
  if (_mi_os_protect(start, (size_t)(end - start), false)) segment->guard_mask &= ~open;
}

static void mi_segment_page_guard(mi_segment_t* segment, const mi_page_t* page, bool protect) {
#if MI_SECURE >= 3
  size_t psize;
  uint8_t* const start = mi_segment_page_area(segment, page, &psize);
  const size_t guard = mi_segment_guard_size(psize);
  if (segment->page_kind == MI_PAGE_HUGE) {
    if (guard > 0) (void)_mi_os_protect(start + psize - guard, guard, protect);
    return;
  }
  if (!protect) return;   /* stays: the next page here may want it */
  const size_t first = page->segment_idx;
  const size_t last = first + (segment->page_kind == MI_PAGE_SLICED ? mi_segment_span_count(page) : 1) - 1;
  mi_segment_guards_open(segment, mi_slice_mask(first, last - first));
  mi_segment_unit_guard(segment, last, guard > 0);
#else
  (void)segment; (void)page; (void)protect;
#endif
}

/* The header and page descriptors; MI_SECURE 3: and a guard page after
   them, if that still fits the first slice (a sliced segment's header
   slice; a 64 KiB OS page does not leave room) */
static size_t mi_segment_info_size_raw(size_t capacity) {
  return _mi_align_up(sizeof(mi_segment_t) + (capacity - 1) * sizeof(mi_page_t), MI_SEGMENT_INFO_ALIGN);
}
static size_t mi_segment_info_size(size_t capacity) {
  const size_t size = mi_segment_info_size_raw(capacity);
#if MI_SECURE >= 3
  const size_t guarded = _mi_align_up(size, _mi_os_page_size()) + _mi_os_page_size();
  if (guarded <= MI_SLICE_SIZE) return guarded;
#endif
  return size;
}

/* ---------------------------------------------------------------------------
   Validity (compiled in debug builds; MI_DEBUG=3 checks it at every
   segment state change, test/unit/test-invariants.c calls it directly).
   Only the owner may ask, or, for an abandoned segment, a thread that keeps
   it from being reclaimed meanwhile. It reads the page descriptors, not the
   pages' free lists (that is _mi_page_is_valid, per page), so a call costs
   O(capacity). Checked, in this order:
     cookie == segment ^ _mi_segment_cookie; link_tag == mi_link_tag(segment)
       (the free fast path's double-free test); the segment map holds its
       page shift (the free fast path finds the page with it)
     geometry of its kind: capacity, page_shift, segment_size, segment_info_size
     descriptor i: segment_idx == i; xfast_tid == (xflags == 0 ? xthread_id
       : 0) (the free fast path's one test); in use <=> not MI_PAGE_UNUSED, except
       continuation slices; free: no blocks, no lists, no heap, no links;
       in use: used <= capacity <= reserved
     sliced: slice 0 (the header) is in slice_map and no page; a span [i, i+n)
       has n = span size / MI_SLICE_SIZE, its continuation descriptors have
       slice_offset == k; slice_map == bit 0 | the union of the spans, which
       do not overlap; elsewhere slice_offset == 0
     used == pages in use (sliced: spans) <= capacity;  abandoned <= used;
       abandoned <= pages in use without a heap
     (purge_mask | purge_due) names free units below capacity only, none
       when pinned, and != 0 => purge_expire != 0
     commit_mask: below capacity, holds unit 0 (the header) and every unit
       in use; all units when memid.is_committed
     guard_mask: within commit_mask, no unit inside a page in use (its last
       unit may have one), 0 below MI_SECURE 3 and in huge segments
     owned (tld != NULL): xthread_id == the id of the tld's thread (its
       backing heap's thread_id), subproc ==
       tld->segments.abandoned; in tld's free queue of its kind <=> it has a free unit,
       except that one may be in none when no page is left to its owner
       (used == abandoned: new before its first claim, or being abandoned)
       or while it is given up (dont_free); huge: in no queue
     abandoned (tld == NULL): xthread_id == 0, abandoned == used > 0; its
       place on the abandoned list is checked under the lock (abandon, pop)
     memory from an arena: the arena's bitmaps agree (_mi_arena_range_is_valid)
--------------------------------------------------------------------------- */
#if MI_DEBUG > 0
static bool mi_segment_descriptor_is_free(const mi_page_t* page) {
  return (!page->segment_in_use && page->capacity == 0 && page->reserved == 0 && page->used == 0 &&
          mi_page_free_is_empty(page) && page->local_free == NULL && mi_page_heap(page) == NULL && !mi_page_has_thread_freed(page) &&
          page->next == NULL && page->prev == NULL);
}

/* The slice map of a sliced segment, and used = the number of spans. */
static bool mi_segment_spans_are_valid(const mi_segment_t* segment, size_t* spans) {
  if ((segment->slice_map & 1) == 0 || segment->pages[0].segment_in_use || !mi_segment_descriptor_is_free(&segment->pages[0])) {
    return _mi_message_invalid("segment", segment, "slice 0 holds the header: set in slice_map, and its descriptor is no page and has no blocks, lists, heap or links (slice_map %#zx)", (size_t)segment->slice_map);
  }
  uintptr_t map = 1;
  *spans = 0;
  for (size_t i = 1; i < MI_SLICES_PER_SEGMENT; ) {
    const mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) {
      if (page->slice_offset != 0 || !mi_page_has_flag(page, MI_PAGE_UNUSED) || !mi_segment_descriptor_is_free(page)) {
        return _mi_message_invalid("segment", segment, "free slice %zu: MI_PAGE_UNUSED, slice_offset 0, and has no blocks, lists, heap or links", i);
      }
      i++;
      continue;
    }
    const size_t n = mi_segment_span_count(page);
    if (n == 0 || i + n > MI_SLICES_PER_SEGMENT || page->slice_offset != 0 || mi_page_has_flag(page, MI_PAGE_UNUSED)) {
      return _mi_message_invalid("segment", segment, "span at slice %zu: n = slice_count, 0 < n, i + n <= %zu slices (n %zu)",
                                 i, (size_t)MI_SLICES_PER_SEGMENT, n);
    }
    if ((segment->slice_map & mi_slice_mask(i, n)) != mi_slice_mask(i, n)) {
      return _mi_message_invalid("segment", segment, "span [%zu, %zu) has its bits set in slice_map (%#zx)", i, i + n, (size_t)segment->slice_map);
    }
    for (size_t k = 1; k < n; k++) {
      const mi_page_t* slice = &segment->pages[i + k];
      if (slice->slice_offset != k || slice->slice_count != 0 || slice->segment_in_use || !mi_page_has_aligned(slice)) {
        return _mi_message_invalid("segment", segment, "continuation slice %zu of the span at %zu has slice_offset == %zu (%u), MI_PAGE_HAS_ALIGNED, and is no page",
                                   i + k, i, k, (unsigned)slice->slice_offset);
      }
    }
    map |= mi_slice_mask(i, n);
    (*spans)++;
    i += n;
  }
  if (map != segment->slice_map) {
    return _mi_message_invalid("segment", segment, "slice_map == bit 0 | the spans (%#zx != %#zx)", (size_t)segment->slice_map, (size_t)map);
  }
  return true;
}

/* The pages of a huge segment (sliced: their descriptors); counts those in use and
   those of them without a heap. */
static bool mi_segment_pages_are_valid(const mi_segment_t* segment, size_t* in_use, size_t* heapless) {
  *in_use = *heapless = 0;
  for (size_t i = 0; i < segment->capacity; i++) {
    const mi_page_t* page = &segment->pages[i];
    if (page->segment_idx != i) return _mi_message_invalid("segment", segment, "pages[%zu].segment_idx == %zu (%u)", i, i, (unsigned)page->segment_idx);
    if (segment->page_kind == MI_PAGE_SLICED) {
      if (page->segment_in_use && mi_page_heap(page) == NULL) (*heapless)++;
      continue;   /* the spans are checked above */
    }
    if (page->slice_offset != 0 || page->segment_in_use == mi_page_has_flag(page, MI_PAGE_UNUSED)) {
      return _mi_message_invalid("segment", segment, "pages[%zu]: in use <=> !MI_PAGE_UNUSED, slice_offset == 0", i);
    }
    if (!page->segment_in_use) {
      if (!mi_segment_descriptor_is_free(page)) return _mi_message_invalid("segment", segment, "free pages[%zu] has no blocks, lists, heap or links", i);
      continue;
    }
    (*in_use)++;
    if (mi_page_heap(page) == NULL) (*heapless)++;
    if (page->used > 2 * (size_t)page->capacity || page->capacity > page->reserved) {   /* used: types.h, mi_page_t */
      return _mi_message_invalid("segment", segment, "pages[%zu]: used <= 2 * capacity, capacity <= reserved (%u, %u, %u)", i,
                                 (unsigned)page->used, (unsigned)page->capacity, (unsigned)page->reserved);
    }
  }
  return true;
}

bool _mi_segment_is_valid(const mi_segment_t* segment) {
  if (segment->cookie != ((uintptr_t)segment ^ _mi_segment_cookie) || _mi_ptr_segment_shift((const uint8_t*)segment + 1) != segment->page_shift) {
    return _mi_message_invalid("segment", segment, "cookie == segment ^ _mi_segment_cookie, and the segment map holds its page shift (%zu; map %zu)",
                               segment->page_shift, _mi_ptr_segment_shift((const uint8_t*)segment + 1));
  }
  if (segment->link_tag != mi_link_tag(segment)) {
    return _mi_message_invalid("segment", segment, "link_tag == mi_link_tag(segment) (%#zx)", (size_t)segment->link_tag);
  }
  /* geometry */
  const mi_page_kind_t kind = segment->page_kind;
  bool geometry;
  if (kind == MI_PAGE_SLICED) {
    const size_t shift = MI_SLICE_SHIFT;
    geometry = (segment->page_shift == shift && segment->capacity == (MI_SEGMENT_SIZE >> shift) && segment->segment_size == MI_SEGMENT_SIZE &&
                segment->segment_info_size == mi_segment_info_size(segment->capacity));
  } else {
    geometry = (kind == MI_PAGE_HUGE && segment->capacity == 1 && segment->page_shift == MI_INTPTR_BITS - 1 &&
                (segment->segment_info_size == mi_segment_info_size(1) || segment->segment_info_size == MI_SEGMENT_SIZE) &&
                segment->segment_size > segment->segment_info_size && segment->segment_size % _mi_os_page_size() == 0);
  }
  if (!geometry) {
    return _mi_message_invalid("segment", segment, "geometry of kind %d: capacity %zu, page_shift %zu, segment_size %zu, info size %zu",
                               (int)kind, segment->capacity, segment->page_shift, segment->segment_size, segment->segment_info_size);
  }

  /* pages, and the counts */
  size_t in_use, heapless;
  if (!mi_segment_pages_are_valid(segment, &in_use, &heapless)) return false;
  uintptr_t used_units = 0;
  if (kind == MI_PAGE_SLICED) {
    if (!mi_segment_spans_are_valid(segment, &in_use)) return false;
    used_units = segment->slice_map;
  } else {
    if (segment->slice_map != 0) return _mi_message_invalid("segment", segment, "slice_map == 0 but in sliced segments (%#zx)", (size_t)segment->slice_map);
    for (size_t i = 0; i < segment->capacity; i++) {
      if (segment->pages[i].segment_in_use) used_units |= (uintptr_t)1 << i;
    }
  }
  if (segment->used != in_use || segment->used > segment->capacity || segment->abandoned > segment->used || segment->abandoned > heapless) {
    return _mi_message_invalid("segment", segment, "used == pages in use <= capacity, abandoned <= used, abandoned <= pages without a heap "
                               "(used %zu, in use %zu, capacity %zu, abandoned %zu, without a heap %zu)",
                               segment->used, in_use, segment->capacity, segment->abandoned, heapless);
  }

  /* purge and commit masks */
  const uintptr_t all_units = mi_slice_mask(0, segment->capacity);
  const uintptr_t purge = segment->purge_mask | segment->purge_due;
  if ((purge & ~all_units) != 0 || (purge & used_units) != 0 || (purge != 0 && (segment->purge_expire == 0 || segment->memid.is_pinned))) {
    return _mi_message_invalid("segment", segment, "purge_mask | purge_due names free units only, and != 0 => purge_expire != 0, not pinned "
                               "(purge %#zx, units in use %#zx, expire %u)", (size_t)purge, (size_t)used_units, (unsigned)segment->purge_expire);
  }
  uintptr_t dirty = 0;
  if (kind != MI_PAGE_HUGE) {
    for (size_t i = 0; i < segment->capacity; i++) {
      if (((used_units >> i) & 1) == 0 && !segment->pages[i].is_zero_init) dirty |= (uintptr_t)1 << i;
    }
  }
  if (segment->dirty_mask != dirty) {
    return _mi_message_invalid("segment", segment, "dirty_mask == the free units not known zero (%#zx, expected %#zx)",
                               (size_t)segment->dirty_mask, (size_t)dirty);
  }
  const uintptr_t commit = segment->commit_mask;
  if ((commit & ~all_units) != 0 || (commit & 1) == 0 || (used_units & ~commit) != 0 || (segment->memid.is_committed && commit != all_units)) {
    return _mi_message_invalid("segment", segment, "commit_mask holds unit 0 and every unit in use, all when committed (%#zx, in use %#zx)",
                               (size_t)commit, (size_t)used_units);
  }

  /* guards: inaccessible units' last OS pages lie in committed units,
     never inside a page in use (MI_SECURE 3, sliced only) */
  uintptr_t inner = 0;
  for (size_t i = 0; i < segment->capacity; i++) {
    const mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use || page->slice_offset != 0) continue;
    inner |= mi_slice_mask(i, (kind == MI_PAGE_SLICED ? mi_segment_span_count(page) : 1) - 1);
  }
  const uintptr_t guards = segment->guard_mask;
  if ((guards & ~commit) != 0 || (guards & inner) != 0 || (guards != 0 && (MI_SECURE < 3 || kind == MI_PAGE_HUGE))) {
    return _mi_message_invalid("segment", segment, "guard_mask: committed units, none inside a page in use, only at MI_SECURE 3 and not huge "
                               "(%#zx, committed %#zx, inside pages %#zx)", (size_t)guards, (size_t)commit, (size_t)inner);
  }

  /* owner, queues, abandoned */
  const uintptr_t tid = mi_atomic_load_relaxed(&((mi_segment_t*)segment)->xthread_id);
  if (segment->tld != NULL) {
    /* the owner is the tld's thread (its backing heap's id), which need not
       be the caller: a runtime may abandon the heaps of a thread that is gone */
    const mi_heap_t* backing = segment->tld->heap_backing;
    if (backing == NULL || tid != backing->thread_id || segment->subproc != segment->tld->segments.abandoned) {
      return _mi_message_invalid("segment", segment, "owned: xthread_id == the owner's id, subproc == tld->segments.abandoned (xthread_id %#zx)", (size_t)tid);
    }
    mi_segment_queue_t* queue = mi_segment_free_queue((mi_segment_t*)segment, segment->tld);
    if (queue == NULL) {
      if (segment->next != NULL || segment->prev != NULL) return _mi_message_invalid("segment", segment, "huge => in no queue");
    } else {
      const bool queued = mi_segment_queue_contains(queue, segment);
      const bool has_free = mi_segment_has_free(segment);
      if ((queued && !has_free) || (!queued && has_free && segment->used > segment->abandoned && !segment->dont_free)) {
        return _mi_message_invalid("segment", segment, "in its tld's free queue <=> it has a free unit (queued %d, has free %d)", (int)queued, (int)has_free);
      }
      if (queued && (segment->prev == NULL ? queue->first != segment : segment->prev->next != segment)) {
        return _mi_message_invalid("segment", segment, "linked in its free queue (prev)");
      }
      if (queued && (segment->next == NULL ? queue->last != segment : segment->next->prev != segment)) {
        return _mi_message_invalid("segment", segment, "linked in its free queue (next)");
      }
    }
  } else if (tid != 0 || segment->used == 0 || segment->abandoned != segment->used) {
    return _mi_message_invalid("segment", segment, "abandoned (tld == NULL): xthread_id == 0, abandoned == used > 0 (xthread_id %#zx, used %zu, abandoned %zu)",
                               (size_t)tid, segment->used, segment->abandoned);
  }
  /* after the owner: a wrong xthread_id is reported as such */
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = (mi_page_t*)&segment->pages[i];
    const uintptr_t fast_tid = mi_atomic_load_relaxed(&page->xfast_tid);
    if (fast_tid != (mi_atomic_load_relaxed(&page->xflags) == 0 ? tid : 0)) {
      return _mi_message_invalid("segment", segment, "pages[%zu].xfast_tid == (xflags == 0 ? xthread_id : 0) (%#zx, flags %#x)", i,
                                 (size_t)fast_tid, (unsigned)mi_atomic_load_relaxed(&page->xflags));
    }
  }
  if (segment->memid.arena_idx != 0 && !_mi_arena_range_is_valid(segment, segment->segment_size, &segment->memid)) return false;
  return true;
}

#if MI_DEBUG > 2
/* Under MI_LOCK_ABANDONED: is the segment linked in its sub-process's list? */
static bool mi_abandoned_is_linked(const mi_segment_t* segment) {
  const mi_subproc_t* subproc = segment->subproc;
  const bool ok = (mi_atomic_load_relaxed(&((mi_segment_t*)segment)->xthread_id) == 0 && segment->tld == NULL &&
                   (segment->prev == NULL ? subproc->abandoned_first == segment : segment->prev->next == segment) &&
                   (segment->next == NULL ? subproc->abandoned_last == segment : segment->next->prev == segment) &&
                   mi_atomic_load_relaxed(&((mi_subproc_t*)subproc)->xabandoned_count) > 0);
  return (ok ? true : _mi_message_invalid("segment", segment, "xthread_id == 0 <=> linked in its sub-process's abandoned list"));
}
#endif
#endif

/* ---------------------------------------------------------------------------
   Allocate and free segments
--------------------------------------------------------------------------- */
/* Memory for a huge segment whose block must be `alignment` aligned, with
   alignment > MI_HUGE_ALIGN_MIN: the block is placed at segment +
   MI_SEGMENT_SIZE, so the segment X must satisfy X + MI_SEGMENT_SIZE = 0
   (mod alignment). Taken straight from the OS and trimmed. */
static void* mi_segment_alloc_huge_aligned(size_t segment_size, size_t alignment, mi_memid_t* memid) {
  memset(memid, 0, sizeof(*memid));
  if (segment_size + alignment < segment_size) return NULL;
  const size_t over = segment_size + alignment;
  bool is_zero = false;
  uint8_t* p = (uint8_t*)_mi_os_alloc_aligned(over, MI_SEGMENT_SIZE, true, &is_zero);
  if (p == NULL) return NULL;
  uint8_t* x = (uint8_t*)(_mi_align_up((uintptr_t)p + MI_SEGMENT_SIZE, alignment) - MI_SEGMENT_SIZE);
  const size_t pre = (size_t)(x - p);
  const size_t post = over - pre - segment_size;
  if (pre > 0) _mi_os_free(p, pre);
  if (post > 0) _mi_os_free(x + segment_size, post);
  if (!_mi_segment_map_covers((uintptr_t)x + segment_size - 1)) { _mi_os_free(x, segment_size); return NULL; }
  memid->is_zero = is_zero;
  memid->is_committed = true;
  return x;
}

static mi_segment_t* mi_segment_alloc(size_t required, size_t page_alignment, mi_page_kind_t kind, mi_heap_t* heap, mi_tld_t* tld) {
  size_t capacity, page_shift, info_size, segment_size;
  if (kind == MI_PAGE_SLICED) {
    page_shift = MI_SLICE_SHIFT;
    capacity = MI_SEGMENT_SIZE >> page_shift;
    info_size = mi_segment_info_size(capacity);
    segment_size = MI_SEGMENT_SIZE;
  } else {
    page_shift = MI_INTPTR_BITS - 1;   /* every pointer maps to page 0 */
    capacity = 1;
    if (kind == MI_PAGE_HUGE && page_alignment > MI_HUGE_ALIGN_MIN) {
      info_size = MI_SEGMENT_SIZE;     /* the block starts right after the first unit */
    } else {
      info_size = mi_segment_info_size(1);
    }
    /* MI_SECURE 3: and the huge block's guard page after it */
    segment_size = _mi_align_up(info_size + required, _mi_os_page_size()) + (MI_SECURE >= 3 ? _mi_os_page_size() : 0);
    if (segment_size < required) return NULL;   /* overflow */
  }
  mi_memid_t memid;
  mi_segment_t* segment;
  if (kind == MI_PAGE_HUGE && page_alignment > MI_HUGE_ALIGN_MIN) {
    /* straight from the OS: not for a heap bound to an arena */
    if (heap->arena_id != 0 || mi_option_is_enabled(mi_option_disallow_os_alloc)) return NULL;
    segment = (mi_segment_t*)mi_segment_alloc_huge_aligned(segment_size, page_alignment, &memid);
  } else {
    const bool eager = (kind == MI_PAGE_HUGE ||
                        (mi_option_is_enabled(mi_option_eager_commit) &&
                         tld->segments.count >= (size_t)mi_option_get_clamp(mi_option_eager_commit_delay, 0, LONG_MAX)));
    segment = (mi_segment_t*)_mi_arena_alloc_segment(segment_size, eager, heap->arena_id, &memid);
  }
  if (segment == NULL) return NULL;
  mi_assert_internal(((uintptr_t)segment & MI_SEGMENT_MASK) == 0);
  if (!memid.is_committed) {
    /* lazy (never huge): the header's unit now, each page when it is claimed */
    mi_assert_internal(kind != MI_PAGE_HUGE);
    if (!_mi_os_commit(segment, (size_t)1 << page_shift)) { _mi_arena_free_segment(segment, segment_size, memid); return NULL; }
  }

  /* the header's memory may be one a checker marks inaccessible (a
     caller's buffer given to mi_manage_os_memory); the page areas are
     described as pages are made (mi_page_init) and blocks handed out */
  mi_track_mem_defined(segment, info_size);
  memset((void*)segment, 0, (info_size < MI_SEGMENT_SIZE ? info_size : sizeof(mi_segment_t)));
  segment->memid = memid;
  segment->segment_size = segment_size;
  segment->segment_info_size = info_size;
  segment->cookie = (uintptr_t)segment ^ _mi_segment_cookie;
  segment->link_tag = mi_link_tag(segment);
  segment->header_guard = (MI_SECURE >= 3 && (info_size == MI_SEGMENT_SIZE || info_size != mi_segment_info_size_raw(capacity)));
  mi_segment_header_guard(segment, true);
  segment->capacity = capacity;
  segment->page_shift = page_shift;
  segment->page_kind = kind;
  segment->tld = tld;
  segment->subproc = tld->segments.abandoned;
  segment->commit_mask = (memid.is_committed ? mi_slice_mask(0, capacity) : 1);
  segment->slice_map = (kind == MI_PAGE_SLICED ? 1 : 0);   /* slice 0 holds the header */
  for (size_t i = 0; i < capacity; i++) {
    segment->pages[i].segment_idx = (uint8_t)i;
    segment->pages[i].is_zero_init = memid.is_zero;
    mi_page_set_flag(&segment->pages[i], MI_PAGE_UNUSED, true);
  }
  segment->dirty_mask = (memid.is_zero || kind == MI_PAGE_HUGE ? 0 : mi_slice_mask(0, capacity) & ~segment->slice_map);
  mi_segment_set_thread_id(segment, _mi_thread_id());
  _mi_segment_map_allocated_at(segment, segment->page_shift);
  tld->segments.count++;
  _mi_stats_increase(&_mi_stats.segments, 1);
  mi_assert_expensive(_mi_segment_is_valid(segment));
  return segment;
}

/* Give a segment back. `tld` is its owner's, or NULL for an abandoned
   segment (which is in no queue and counted by no thread). */
static void mi_segment_free(mi_segment_t* segment, mi_tld_t* tld) {
  mi_assert(segment->used == 0 || (tld == NULL && segment->page_kind == MI_PAGE_HUGE));
  mi_assert_expensive(_mi_segment_is_valid(segment));
  if (tld != NULL) {
    mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
    if (queue != NULL) mi_segment_queue_remove(queue, segment);
    tld->segments.count--;
  }
  _mi_segment_map_freed_at(segment);
  _mi_stats_decrease(&_mi_stats.segments, 1);
  /* the guards go before the memory does (an abandoned huge segment's page is still claimed) */
  if (segment->page_kind == MI_PAGE_HUGE && segment->pages[0].segment_in_use) mi_segment_page_guard(segment, &segment->pages[0], false);
  mi_segment_guards_open(segment, ~(uintptr_t)0);
  mi_segment_header_guard(segment, false);
  mi_memid_t memid = segment->memid;
  memid.is_committed = (segment->commit_mask == mi_slice_mask(0, segment->capacity));
  const size_t size = segment->segment_size;
  segment->cookie = 0;
  /* no longer mica's blocks: whoever gets the memory next (another segment,
     or any mapping once the OS has it back) must not find it poisoned */
  mi_track_mem_undefined(segment, size);
  _mi_arena_free_segment(segment, size, memid);
}

/* ---------------------------------------------------------------------------
   Purging free pages of a live segment (owner only)
--------------------------------------------------------------------------- */
static void mi_segment_unit_mark_purged(mi_segment_t* segment, size_t i) {
  segment->pages[i].is_purged = 1;
  segment->pages[i].is_zero_init = 1;
  segment->dirty_mask &= ~((uintptr_t)1 << i);
}

/* Purge the free units named in `units`, one OS call per run of adjacent
   units: each madvise of a threaded process costs a TLB shootdown on the
   other CPUs (in a VM, an exit each). bench-prodcons made 259 calls one
   unit at a time, 125 by runs (doc/benchmarks.md, twelfth session). */
static bool mi_segment_unit_to_purge(const mi_segment_t* segment, uintptr_t units, size_t i) {
  return i < segment->capacity && ((units >> i) & 1) != 0 && mi_segment_unit_is_free(segment, i);
}

static void mi_segment_units_purge(mi_segment_t* segment, uintptr_t units) {
  for (size_t i = 0; i < segment->capacity; i++) {
    if (!mi_segment_unit_to_purge(segment, units, i)) continue;
    /* units lie end to end (only unit 0 starts late), so a run is [first, i] */
    const size_t first = i;
    while (mi_segment_unit_to_purge(segment, units, i + 1)) i++;
    size_t size;
    uint8_t* const start = mi_segment_unit_area(segment, first, &size);
    uint8_t* const end = mi_segment_unit_area(segment, i, &size) + size;
    _mi_os_purge(start, (size_t)(end - start), false);   /* keeps access: the segment stays live */
    /* The OS purges whole OS pages only. A unit that shares one with a
       neighbour in use (a 32 KiB slice under 64 KiB pages) keeps its
       bytes: it must not be taken for zero. */
    size_t len;
    const uintptr_t lo = (uintptr_t)_mi_os_whole_pages(start, (size_t)(end - start), &len), hi = lo + len;
    for (size_t j = first; j <= i; j++) {
      uint8_t* const u = mi_segment_unit_area(segment, j, &size);
      if ((uintptr_t)u >= lo && (uintptr_t)u + size <= hi) mi_segment_unit_mark_purged(segment, j);
    }
  }
}

/* Purging runs in rounds: a unit freed in one round is purged at the end
   of the next, if it is still free. So it stays free for at least a round,
   and memory that a program keeps reusing is not returned and faulted back
   in. A round lasts purge_delay while the owning thread is quiet; while it
   is busy (it freed or asked for a page within purge_delay) a round lasts
   the arena purge delay (purge_delay x arena_purge_mult, 100 ms by
   default). So a thread that drops a large structure and builds the next
   (an interpreter's cycle) keeps the pages it reuses, as mimalloc's
   deadline extension does, and memory it leaves unused is still returned
   within two arena delays while it works. When a quiet thread's round has
   seen no free for purge_delay, the whole round is purged at once. */
static void mi_segment_start_round(mi_segment_t* segment, uint32_t now) {
  const uint32_t expire = now + (uint32_t)mi_option_get(mi_option_purge_delay);
  segment->purge_expire = (expire == 0 ? 1 : expire);
  segment->purge_round = now;
}

static void mi_segment_purge_pages(mi_segment_t* segment, bool force, bool busy, uint32_t now) {
  if (segment->purge_expire == 0) return;
  const uint32_t delay = (uint32_t)mi_option_get(mi_option_purge_delay);
  bool round_is_old = force;
  if (!force && busy) {
    const long limit = _mi_arena_purge_delay();
    const uint32_t round = (limit > (long)delay ? (uint32_t)(limit > INT32_MAX / 2 ? INT32_MAX / 2 : limit) : delay);
    if (!_mi_os_clock_expired(segment->purge_round + round, now)) return;
  } else if (!force) {
    if (!_mi_os_clock_expired(segment->purge_expire, now)) return;
    round_is_old = _mi_os_clock_expired(segment->purge_last + delay, now);
  }
  const uintptr_t purge = segment->purge_due | (round_is_old ? segment->purge_mask : 0);
  mi_segment_units_purge(segment, purge);
  segment->purge_due = (round_is_old ? 0 : segment->purge_mask);
  segment->purge_mask = 0;
  if (segment->purge_due != 0) mi_segment_start_round(segment, now);
  else segment->purge_expire = 0;
}

/* Units [idx, idx+count) became free: return their memory now or after the delay. */
static void mi_segment_schedule_purge(mi_segment_t* segment, size_t idx, size_t count, bool force) {
  if (segment->memid.is_pinned) return;   /* huge OS pages or the caller's memory */
  const long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0 && !force) return;
  if (delay == 0 || force) {
    mi_segment_units_purge(segment, mi_slice_mask(idx, count));
    return;
  }
  const uint32_t now = _mi_os_clock_now();
  if (segment->tld != NULL) segment->tld->segments.purge_active = now;
  segment->purge_mask |= mi_slice_mask(idx, count);
  segment->purge_last = now;
  if (segment->purge_expire == 0) mi_segment_start_round(segment, now);
}

static void mi_segment_free(mi_segment_t* segment, mi_tld_t* tld);
static void mi_abandoned_purge(mi_subproc_t* subproc, bool force, uint32_t now);

/* Purge the due rounds of the segments in `queue`; an empty segment is
   kept for reuse until its units are purged, then freed. */
static void mi_segment_queue_purge(mi_segment_queue_t* queue, bool force, bool busy, uint32_t now, mi_tld_t* tld) {
  mi_segment_t* next;
  for (mi_segment_t* s = queue->first; s != NULL; s = next) {
    next = s->next;
    mi_segment_purge_pages(s, force, busy, now);
    mi_assert_expensive(_mi_segment_is_valid(s));
    if (s->used == 0 && (force || s->purge_expire == 0)) mi_segment_free(s, tld);
  }
}

/* Purge the due rounds of the tld's segments (all if `force`; the longer
   rounds if the thread is `busy`), free empty segments whose units are
   purged, and collect the arenas. */
static void mi_segments_purge(bool force, bool busy, uint32_t now, mi_tld_t* tld) {
  mi_segment_queue_purge(&tld->segments.sliced_free, force, busy, now, tld);
  mi_abandoned_purge(tld->segments.abandoned, force, now);
  _mi_arenas_collect(force);
}

/* Purge what is due in the tld's segments and the arenas (an explicit
   collect: rounds of purge_delay); cheap to call often (scans at most once
   per millisecond unless forced). */
void _mi_segments_collect(bool force, mi_tld_t* tld) {
  const uint32_t now = _mi_os_clock_now();
  if (!force && tld->segments.purge_check == now) return;
  tld->segments.purge_check = now;
  mi_segments_purge(force, false, now, tld);
}

/* Did the thread free or ask for a page within purge_delay? */
static bool mi_segments_busy(const mi_tld_t* tld, uint32_t now) {
  const long delay = mi_option_get(mi_option_purge_delay);
  return (delay > 0 && !_mi_os_clock_expired(tld->segments.purge_active + (uint32_t)delay, now));
}

/* The page-allocation path's collect: busy or not, and this request
   renews it. */
static void mi_segments_collect_on_alloc(mi_tld_t* tld) {
  const uint32_t now = _mi_os_clock_now();
  const bool busy = mi_segments_busy(tld, now);
  tld->segments.purge_active = now;
  if (tld->segments.purge_check == now) return;
  tld->segments.purge_check = now;
  mi_segments_purge(false, busy, now, tld);
}

/* The generic path's periodic collect (generic_collect): a busy thread
   keeps its long rounds here too. It once purged as for a quiet thread,
   so every free span of a thread in the middle of its work went back to
   the OS and was faulted in again (test-purge, generic_collect 1). */
void _mi_segments_collect_periodic(mi_tld_t* tld) {
  const uint32_t now = _mi_os_clock_now();
  if (tld->segments.purge_check == now) return;
  tld->segments.purge_check = now;
  mi_segments_purge(false, mi_segments_busy(tld, now), now, tld);
}

/* ---------------------------------------------------------------------------
   Pages
--------------------------------------------------------------------------- */
static void mi_segment_after_claim(mi_segment_t* segment, mi_tld_t* tld) {
  if (!mi_segment_has_free(segment)) {
    mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
    if (queue != NULL) mi_segment_queue_remove(queue, segment);
  }
  _mi_stats_increase(&_mi_stats.pages, 1);
  mi_assert_expensive(_mi_segment_is_valid(segment));
}

static mi_page_t* mi_segment_page_claim(mi_segment_t* segment, mi_page_t* page, mi_tld_t* tld) {
  mi_assert_internal(!page->segment_in_use);
  if (!mi_segment_ensure_committed(segment, page->segment_idx, 1)) return NULL;
  page->segment_in_use = 1;
  mi_page_set_flag(page, MI_PAGE_UNUSED, false);
  segment->used++;
  segment->purge_mask &= ~((uintptr_t)1 << page->segment_idx);   /* still resident: no purge needed */
  segment->purge_due &= ~((uintptr_t)1 << page->segment_idx);
  segment->dirty_mask &= ~((uintptr_t)1 << page->segment_idx);
  page->is_purged = 0;
  mi_segment_page_guard(segment, page, true);
  mi_segment_after_claim(segment, tld);
  return page;
}

/* Claim slices [idx, idx+count) of a sliced segment as one page. */
static mi_page_t* mi_segment_span_claim(mi_segment_t* segment, size_t idx, size_t count, mi_tld_t* tld) {
  if (!mi_segment_ensure_committed(segment, idx, count)) return NULL;
  mi_page_t* page = &segment->pages[idx];
  bool is_zero = true;
  for (size_t k = 0; k < count; k++) {
    mi_page_t* slice = &segment->pages[idx + k];
    is_zero = is_zero && slice->is_zero_init;
    slice->is_zero_init = 0;
    slice->is_purged = 0;
    if (k > 0) {
      slice->slice_offset = (uint8_t)k;
      mi_page_set_has_aligned(slice, true);   /* frees of interior pointers here take the slow path, which resolves */
    }
  }
  segment->slice_map |= mi_slice_mask(idx, count);
  segment->purge_mask &= ~mi_slice_mask(idx, count);
  segment->purge_due &= ~mi_slice_mask(idx, count);
  segment->dirty_mask &= ~mi_slice_mask(idx, count);
  page->segment_in_use = 1;
  mi_page_set_flag(page, MI_PAGE_UNUSED, false);
  page->is_zero_init = is_zero;
  page->slice_count = (uint8_t)count;
  segment->used++;
  mi_segment_page_guard(segment, page, true);
  mi_segment_after_claim(segment, tld);
  return page;
}

/* Where a span of `count` slices goes: at one end of a run of free slices
   (so the rest stays one run), preferring the place with the most dirty
   slices (resident already: no page faults, no new resident memory), then
   the shortest run (best fit keeps long runs for long spans). */
typedef struct mi_span_fit_s {
  mi_segment_t* segment;
  size_t idx;        /* first slice */
  size_t run_len;    /* the free run it is cut from */
  size_t dirty;      /* dirty slices among its `count` */
} mi_span_fit_t;

static bool mi_span_fit_is_better(const mi_span_fit_t* a, const mi_span_fit_t* b) {
  return (b->segment == NULL || a->dirty > b->dirty || (a->dirty == b->dirty && a->run_len < b->run_len));
}

/* Improve `best` with the places in `segment` (slice 0 is always taken). */
static void mi_segment_find_span(mi_segment_t* segment, size_t count, mi_span_fit_t* best) {
  /* run by run through the free slices (a bit scan a run, not a loop a slice) */
  uintptr_t free = ~segment->slice_map & mi_segment_full_slice_map() & ~(uintptr_t)1;
  while (free != 0) {
    const size_t i = mi_bsf(free);
    const size_t n = mi_bsf(~(free >> i));   /* bit 0 is never free, so free >> i ends in a 0 */
    free &= ~mi_slice_mask(i, n);
    if (n >= count) {
      const size_t ends[2] = { i, i + n - count };
      for (size_t e = 0; e < 2; e++) {
        const mi_span_fit_t fit = { segment, ends[e], n, mi_popcount(segment->dirty_mask & mi_slice_mask(ends[e], count)) };
        if (mi_span_fit_is_better(&fit, best)) *best = fit;
      }
    }
  }
}

/* Reset a page's descriptor (and a span's continuation slices) and give its
   units back to the segment; returns the first unit and the unit count.
   Whether the segment stays, goes on a queue or is freed is the caller's. */
static void mi_segment_page_clear(mi_segment_t* segment, mi_page_t* page, size_t* unit_idx, size_t* unit_count) {
  mi_assert(page->segment_in_use && segment->used > 0);
  mi_segment_page_guard(segment, page, false);   /* before the span's size is cleared */
  const uint8_t idx = page->segment_idx;
  size_t count = 1;
  if (segment->page_kind == MI_PAGE_SLICED) {
    count = mi_segment_span_count(page);
    for (size_t k = 1; k < count; k++) {
      mi_page_t* slice = &segment->pages[idx + k];
      memset(slice, 0, sizeof(*slice));
      slice->segment_idx = (uint8_t)(idx + k);
      mi_page_set_flag(slice, MI_PAGE_UNUSED, true);
    }
    segment->slice_map &= ~mi_slice_mask(idx, count);
  }
  const bool was_zero = page->is_zero_init && page->capacity == 0;
  memset(page, 0, sizeof(*page));
  page->segment_idx = idx;
  mi_page_set_flag(page, MI_PAGE_UNUSED, true);
  page->is_zero_init = was_zero;
  /* used memory (a span's continuation slices count as used); a huge
     segment is about to be freed */
  if (segment->page_kind != MI_PAGE_HUGE) {
    segment->dirty_mask |= (was_zero ? 0 : (uintptr_t)1 << idx) | (count > 1 ? mi_slice_mask(idx + 1, count - 1) : 0);
  }
  segment->used--;
  _mi_stats_decrease(&_mi_stats.pages, 1);
  *unit_idx = idx;
  *unit_count = count;
}

void _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  size_t unit_idx, unit_count;
  mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
  /* an empty sliced segment stays for reuse (mi_segment_queue_purge):
     freed at once, a producer's segment of medium pages went back to the
     arena and was made again 70 times in bench-prodcons */
  if (segment->used == 0 && segment->page_kind == MI_PAGE_HUGE && !segment->dont_free) {
    mi_segment_free(segment, tld);
    return;
  }
  mi_segment_schedule_purge(segment, unit_idx, unit_count, force);
  if (segment->dont_free) return;   /* mi_segment_force_abandon decides */
  if (segment->abandoned > 0 && segment->abandoned == segment->used) {
    /* the owner is exiting: this was the last page it still held here
       (the others are abandoned), so the segment goes to the abandoned list */
    mi_segment_abandon(segment, tld);
    return;
  }
  mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
  if (queue != NULL) mi_segment_queue_push_front(queue, segment);
  mi_assert_expensive(_mi_segment_is_valid(segment));
}

#if MI_SECURE >= 2
/* MI_SECURE 2: a random one of the units set in `mask` (not 0) */
static size_t mi_segment_random_unit(uintptr_t mask, mi_heap_t* heap) {
  for (size_t k = (size_t)(_mi_random_next(&heap->random) % mi_popcount(mask)); k > 0; k--) mask &= mask - 1;
  return mi_bsf(mask);
}

/* MI_SECURE 2: the first slice of a random free span of `count` slices in
   `segment`, of dirty slices only if `dirty` (one such span exists) */
static size_t mi_segment_random_span(const mi_segment_t* segment, size_t count, bool dirty, mi_heap_t* heap) {
  const uintptr_t allowed = ~segment->slice_map & (dirty ? segment->dirty_mask : ~(uintptr_t)0);
  uintptr_t starts = allowed;
  for (size_t k = 1; k < count; k++) starts &= allowed >> k;
  return mi_segment_random_unit(starts, heap);
}
#endif

/* How many suitable segments a page request looks at for one with a dirty
   free page: bounded (a thread's queue may hold thousands of segments),
   and the queue puts the segments freed in last, the dirty ones, first. */
#define MI_SEGMENT_DIRTY_SCAN 32

static void mi_segments_try_abandon(mi_heap_t* heap, mi_tld_t* tld);

/* A page request, for taking over abandoned segments: a page of
   `block_size` blocks with room serves it (0: only a fresh page does), as
   does a sliced segment with room for a span of `slices`. */
typedef struct mi_page_request_s {
  size_t block_size;
  size_t slices;
} mi_page_request_t;

/* What taking over one abandoned segment brought: nothing that stays (it
   was empty, and is freed), the segment, or also a page of the size a
   request wants, with room, in its heap. */
typedef enum mi_reclaimed_e { MI_RECLAIMED_NONE, MI_RECLAIMED_SOME, MI_RECLAIMED_WANTED } mi_reclaimed_t;
static mi_reclaimed_t mi_segments_reclaim(mi_heap_t* heap, bool try_all, const mi_page_request_t* want, mi_tld_t* tld);

/* A thread that needs a page and has no room takes over abandoned
   segments first, oldest first, until one can serve the request (at most
   max_segment_reclaim): taking all it may left a pool's other new threads
   none, and they made fresh segments (bench-server: 19 segments and
   64 MiB resident with purging off, 9 and 30 MiB when each takes what it
   needs; mimalloc 2.0.9 29 MiB). If a page of the size it wants, with a
   free block, came into its heap, the request is served there and claims
   no page (NULL, *reclaimed set; mimalloc's "right page reclaimed"): new
   threads of bench-mstress claimed fresh pages beside the pages they had
   just reclaimed. True if anything was taken over or freed. */
static bool mi_segments_reclaim_for(mi_heap_t* heap, const mi_page_request_t* want, bool* reclaimed, mi_tld_t* tld) {
  if (heap->no_reclaim) return false;
  const mi_page_request_t request = { (reclaimed != NULL ? want->block_size : 0), want->slices };
  const mi_reclaimed_t r = mi_segments_reclaim(heap, false, &request, tld);
  if (r == MI_RECLAIMED_WANTED) *reclaimed = true;
  return (r != MI_RECLAIMED_NONE);
}

/* A page of `count` slices (a small page: 1) in one of the thread's sliced
   segments, where mi_segment_find_span says, else in a new one. Once a
   place is found, at most MI_SEGMENT_DIRTY_SCAN suitable segments are
   looked at (a thread may own thousands). */
static mi_page_t* mi_segment_span_alloc(mi_heap_t* heap, size_t count, size_t block_size, bool* reclaimed, mi_tld_t* tld) {
  for (int attempt = 0; attempt < 2; attempt++) {
    mi_span_fit_t best = { NULL, 0, 0, 0 };
    size_t scanned = 0;
    for (mi_segment_t* segment = tld->segments.sliced_free.first; segment != NULL; segment = segment->next) {
      if (!mi_segment_is_suitable(segment, heap)) continue;
      mi_segment_find_span(segment, count, &best);
      if (best.dirty == count && best.run_len == count) break;   /* cannot do better */
      if (++scanned >= MI_SEGMENT_DIRTY_SCAN && best.segment != NULL) break;
    }
#if MI_SECURE >= 2
    /* MI_SECURE 2: a small or medium page goes to a random place in the
       segment the fit chose, among its resident ones if the fit's is
       resident; else a medium page among all its free places, and a small
       page to the fit's own place (a run's end, which keeps long runs for
       long spans). Large blocks keep the fit's place. */
    if (best.segment != NULL && count <= MI_MEDIUM_PAGE_SLICES && (best.dirty == count || count > 1)) {
      best.idx = mi_segment_random_span(best.segment, count, best.dirty == count, heap);
    }
#endif
    if (best.segment != NULL) return mi_segment_span_claim(best.segment, best.idx, count, tld);
    const mi_page_request_t want = { block_size, count };
    if (attempt > 0 || !mi_segments_reclaim_for(heap, &want, reclaimed, tld)) break;
    if (reclaimed != NULL && *reclaimed) return NULL;
  }
  mi_segments_try_abandon(heap, tld);
  mi_segment_t* segment = mi_segment_alloc(0, 0, MI_PAGE_SLICED, heap, tld);
  if (segment == NULL) return NULL;
  mi_segment_queue_push(&tld->segments.sliced_free, segment);
  mi_span_fit_t fit = { NULL, 0, 0, 0 };
  mi_segment_find_span(segment, count, &fit);
  if (fit.segment == NULL) return NULL;   /* cannot happen: count < MI_SLICES_PER_SEGMENT */
  return mi_segment_span_claim(segment, fit.idx, count, tld);
}

/* A fresh page for blocks of `block_size` (or one huge block aligned to
   `page_alignment`). The page is claimed but not yet initialised. With
   `reclaimed`: NULL and *reclaimed true if taking over abandoned segments
   brought a page of `block_size` with a free block into the heap's queue
   instead (the caller takes its block from there). */
mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment, bool few, bool* reclaimed, mi_tld_t* tld) {
  mi_segments_collect_on_alloc(tld);
  if (page_alignment > MI_HUGE_ALIGN_MIN || block_size > MI_LARGE_OBJ_SIZE_MAX) {
    mi_segment_t* segment = mi_segment_alloc(block_size, page_alignment, MI_PAGE_HUGE, heap, tld);
    return (segment == NULL ? NULL : mi_segment_page_claim(segment, &segment->pages[0], tld));
  }
  if (block_size > MI_MEDIUM_OBJ_SIZE_MAX) {
    /* MI_SECURE 3: the span holds the block and its guard page */
    const size_t area = block_size + (MI_SECURE >= 3 ? _mi_os_page_size() : 0);
    return mi_segment_span_alloc(heap, _mi_divide_up(area, MI_SLICE_SIZE), block_size, reclaimed, tld);
  }
  /* a medium page is a span too: its free slices serve small pages and
     large blocks, and theirs it (bench-mstress: 54 -> 44 MiB peak RSS with
     medium pages in segments of their own, doc/benchmarks.md) */
  size_t slices = 1;
  if (block_size > MI_SMALL_OBJ_SIZE_MAX) {
    /* `few`: the heap has no page of the size; a span for 2 blocks may be
       all it ever needs (a thread's few blocks of a rare medium size held
       a 128 KiB page each, doc/benchmarks.md) */
    const size_t area = 2 * block_size + (MI_SECURE >= 3 ? _mi_os_page_size() : 0);
    slices = (few ? _mi_divide_up(area, MI_SLICE_SIZE) : MI_MEDIUM_PAGE_SLICES);
    if (slices > MI_MEDIUM_PAGE_SLICES) slices = MI_MEDIUM_PAGE_SLICES;
  }
  return mi_segment_span_alloc(heap, slices, block_size, reclaimed, tld);
}

/* ---------------------------------------------------------------------------
   Abandon and reclaim
--------------------------------------------------------------------------- */
uintptr_t _mi_segment_cookie;
mi_subproc_t _mi_segment_subproc_main;

/* Set while this thread runs a visitor under MI_LOCK_ABANDONED: whatever
   the visitor allocates or frees must not take that lock again. */
static _Thread_local bool mi_abandoned_visiting;

/* At the end of its sub-process's abandoned list, nobody's (xthread_id 0). */
static void mi_abandoned_link(mi_segment_t* segment) {
  mi_subproc_t* subproc = segment->subproc;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  segment->next = NULL;
  segment->prev = subproc->abandoned_last;
  if (subproc->abandoned_last != NULL) subproc->abandoned_last->next = segment;
  else subproc->abandoned_first = segment;
  subproc->abandoned_last = segment;
  mi_atomic_store_relaxed(&subproc->xabandoned_count, mi_atomic_load_relaxed(&subproc->xabandoned_count) + 1);
  mi_segment_set_thread_id(segment, 0);
  mi_assert_expensive(mi_abandoned_is_linked(segment));
  _mi_prim_unlock(MI_LOCK_ABANDONED);
}

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld) {
  mi_assert(segment->used == segment->abandoned && segment->used > 0 && segment->tld == tld);
  mi_assert_expensive(_mi_segment_is_valid(segment));
  mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
  if (queue != NULL) mi_segment_queue_remove(queue, segment);
  /* its purge rounds run on: with the next owner, or in mi_abandoned_purge;
     abandoned_page_purge (as mimalloc's) purges its free pages now */
  if (mi_option_is_enabled(mi_option_abandoned_page_purge) && !segment->memid.is_pinned) {
    mi_segment_purge_pages(segment, true, false, _mi_os_clock_now());
  }
  tld->segments.count--;
  segment->tld = NULL;
  mi_abandoned_link(segment);
  _mi_stats_increase(&_mi_stats.abandoned, 1);
}

void _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  mi_assert(segment->abandoned < segment->used);
  segment->abandoned++;
  if (segment->abandoned == segment->used && !segment->dont_free) mi_segment_abandon(segment, tld);
  else mi_assert_expensive(segment->dont_free || _mi_segment_is_valid(segment));
}

/* Under MI_LOCK_ABANDONED. */
static void mi_abandoned_unlink(mi_segment_t* segment) {
  mi_assert_expensive(mi_abandoned_is_linked(segment));
  mi_subproc_t* subproc = segment->subproc;
  if (segment->prev != NULL) segment->prev->next = segment->next;
  else subproc->abandoned_first = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  else subproc->abandoned_last = segment->prev;
  segment->next = segment->prev = NULL;
  mi_atomic_store_relaxed(&subproc->xabandoned_count, mi_atomic_load_relaxed(&subproc->xabandoned_count) - 1);
}

/* The oldest abandoned segment of the heap's sub-process that the heap
   may use (its arena), taken off the list and made the caller's. The
   thread id is set under the lock: xthread_id == 0 is what the others test
   under it to see if a segment is still on the list (a free of a huge
   block, abandoned_reclaim_on_free), and would unlink it a second time. */
static mi_segment_t* mi_abandoned_pop(mi_heap_t* heap) {
  mi_subproc_t* subproc = heap->tld->segments.abandoned;
  if (mi_atomic_load_relaxed(&subproc->xabandoned_count) == 0) return NULL;   /* peek; rechecked under the lock */
  if (mi_abandoned_visiting) return NULL;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  mi_segment_t* segment = subproc->abandoned_first;
  while (segment != NULL && !mi_segment_is_suitable(segment, heap)) segment = segment->next;
  if (segment != NULL) {
    mi_abandoned_unlink(segment);
    mi_segment_set_thread_id(segment, _mi_thread_id());
  }
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return segment;
}

/* Abandoned segments keep their purge rounds, so a thread that takes one
   over soon (a thread pool's next thread) reuses its free pages while they
   are resident; exits once purged them, and bench-mstress's threads
   faulted them all back in (doc/benchmarks.md). What nobody takes over is
   purged here, as for a quiet owner, by any thread's collect: at most once
   per purge_delay per sub-process. Under the lock nothing else touches a
   listed segment's purge state or its free units. */
static void mi_abandoned_purge(mi_subproc_t* subproc, bool force, uint32_t now) {
  if (mi_atomic_load_relaxed(&subproc->xabandoned_count) == 0 || mi_abandoned_visiting) return;
  const long delay = mi_option_get(mi_option_purge_delay);
  uint32_t last = mi_atomic_load_relaxed(&subproc->xpurge_check);
  if (!force && (delay < 0 || !_mi_os_clock_expired(last + (uint32_t)delay, now))) return;
  if (!mi_atomic_cas_strong_acq_rel(&subproc->xpurge_check, &last, now)) return;   /* another thread does it */
  _mi_prim_lock(MI_LOCK_ABANDONED);
  for (mi_segment_t* s = subproc->abandoned_first; s != NULL; s = s->next) {
    mi_segment_purge_pages(s, force, false, now);
    mi_assert_expensive(_mi_segment_is_valid(s));
  }
  _mi_prim_unlock(MI_LOCK_ABANDONED);
}

/* Pages go to the thread's heap with their tag that may take them, else
   to `heap` (and take its tag). Empty pages are given back, unless
   `keep_empty` (a free is about to use the segment: a page that a double
   free emptied stays in use, so that free is caught as one). WANTED if a
   page of `want_size` blocks (0: none wanted) with a free block went to
   `heap` itself; NONE if the segment was empty and is freed. */
static mi_reclaimed_t mi_segment_reclaim(mi_segment_t* segment, mi_heap_t* heap, mi_tld_t* tld, bool keep_empty, size_t want_size) {
  bool right = false;
  mi_assert(mi_atomic_load_relaxed(&segment->xthread_id) == _mi_thread_id());   /* taken under the lock */
  segment->tld = tld;
  tld->segments.count++;
  _mi_stats_decrease(&_mi_stats.abandoned, 1);
  _mi_stats_increase(&_mi_stats.reclaimed, 1);
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    segment->abandoned--;
    mi_heap_t* target = _mi_heap_by_tag(heap, page->heap_tag);
    if (target == NULL) { target = heap; page->heap_tag = heap->tag; }
    mi_page_set_heap(page, target);
    _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, true);
    _mi_page_free_collect(page, false);
    if (mi_page_all_free(page) && !keep_empty && MI_HOOK_PAGE_SAFE_TO_FREE(page)) {
      size_t unit_idx, unit_count;
      mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
      if (segment->used > 0) mi_segment_schedule_purge(segment, unit_idx, unit_count, false);
    } else {
      _mi_page_reclaim(target, page);
      right = right || (target == heap && mi_page_block_size(page) == want_size && page->used < page->reserved);
    }
  }
  mi_assert(segment->abandoned == 0);
  if (segment->used == 0) {
    mi_segment_free(segment, tld);
    return MI_RECLAIMED_NONE;
  }
  mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
  if (queue != NULL && mi_segment_has_free(segment)) mi_segment_queue_push(queue, segment);
  mi_assert_expensive(_mi_segment_is_valid(segment));
  return (right ? MI_RECLAIMED_WANTED : MI_RECLAIMED_SOME);
}

/* Whether a page of the request fits in the segment. */
static bool mi_segment_has_room(mi_segment_t* segment, const mi_page_request_t* want) {
  if (segment->page_kind != MI_PAGE_SLICED) return false;
  mi_span_fit_t fit = { NULL, 0, 0, 0 };
  mi_segment_find_span(segment, want->slices, &fit);
  return (fit.segment != NULL);
}

/* Whether a segment taken off the abandoned list can serve a request once
   the blocks other threads freed into it are collected: room for the span,
   a page of the size with a free block, or nothing in use (it is freed). */
static bool mi_segment_can_serve(mi_segment_t* segment, const mi_page_request_t* want) {
  if (mi_segment_has_room(segment, want)) return true;
  bool all_free = true;
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    _mi_page_free_collect(page, false);
    if (want->block_size != 0 && mi_page_block_size(page) == want->block_size && page->used < page->reserved) return true;
    all_free = all_free && mi_page_all_free(page);
  }
  return all_free;
}

/* target_segments_per_thread: 0, or how many segments a thread should own
   at most: it gives some up before it takes a fresh one. At its target a
   thread that needs room still takes over the abandoned segments that can
   serve it (mi_segment_can_serve). One that took none there gave up a
   segment for each fresh one, and those, full of its own freed blocks,
   stayed abandoned (bench-churn: 3.5 GiB for 13 MiB live with target 2;
   test-arena-abandon). A free takes none over there (as in mimalloc). */
static size_t mi_segments_target(void) {
  return (size_t)mi_option_get_clamp(mi_option_target_segments_per_thread, 0, 1024);
}

/* Take over abandoned segments: all of them, or at most
   max_segment_reclaim, and for a request (`want`) only until one can
   serve it. NONE if there was none; SOME also when all were empty (and
   freed: their units are the arena's to hand out again). */
static mi_reclaimed_t mi_segments_reclaim(mi_heap_t* heap, bool try_all, const mi_page_request_t* want, mi_tld_t* tld) {
  long max = (try_all ? LONG_MAX : mi_option_get_clamp(mi_option_max_segment_reclaim, 0, 1024));
  const size_t target = (try_all || want == NULL ? 0 : mi_segments_target());
  mi_reclaimed_t result = MI_RECLAIMED_NONE;
  while (max-- > 0) {
    mi_segment_t* segment = mi_abandoned_pop(heap);
    if (segment == NULL) break;
    if (target > 0 && tld->segments.count >= target && !mi_segment_can_serve(segment, want)) {
      mi_abandoned_link(segment);   /* at the target: only what serves the request */
      continue;
    }
    const mi_reclaimed_t r = mi_segment_reclaim(segment, heap, tld, false, (want != NULL ? want->block_size : 0));
    if (r == MI_RECLAIMED_WANTED) return r;
    result = MI_RECLAIMED_SOME;
    if (r == MI_RECLAIMED_SOME && want != NULL && mi_segment_has_room(segment, want)) break;
  }
  return result;
}

bool _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all, mi_tld_t* tld) {
  return mi_segments_reclaim(heap, try_all, NULL, tld) != MI_RECLAIMED_NONE;
}

/* Collect the blocks other threads freed into an abandoned segment taken
   off the list (so its pages are the caller's for the time); true if
   nothing in it is in use any more and the runtime lets every page go. */
static bool mi_segment_abandoned_all_free(mi_segment_t* segment) {
  bool all_free = true;
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    _mi_page_free_collect(page, false);
    all_free = all_free && mi_page_all_free(page) && MI_HOOK_PAGE_SAFE_TO_FREE(page);
  }
  return all_free;
}

/* Thread exit: blocks freed into abandoned segments after their thread
   left stay counted as in use, and such a segment stays, until a thread
   takes it over, which may never happen. So each exit looks at the
   abandoned segments of its sub-process once (at most
   MI_ABANDONED_COLLECT_MAX, oldest first): their frees are collected, a
   segment with nothing left in use is given back, the others go back to
   the end of the list (mimalloc's _mi_abandoned_collect does the same on
   every heap collect). */
#define MI_ABANDONED_COLLECT_MAX 1024
void _mi_segment_collect_abandoned(mi_heap_t* heap) {
  if (mi_abandoned_visiting) return;
  mi_subproc_t* subproc = heap->tld->segments.abandoned;
  size_t n = mi_atomic_load_relaxed(&subproc->xabandoned_count);
  if (n > MI_ABANDONED_COLLECT_MAX) n = MI_ABANDONED_COLLECT_MAX;
  while (n-- > 0) {
    mi_segment_t* segment = mi_abandoned_pop(heap);
    if (segment == NULL) break;
    if (segment->page_kind != MI_PAGE_HUGE && mi_segment_abandoned_all_free(segment)) {
      (void)mi_segment_reclaim(segment, heap, heap->tld, false, 0);   /* clears every page, then frees the segment */
    } else {
      mi_abandoned_link(segment);
    }
  }
}

/* abandoned_reclaim_on_free: a thread frees a block of an abandoned
   segment and takes the whole segment over, so the free is local and the
   segment's free pages serve it (mimalloc's option of the same name). */
bool _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap) {
  if (!mi_option_is_enabled(mi_option_abandoned_reclaim_on_free) || mi_abandoned_visiting) return false;
  if (mi_atomic_load_relaxed(&segment->xthread_id) != 0 || segment->page_kind == MI_PAGE_HUGE) return false;
  if (heap == NULL) return false;   /* the thread has no heap yet */
  heap = heap->tld->heap_backing;   /* can take pages of any tag */
  mi_tld_t* tld = heap->tld;
  if (segment->subproc != tld->segments.abandoned || !mi_segment_is_suitable(segment, heap)) return false;
  const size_t target = mi_segments_target();
  if (target > 0 && tld->segments.count >= target) return false;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  const bool on_list = (mi_atomic_load_acquire(&segment->xthread_id) == 0);
  if (on_list) {
    mi_abandoned_unlink(segment);
    mi_segment_set_thread_id(segment, _mi_thread_id());   /* as in mi_abandoned_pop */
  }
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  if (!on_list) return false;
  /* every page stays in use: the freed block's page, and so the segment, stays */
  (void)mi_segment_reclaim(segment, heap, tld, true, 0);
  return true;
}

/* A thread frees the only block of a huge page in an abandoned segment:
   take the segment off the list and give it back at once, instead of
   leaving it until some thread reclaims it. */
bool _mi_segment_huge_page_free_abandoned(mi_segment_t* segment) {
  if (mi_abandoned_visiting) return false;   /* freed the ordinary way; a reclaim frees the segment later */
  _mi_prim_lock(MI_LOCK_ABANDONED);
  const bool on_list = (mi_atomic_load_acquire(&segment->xthread_id) == 0);
  if (on_list) mi_abandoned_unlink(segment);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  if (!on_list) return false;   /* reclaimed meanwhile: the caller frees the block normally */
  _mi_stats_decrease(&_mi_stats.abandoned, 1);
  _mi_stats_decrease(&_mi_stats.pages, 1);
  mi_segment_free(segment, NULL);
  return true;
}

/* ---------------------------------------------------------------------------
   Giving segments up while the thread lives (target_segments_per_thread,
   mi_collect_reduce): other threads may then reclaim them.
--------------------------------------------------------------------------- */
static void mi_segment_force_abandon(mi_segment_t* segment, mi_tld_t* tld) {
  mi_assert_internal(segment->tld == tld && segment->page_kind != MI_PAGE_HUGE);
  segment->dont_free = true;
  /* no more delayed frees into its pages; then the ones already made (which
     may empty pages, but neither free nor abandon the segment meanwhile) */
  for (size_t i = 0; i < segment->capacity; i++) {
    if (segment->pages[i].segment_in_use) _mi_page_use_delayed_free(&segment->pages[i], MI_NEVER_DELAYED_FREE, false);
  }
  for (mi_heap_t* h = tld->heaps; h != NULL; h = h->next) _mi_page_delayed_free_all(h);
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    mi_heap_t* heap = mi_page_heap(page);
    mi_page_queue_t* pq = _mi_page_queue_in(heap, page);
    _mi_page_free_collect(page, false);
    if (!mi_page_all_free(page) || !MI_HOOK_PAGE_EMPTY(page, pq, false)) _mi_page_abandon(page, pq);
  }
  segment->dont_free = false;
  if (segment->used == 0) mi_segment_free(segment, tld);
  else mi_segment_abandon(segment, tld);
}

/* Not a huge segment, nor one holding pages of a heap that may be
   destroyed (mi_heap_destroy must find all its blocks at home). */
static bool mi_segment_may_abandon(const mi_segment_t* segment) {
  if (segment->page_kind == MI_PAGE_HUGE) return false;
  for (size_t i = 0; i < segment->capacity; i++) {
    const mi_page_t* page = &segment->pages[i];
    const mi_heap_t* heap = (page->segment_in_use ? mi_page_heap(page) : NULL);
    if (heap != NULL && heap->no_reclaim) return false;
  }
  return true;
}

/* Give up segments of full pages until the thread owns fewer than `target`
   (3/4 of it, so this does not run at every new segment). */
void _mi_segments_reduce(mi_heap_t* heap, size_t target) {
  mi_tld_t* tld = heap->tld;
  if (target == 0) return;
  const size_t low = (target > 4 ? (target * 3) / 4 : target);
  for (int i = 0; i < 64 && tld->segments.count >= low; i++) {
    mi_page_t* page = heap->pages[MI_BIN_FULL].first;
    while (page != NULL && !mi_segment_may_abandon(_mi_page_segment(page))) page = page->next;
    if (page == NULL) break;
    mi_segment_force_abandon(_mi_page_segment(page), tld);
  }
}

static void mi_segments_try_abandon(mi_heap_t* heap, mi_tld_t* tld) {
  const size_t target = mi_segments_target();
  if (target == 0 || tld->segments.count < target) return;
  _mi_segments_reduce(heap, target);
}

/* ---------------------------------------------------------------------------
   Visiting abandoned blocks (visit_abandoned): under the abandoned lock,
   so no thread reclaims a segment meanwhile.
--------------------------------------------------------------------------- */
bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  if (visitor == NULL) return false;
  if (!mi_option_is_enabled(mi_option_visit_abandoned)) {
    _mi_message_error(EFAULT, "mi_abandoned_visit_blocks: set the option visit_abandoned (MICA_VISIT_ABANDONED=1) at start-up to visit abandoned blocks\n");
    return false;
  }
  return _mi_segment_abandoned_visit(subproc_id == NULL ? &_mi_segment_subproc_main : (mi_subproc_t*)subproc_id,
                                     heap_tag, visit_blocks, visitor, arg);
}

/* The same without the option (runtime support: an embedder's own pools,
   visited by its collector while the other threads are paused). */
bool _mi_segment_abandoned_visit(mi_subproc_t* subproc, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  bool ok = true;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  mi_abandoned_visiting = true;
  for (mi_segment_t* segment = subproc->abandoned_first; segment != NULL && ok; segment = segment->next) {
    for (size_t i = 0; i < segment->capacity && ok; i++) {
      mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use || (heap_tag >= 0 && page->heap_tag != heap_tag)) continue;
      ok = _mi_page_visit(NULL, page, visit_blocks, visitor, arg);
    }
  }
  mi_abandoned_visiting = false;
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return ok;
}

/* Thread exit: the empty segments kept for reuse go to the arena
   (its purge delay runs on: the next thread's segment may be one of them);
   the others are abandoned by now, and their purge rounds run on
   (mi_abandoned_purge). */
void _mi_segment_thread_collect(mi_tld_t* tld) {
  mi_segment_t* next;
  for (mi_segment_t* s = tld->segments.sliced_free.first; s != NULL; s = next) {
    next = s->next;
    if (s->used == 0) mi_segment_free(s, tld);
  }
  _mi_segments_collect(false, tld);
}
