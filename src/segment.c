/* Segments: MI_SEGMENT_SIZE-aligned memory split into pages, their
   allocation from arenas, delayed purging of free pages, and abandoning
   (thread exit) / reclaiming (another thread takes over).

   A small or medium segment whose owner is alive is in its tld's free queue
   exactly when it has a free page. Each sub-process has a list of abandoned
   segments (their owner exited, or gave them up, with pages still in use);
   the lists are protected by MI_LOCK_ABANDONED, and a segment is on its
   sub-process's list exactly when its xthread_id is 0. The lists are FIFOs:
   reclaiming takes the oldest segments, which other threads' frees have
   most likely emptied meanwhile, so every segment is visited in turn.

   Commit policy: a segment's memory is committed up front (eager) unless
   it comes from arena memory that is not committed yet and eager_commit is
   off, or the thread owns fewer than eager_commit_delay segments; then the
   header's unit is committed at once and each page (large: slice) when it
   is first claimed (commit_mask). */
#include "mica/internal.h"

#define MI_SEGMENT_INFO_ALIGN  4096   /* page 0 starts 4 KiB aligned: power-of-two blocks up to 4 KiB are naturally aligned */

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld);

/* ---------------------------------------------------------------------------
   Queues of segments with free pages (owner only)
--------------------------------------------------------------------------- */
static mi_segment_queue_t* mi_segment_free_queue(mi_segment_t* segment, mi_tld_t* tld) {
  if (segment->page_kind == MI_PAGE_SMALL) return &tld->small_free;
  if (segment->page_kind == MI_PAGE_MEDIUM) return &tld->medium_free;
  if (segment->page_kind == MI_PAGE_LARGE) return &tld->large_free;
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

/* ---------------------------------------------------------------------------
   Geometry
--------------------------------------------------------------------------- */
uint8_t* _mi_segment_page_start(const mi_segment_t* segment, const mi_page_t* page, size_t* page_size) {
  size_t psize;
  uint8_t* start;
  if (segment->page_kind == MI_PAGE_SMALL || segment->page_kind == MI_PAGE_MEDIUM) {
    psize = (size_t)1 << segment->page_shift;
    start = (uint8_t*)segment + page->segment_idx * psize;
    if (page->segment_idx == 0) { start += segment->segment_info_size; psize -= segment->segment_info_size; }
  } else if (segment->page_kind == MI_PAGE_LARGE) {
    start = (uint8_t*)segment + page->segment_idx * MI_SLICE_SIZE;   /* spans never include slice 0 */
    psize = page->xblock_size;                                         /* the span, set when it was claimed */
  } else {
    start = (uint8_t*)segment + segment->segment_info_size;
    psize = segment->segment_size - segment->segment_info_size;
  }
  if (page_size != NULL) *page_size = psize;
  return start;
}

/* The memory of purge unit `i`: a page, or a slice of a large segment. */
static uint8_t* mi_segment_unit_area(const mi_segment_t* segment, size_t i, size_t* size) {
  const size_t unit = (segment->page_kind == MI_PAGE_LARGE ? MI_SLICE_SIZE : ((size_t)1 << segment->page_shift));
  uint8_t* start = (uint8_t*)segment + i * unit;
  *size = unit;
  if (i == 0) { start += segment->segment_info_size; *size -= segment->segment_info_size; }
  return start;
}

static bool mi_segment_unit_is_free(const mi_segment_t* segment, size_t i) {
  if (segment->page_kind == MI_PAGE_LARGE) return ((segment->slice_map >> i) & 1) == 0;
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
  return (segment->page_kind == MI_PAGE_LARGE ? MI_SLICE_SIZE : ((size_t)1 << segment->page_shift));
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
  }
  return true;
}

static bool mi_segment_is_suitable(const mi_segment_t* segment, const mi_heap_t* heap) {
  return _mi_arena_is_suitable(segment->memid.arena_idx, heap->arena_id);
}

static bool mi_segment_has_free(const mi_segment_t* segment) {
  if (segment->page_kind == MI_PAGE_LARGE) return segment->slice_map != mi_segment_full_slice_map();
  return segment->used < segment->capacity;
}

static size_t mi_segment_info_size(size_t capacity) {
  return _mi_align_up(sizeof(mi_segment_t) + (capacity - 1) * sizeof(mi_page_t), MI_SEGMENT_INFO_ALIGN);
}

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
  if (kind == MI_PAGE_SMALL || kind == MI_PAGE_MEDIUM || kind == MI_PAGE_LARGE) {
    page_shift = (kind == MI_PAGE_SMALL ? MI_SMALL_PAGE_SHIFT : (kind == MI_PAGE_MEDIUM ? MI_MEDIUM_PAGE_SHIFT : MI_SLICE_SHIFT));
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
    segment_size = _mi_align_up(info_size + required, _mi_os_page_size());
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
                         tld->segment_count >= (size_t)mi_option_get_clamp(mi_option_eager_commit_delay, 0, LONG_MAX)));
    segment = (mi_segment_t*)_mi_arena_alloc_segment(segment_size, eager, heap->arena_id, &memid);
  }
  if (segment == NULL) return NULL;
  mi_assert_internal(((uintptr_t)segment & MI_SEGMENT_MASK) == 0);
  if (!memid.is_committed) {
    /* lazy (never huge): the header's unit now, each page when it is claimed */
    mi_assert_internal(kind != MI_PAGE_HUGE);
    if (!_mi_os_commit(segment, (size_t)1 << page_shift)) { _mi_arena_free_segment(segment, segment_size, memid); return NULL; }
  }

  /* the memory may have been a freed block a checker marks inaccessible */
  mi_track_mem_defined(segment, segment_size);
  memset((void*)segment, 0, (info_size < MI_SEGMENT_SIZE ? info_size : sizeof(mi_segment_t)));
  segment->memid = memid;
  segment->segment_size = segment_size;
  segment->segment_info_size = info_size;
  segment->cookie = (uintptr_t)segment ^ _mi_segment_cookie;
  segment->capacity = capacity;
  segment->page_shift = page_shift;
  segment->page_kind = kind;
  segment->tld = tld;
  segment->subproc = tld->subproc;
  segment->commit_mask = (memid.is_committed ? mi_slice_mask(0, capacity) : 1);
  segment->slice_map = (kind == MI_PAGE_LARGE ? 1 : 0);   /* slice 0 holds the header */
  for (size_t i = 0; i < capacity; i++) {
    segment->pages[i].segment_idx = (uint8_t)i;
    segment->pages[i].is_zero_init = memid.is_zero;
    mi_page_set_flag(&segment->pages[i], MI_PAGE_UNUSED, true);
  }
  mi_atomic_store_release(&segment->xthread_id, _mi_thread_id());
  _mi_segment_map_allocated_at(segment);
  tld->segment_count++;
  _mi_stats_increase(&_mi_stats.segments, 1);
  return segment;
}

/* Give a segment back. `tld` is its owner's, or NULL for an abandoned
   segment (which is in no queue and counted by no thread). */
static void mi_segment_free(mi_segment_t* segment, mi_tld_t* tld) {
  if (tld != NULL) {
    mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
    if (queue != NULL) mi_segment_queue_remove(queue, segment);
    tld->segment_count--;
  }
  _mi_segment_map_freed_at(segment);
  _mi_stats_decrease(&_mi_stats.segments, 1);
  mi_memid_t memid = segment->memid;
  memid.is_committed = (segment->commit_mask == mi_slice_mask(0, segment->capacity));
  const size_t size = segment->segment_size;
  segment->cookie = 0;
  _mi_arena_free_segment(segment, size, memid);
}

/* ---------------------------------------------------------------------------
   Purging free pages of a live segment (owner only)
--------------------------------------------------------------------------- */
static void mi_segment_unit_purge(mi_segment_t* segment, size_t i) {
  size_t size;
  uint8_t* start = mi_segment_unit_area(segment, i, &size);
  _mi_os_purge(start, size, false);   /* keeps access: the segment stays live */
  segment->pages[i].is_purged = 1;
  segment->pages[i].is_zero_init = 1;
}

/* Purging runs in rounds of purge_delay: a unit freed in one round is
   purged at the end of the next, if it is still free. So it stays free for
   at least the delay (and at most twice it), and memory that a busy
   program keeps reusing is not returned and faulted back in. When even the
   newest unit of the current round has been free for the delay, the whole
   round is purged at once. */
static void mi_segment_purge_pages(mi_segment_t* segment, bool force, uint32_t now) {
  if (segment->purge_expire == 0) return;
  if (!force && !_mi_os_clock_expired(segment->purge_expire, now)) return;
  const uint32_t delay = (uint32_t)mi_option_get(mi_option_purge_delay);
  const bool round_is_old = force || _mi_os_clock_expired(segment->purge_last + delay, now);
  const uintptr_t purge = segment->purge_due | (round_is_old ? segment->purge_mask : 0);
  for (size_t i = 0; i < segment->capacity; i++) {
    if (((purge >> i) & 1) != 0 && mi_segment_unit_is_free(segment, i)) mi_segment_unit_purge(segment, i);
  }
  segment->purge_due = (round_is_old ? 0 : segment->purge_mask);
  segment->purge_mask = 0;
  if (segment->purge_due != 0) {
    const uint32_t expire = now + delay;
    segment->purge_expire = (expire == 0 ? 1 : expire);
  } else {
    segment->purge_expire = 0;
  }
}

/* Units [idx, idx+count) became free: return their memory now or after the delay. */
static void mi_segment_schedule_purge(mi_segment_t* segment, size_t idx, size_t count, bool force) {
  if (segment->memid.is_pinned) return;   /* huge OS pages or the caller's memory */
  const long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0 && !force) return;
  if (delay == 0 || force) {
    for (size_t i = idx; i < idx + count; i++) mi_segment_unit_purge(segment, i);
    return;
  }
  const uint32_t now = _mi_os_clock_now();
  segment->purge_mask |= mi_slice_mask(idx, count);
  segment->purge_last = now;
  if (segment->purge_expire == 0) {
    const uint32_t expire = now + (uint32_t)delay;
    segment->purge_expire = (expire == 0 ? 1 : expire);
  }
}

static void mi_segment_free(mi_segment_t* segment, mi_tld_t* tld);

/* Purge what is due in the tld's segments and the arenas; cheap to call
   often (scans at most once per millisecond unless forced). */
void _mi_segments_collect(bool force, mi_tld_t* tld) {
  const uint32_t now = _mi_os_clock_now();
  if (!force && tld->purge_check == now) return;
  tld->purge_check = now;
  for (mi_segment_t* s = tld->small_free.first; s != NULL; s = s->next) mi_segment_purge_pages(s, force, now);
  for (mi_segment_t* s = tld->medium_free.first; s != NULL; s = s->next) mi_segment_purge_pages(s, force, now);
  mi_segment_t* next;
  for (mi_segment_t* s = tld->large_free.first; s != NULL; s = next) {
    next = s->next;
    mi_segment_purge_pages(s, force, now);
    /* an empty large segment is kept for reuse until its slices are purged */
    if (s->used == 0 && (force || s->purge_expire == 0)) mi_segment_free(s, tld);
  }
  _mi_arenas_collect(force);
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
}

static mi_page_t* mi_segment_page_claim(mi_segment_t* segment, mi_page_t* page, mi_tld_t* tld) {
  mi_assert_internal(!page->segment_in_use);
  if (!mi_segment_ensure_committed(segment, page->segment_idx, 1)) return NULL;
  page->segment_in_use = 1;
  mi_page_set_flag(page, MI_PAGE_UNUSED, false);
  segment->used++;
  segment->purge_mask &= ~((uintptr_t)1 << page->segment_idx);   /* still resident: no purge needed */
  segment->purge_due &= ~((uintptr_t)1 << page->segment_idx);
  page->is_purged = 0;
  mi_segment_after_claim(segment, tld);
  return page;
}

/* Claim slices [idx, idx+count) of a large segment as one page. */
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
  page->segment_in_use = 1;
  mi_page_set_flag(page, MI_PAGE_UNUSED, false);
  page->is_zero_init = is_zero;
  page->xblock_size = (uint32_t)(count * MI_SLICE_SIZE);   /* the span: _mi_segment_page_start reads it */
  segment->used++;
  mi_segment_after_claim(segment, tld);
  return page;
}

static size_t mi_segment_span_count(const mi_page_t* page) {
  return page->xblock_size / MI_SLICE_SIZE;
}

/* The smallest run of free slices that holds `count` (slice 0 is always
   taken): best fit keeps long runs for long spans. */
static bool mi_segment_find_span(const mi_segment_t* segment, size_t count, size_t* idx, size_t* run_len) {
  const uintptr_t map = segment->slice_map;
  bool found = false;
  *idx = 0;
  *run_len = 0;
  size_t i = 1;
  while (i < MI_SLICES_PER_SEGMENT) {
    if ((map >> i) & 1) { i++; continue; }
    size_t n = 1;
    while (i + n < MI_SLICES_PER_SEGMENT && ((map >> (i + n)) & 1) == 0) n++;
    if (n >= count && (!found || n < *run_len)) {
      *idx = i; *run_len = n; found = true;
      if (n == count) break;   /* exact fit */
    }
    i += n;
  }
  return found;
}

/* Reset a page's descriptor (and a span's continuation slices) and give its
   units back to the segment; returns the first unit and the unit count.
   Whether the segment stays, goes on a queue or is freed is the caller's. */
static void mi_segment_page_clear(mi_segment_t* segment, mi_page_t* page, size_t* unit_idx, size_t* unit_count) {
  const uint8_t idx = page->segment_idx;
  size_t count = 1;
  if (segment->page_kind == MI_PAGE_LARGE) {
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
  segment->used--;
  _mi_stats_decrease(&_mi_stats.pages, 1);
  *unit_idx = idx;
  *unit_count = count;
}

void _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  size_t unit_idx, unit_count;
  mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
  if (segment->used == 0 && segment->page_kind != MI_PAGE_LARGE && !segment->dont_free) {
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
  if (queue != NULL && !mi_segment_queue_contains(queue, segment)) mi_segment_queue_push(queue, segment);
}

static mi_page_t* mi_segment_find_free_page(mi_segment_t* segment) {
  for (size_t i = 0; i < segment->capacity; i++) {
    if (!segment->pages[i].segment_in_use) return &segment->pages[i];
  }
  return NULL;
}

/* The first segment of a queue that may serve `heap` (its arena). */
static mi_segment_t* mi_segment_queue_first_suitable(const mi_segment_queue_t* queue, const mi_heap_t* heap) {
  mi_segment_t* segment = queue->first;
  while (segment != NULL && !mi_segment_is_suitable(segment, heap)) segment = segment->next;
  return segment;
}

static void mi_segments_try_abandon(mi_heap_t* heap, mi_tld_t* tld);

static mi_page_t* mi_segment_small_page_alloc(mi_heap_t* heap, mi_page_kind_t kind, mi_tld_t* tld) {
  mi_segment_queue_t* queue = (kind == MI_PAGE_SMALL ? &tld->small_free : &tld->medium_free);
  mi_segment_t* segment = mi_segment_queue_first_suitable(queue, heap);
  if (segment == NULL && !heap->no_reclaim) {
    _mi_segment_try_reclaim_abandoned(heap, false, tld);
    segment = mi_segment_queue_first_suitable(queue, heap);
  }
  if (segment == NULL) {
    mi_segments_try_abandon(heap, tld);
    segment = mi_segment_alloc(0, 0, kind, heap, tld);
    if (segment == NULL) return NULL;
    mi_segment_queue_push(queue, segment);
  }
  mi_page_t* page = mi_segment_find_free_page(segment);
  mi_assert_internal(page != NULL);
  return mi_segment_page_claim(segment, page, tld);
}

/* A large page: a span of slices in one of the thread's large segments
   (first fit, so recently freed, still resident spans are reused). */
static mi_page_t* mi_segment_large_page_alloc(mi_heap_t* heap, size_t block_size, mi_tld_t* tld) {
  const size_t count = _mi_divide_up(block_size, MI_SLICE_SIZE);
  for (int attempt = 0; attempt < 2; attempt++) {
    mi_segment_t* best = NULL;
    size_t best_idx = 0, best_len = 0;
    for (mi_segment_t* segment = tld->large_free.first; segment != NULL; segment = segment->next) {
      size_t idx, len;
      if (!mi_segment_is_suitable(segment, heap)) continue;
      if (mi_segment_find_span(segment, count, &idx, &len) && (best == NULL || len < best_len)) {
        best = segment; best_idx = idx; best_len = len;
        if (len == count) break;
      }
    }
    if (best != NULL) return mi_segment_span_claim(best, best_idx, count, tld);
    if (attempt > 0 || heap->no_reclaim || !_mi_segment_try_reclaim_abandoned(heap, false, tld)) break;
  }
  mi_segments_try_abandon(heap, tld);
  mi_segment_t* segment = mi_segment_alloc(0, 0, MI_PAGE_LARGE, heap, tld);
  if (segment == NULL) return NULL;
  mi_segment_queue_push(&tld->large_free, segment);
  size_t idx, len;
  if (!mi_segment_find_span(segment, count, &idx, &len)) return NULL;   /* cannot happen: block_size <= MI_LARGE_OBJ_SIZE_MAX */
  return mi_segment_span_claim(segment, idx, count, tld);
}

/* A fresh page for blocks of `block_size` (or one huge block aligned to
   `page_alignment`). The page is claimed but not yet initialised. */
mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment, mi_tld_t* tld) {
  _mi_segments_collect(false, tld);
  if (page_alignment > MI_HUGE_ALIGN_MIN || block_size > MI_LARGE_OBJ_SIZE_MAX) {
    mi_segment_t* segment = mi_segment_alloc(block_size, page_alignment, MI_PAGE_HUGE, heap, tld);
    return (segment == NULL ? NULL : mi_segment_page_claim(segment, &segment->pages[0], tld));
  }
  if (block_size > MI_MEDIUM_OBJ_SIZE_MAX) return mi_segment_large_page_alloc(heap, block_size, tld);
  return mi_segment_small_page_alloc(heap, (block_size > MI_SMALL_OBJ_SIZE_MAX ? MI_PAGE_MEDIUM : MI_PAGE_SMALL), tld);
}

/* ---------------------------------------------------------------------------
   Abandon and reclaim
--------------------------------------------------------------------------- */
uintptr_t _mi_segment_cookie;
mi_subproc_t _mi_segment_subproc_main;

/* Set while this thread runs a visitor under MI_LOCK_ABANDONED: whatever
   the visitor allocates or frees must not take that lock again. */
static _Thread_local bool mi_abandoned_visiting;

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld) {
  mi_assert_internal(segment->used == segment->abandoned && segment->used > 0);
  mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
  if (queue != NULL) mi_segment_queue_remove(queue, segment);
  mi_segment_purge_pages(segment, true, 0);   /* nobody would purge them later */
  tld->segment_count--;
  segment->tld = NULL;
  mi_subproc_t* subproc = segment->subproc;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  segment->next = NULL;
  segment->prev = subproc->abandoned_last;
  if (subproc->abandoned_last != NULL) subproc->abandoned_last->next = segment;
  else subproc->abandoned_first = segment;
  subproc->abandoned_last = segment;
  mi_atomic_store_relaxed(&subproc->xabandoned_count, mi_atomic_load_relaxed(&subproc->xabandoned_count) + 1);
  mi_atomic_store_release(&segment->xthread_id, 0);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  _mi_stats_increase(&_mi_stats.abandoned, 1);
}

void _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  segment->abandoned++;
  if (segment->abandoned == segment->used && !segment->dont_free) mi_segment_abandon(segment, tld);
}

/* Under MI_LOCK_ABANDONED. */
static void mi_abandoned_unlink(mi_segment_t* segment) {
  mi_subproc_t* subproc = segment->subproc;
  if (segment->prev != NULL) segment->prev->next = segment->next;
  else subproc->abandoned_first = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  else subproc->abandoned_last = segment->prev;
  segment->next = segment->prev = NULL;
  mi_atomic_store_relaxed(&subproc->xabandoned_count, mi_atomic_load_relaxed(&subproc->xabandoned_count) - 1);
}

/* The oldest abandoned segment of the heap's sub-process that the heap
   may use (its arena), taken off the list. */
static mi_segment_t* mi_abandoned_pop(mi_heap_t* heap) {
  mi_subproc_t* subproc = heap->tld->subproc;
  if (mi_atomic_load_relaxed(&subproc->xabandoned_count) == 0) return NULL;   /* peek; rechecked under the lock */
  if (mi_abandoned_visiting) return NULL;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  mi_segment_t* segment = subproc->abandoned_first;
  while (segment != NULL && !mi_segment_is_suitable(segment, heap)) segment = segment->next;
  if (segment != NULL) mi_abandoned_unlink(segment);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return segment;
}

/* Pages go to the thread's heap with their tag that may take them, else
   to `heap` (and take its tag). Empty pages are given back, unless
   `keep_empty` (a free is about to use the segment: a page that a double
   free emptied stays in use, so that free is caught as one). */
static void mi_segment_reclaim(mi_segment_t* segment, mi_heap_t* heap, mi_tld_t* tld, bool keep_empty) {
  mi_atomic_store_release(&segment->xthread_id, _mi_thread_id());
  segment->tld = tld;
  tld->segment_count++;
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
    if (mi_page_all_free(page) && !keep_empty) {
      size_t unit_idx, unit_count;
      mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
      if (segment->used > 0) mi_segment_schedule_purge(segment, unit_idx, unit_count, false);
    } else {
      _mi_page_reclaim(target, page);
    }
  }
  mi_assert_internal(segment->abandoned == 0);
  if (segment->used == 0) {
    mi_segment_free(segment, tld);
  } else {
    mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
    if (queue != NULL && mi_segment_has_free(segment)) mi_segment_queue_push(queue, segment);
  }
}

/* target_segments_per_thread: 0, or how many segments a thread should own
   at most (it reclaims no more, and gives some up before it takes more). */
static size_t mi_segments_target(void) {
  return (size_t)mi_option_get_clamp(mi_option_target_segments_per_thread, 0, 1024);
}

/* Take over abandoned segments: a few (max_segment_reclaim), or all. */
bool _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all, mi_tld_t* tld) {
  long max = (try_all ? LONG_MAX : mi_option_get_clamp(mi_option_max_segment_reclaim, 0, 1024));
  const size_t target = (try_all ? 0 : mi_segments_target());
  bool any = false;
  while (max-- > 0 && (target == 0 || tld->segment_count < target)) {
    mi_segment_t* segment = mi_abandoned_pop(heap);
    if (segment == NULL) break;
    mi_segment_reclaim(segment, heap, tld, false);
    any = true;
  }
  return any;
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
  if (segment->subproc != tld->subproc || !mi_segment_is_suitable(segment, heap)) return false;
  const size_t target = mi_segments_target();
  if (target > 0 && tld->segment_count >= target) return false;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  const bool on_list = (mi_atomic_load_acquire(&segment->xthread_id) == 0);
  if (on_list) mi_abandoned_unlink(segment);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  if (!on_list) return false;
  /* every page stays in use: the freed block's page, and so the segment, stays */
  mi_segment_reclaim(segment, heap, tld, true);
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
    if (mi_page_all_free(page)) _mi_page_free(page, pq, false);
    else _mi_page_abandon(page, pq);
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
  for (int i = 0; i < 64 && tld->segment_count >= low; i++) {
    mi_page_t* page = heap->pages[MI_BIN_FULL].first;
    while (page != NULL && !mi_segment_may_abandon(_mi_page_segment(page))) page = page->next;
    if (page == NULL) break;
    mi_segment_force_abandon(_mi_page_segment(page), tld);
  }
}

static void mi_segments_try_abandon(mi_heap_t* heap, mi_tld_t* tld) {
  const size_t target = mi_segments_target();
  if (target == 0 || tld->segment_count < target) return;
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
  mi_subproc_t* subproc = (subproc_id == NULL ? &_mi_segment_subproc_main : (mi_subproc_t*)subproc_id);
  bool ok = true;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  mi_abandoned_visiting = true;
  for (mi_segment_t* segment = subproc->abandoned_first; segment != NULL && ok; segment = segment->next) {
    for (size_t i = 0; i < segment->capacity && ok; i++) {
      mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use || (heap_tag >= 0 && page->heap_tag != heap_tag)) continue;
      mi_heap_area_t area;
      _mi_page_area_init(&area, page);
      ok = visitor(NULL, &area, NULL, area.block_size, arg);
      if (ok && visit_blocks) ok = _mi_page_visit_blocks(NULL, page, visitor, arg);
    }
  }
  mi_abandoned_visiting = false;
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return ok;
}

/* Thread exit: pending purges of the thread's segments happen now. */
void _mi_segment_thread_collect(mi_tld_t* tld) {
  _mi_segments_collect(true, tld);
}
