/* Segments: MI_SEGMENT_SIZE-aligned memory split into pages, their
   allocation from arenas, delayed purging of free pages, and abandoning
   (thread exit) / reclaiming (another thread takes over).

   A small or medium segment whose owner is alive is in its tld's free queue
   exactly when it has a free page. The abandoned list holds segments whose
   owner exited with pages still in use; it is protected by MI_LOCK_ABANDONED,
   and a segment is on it exactly when its thread_id is 0. */
#include "mica/internal.h"

#define MI_SEGMENT_INFO_ALIGN  4096   /* page 0 starts 4 KiB aligned: power-of-two blocks up to 4 KiB are naturally aligned */

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld);

/* A FIFO: reclaiming takes the oldest segments, which other threads' frees
   have most likely emptied meanwhile; so every segment is visited in turn. */
static mi_segment_t* mi_abandoned_first;   /* under MI_LOCK_ABANDONED */
static mi_segment_t* mi_abandoned_last;    /* under MI_LOCK_ABANDONED */
static mi_atomic(uintptr_t) mi_abandoned_count;   /* written under MI_LOCK_ABANDONED; read without it to peek */

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
  return x;
}

static mi_segment_t* mi_segment_alloc(size_t required, size_t page_alignment, mi_page_kind_t kind, mi_tld_t* tld) {
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
    segment = (mi_segment_t*)mi_segment_alloc_huge_aligned(segment_size, page_alignment, &memid);
  } else {
    segment = (mi_segment_t*)_mi_arena_alloc_segment(segment_size, &memid);
  }
  if (segment == NULL) return NULL;
  mi_assert_internal(((uintptr_t)segment & MI_SEGMENT_MASK) == 0);

  /* the memory may have been a freed block a checker marks inaccessible */
  mi_track_mem_defined(segment, segment_size);
  memset((void*)segment, 0, (info_size < MI_SEGMENT_SIZE ? info_size : sizeof(mi_segment_t)));
  segment->memid = memid;
  segment->segment_size = segment_size;
  segment->segment_info_size = info_size;
  segment->cookie = (uintptr_t)segment ^ _mi_process_cookie;
  segment->capacity = capacity;
  segment->page_shift = page_shift;
  segment->page_kind = kind;
  segment->tld = tld;
  segment->slice_map = (kind == MI_PAGE_LARGE ? 1 : 0);   /* slice 0 holds the header */
  for (size_t i = 0; i < capacity; i++) {
    segment->pages[i].segment_idx = (uint8_t)i;
    segment->pages[i].is_zero_init = memid.is_zero;
    mi_page_set_flag(&segment->pages[i], MI_PAGE_UNUSED, true);
  }
  mi_atomic_store_release(&segment->thread_id, _mi_thread_id());
  _mi_segment_map_allocated_at(segment);
  tld->segment_count++;
  _mi_stat_increase(&_mi_stats.segments, 1);
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
  _mi_stat_decrease(&_mi_stats.segments, 1);
  const mi_memid_t memid = segment->memid;
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
  if (!force && !_mi_clock_expired(segment->purge_expire, now)) return;
  const uint32_t delay = (uint32_t)mi_option_get(mi_option_purge_delay);
  const bool round_is_old = force || _mi_clock_expired(segment->purge_last + delay, now);
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
  const long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0 && !force) return;
  if (delay == 0 || force) {
    for (size_t i = idx; i < idx + count; i++) mi_segment_unit_purge(segment, i);
    return;
  }
  const uint32_t now = _mi_clock_now();
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
  const uint32_t now = _mi_clock_now();
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
  _mi_stat_increase(&_mi_stats.pages, 1);
}

static mi_page_t* mi_segment_page_claim(mi_segment_t* segment, mi_page_t* page, mi_tld_t* tld) {
  mi_assert_internal(!page->segment_in_use);
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
  _mi_stat_decrease(&_mi_stats.pages, 1);
  *unit_idx = idx;
  *unit_count = count;
}

void _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  size_t unit_idx, unit_count;
  mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
  if (segment->used == 0 && segment->page_kind != MI_PAGE_LARGE) {
    mi_segment_free(segment, tld);
    return;
  }
  mi_segment_schedule_purge(segment, unit_idx, unit_count, force);
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

static mi_page_t* mi_segment_small_page_alloc(mi_heap_t* heap, mi_page_kind_t kind, mi_tld_t* tld) {
  mi_segment_queue_t* queue = (kind == MI_PAGE_SMALL ? &tld->small_free : &tld->medium_free);
  if (queue->first == NULL && !heap->no_reclaim) {
    _mi_segment_try_reclaim_abandoned(heap, false, tld);
  }
  mi_segment_t* segment = queue->first;
  if (segment == NULL) {
    segment = mi_segment_alloc(0, 0, kind, tld);
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
      if (mi_segment_find_span(segment, count, &idx, &len) && (best == NULL || len < best_len)) {
        best = segment; best_idx = idx; best_len = len;
        if (len == count) break;
      }
    }
    if (best != NULL) return mi_segment_span_claim(best, best_idx, count, tld);
    if (attempt > 0 || heap->no_reclaim || !_mi_segment_try_reclaim_abandoned(heap, false, tld)) break;
  }
  mi_segment_t* segment = mi_segment_alloc(0, 0, MI_PAGE_LARGE, tld);
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
    mi_segment_t* segment = mi_segment_alloc(block_size, page_alignment, MI_PAGE_HUGE, tld);
    return (segment == NULL ? NULL : mi_segment_page_claim(segment, &segment->pages[0], tld));
  }
  if (block_size > MI_MEDIUM_OBJ_SIZE_MAX) return mi_segment_large_page_alloc(heap, block_size, tld);
  return mi_segment_small_page_alloc(heap, (block_size > MI_SMALL_OBJ_SIZE_MAX ? MI_PAGE_MEDIUM : MI_PAGE_SMALL), tld);
}

/* ---------------------------------------------------------------------------
   Abandon and reclaim
--------------------------------------------------------------------------- */
static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld) {
  mi_assert_internal(segment->used == segment->abandoned && segment->used > 0);
  mi_segment_queue_t* queue = mi_segment_free_queue(segment, tld);
  if (queue != NULL) mi_segment_queue_remove(queue, segment);
  mi_segment_purge_pages(segment, true, 0);   /* nobody would purge them later */
  tld->segment_count--;
  segment->tld = NULL;
  _mi_prim_lock(MI_LOCK_ABANDONED);
  segment->next = NULL;
  segment->prev = mi_abandoned_last;
  if (mi_abandoned_last != NULL) mi_abandoned_last->next = segment;
  else mi_abandoned_first = segment;
  mi_abandoned_last = segment;
  mi_atomic_store_relaxed(&mi_abandoned_count, mi_atomic_load_relaxed(&mi_abandoned_count) + 1);
  mi_atomic_store_release(&segment->thread_id, 0);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  _mi_stat_increase(&_mi_stats.abandoned, 1);
}

void _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  segment->abandoned++;
  if (segment->abandoned == segment->used) mi_segment_abandon(segment, tld);
}

/* Under MI_LOCK_ABANDONED. */
static void mi_abandoned_unlink(mi_segment_t* segment) {
  if (segment->prev != NULL) segment->prev->next = segment->next;
  else mi_abandoned_first = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  else mi_abandoned_last = segment->prev;
  segment->next = segment->prev = NULL;
  mi_atomic_store_relaxed(&mi_abandoned_count, mi_atomic_load_relaxed(&mi_abandoned_count) - 1);
}

static mi_segment_t* mi_abandoned_pop(void) {
  if (mi_atomic_load_relaxed(&mi_abandoned_count) == 0) return NULL;   /* peek; rechecked under the lock */
  _mi_prim_lock(MI_LOCK_ABANDONED);
  mi_segment_t* segment = mi_abandoned_first;
  if (segment != NULL) mi_abandoned_unlink(segment);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return segment;
}

static void mi_segment_reclaim(mi_segment_t* segment, mi_heap_t* heap, mi_tld_t* tld) {
  mi_atomic_store_release(&segment->thread_id, _mi_thread_id());
  segment->tld = tld;
  tld->segment_count++;
  _mi_stat_decrease(&_mi_stats.abandoned, 1);
  _mi_stat_increase(&_mi_stats.reclaimed, 1);
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    segment->abandoned--;
    mi_page_set_heap(page, heap);
    _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, true);
    _mi_page_free_collect(page, false);
    if (mi_page_all_free(page)) {
      size_t unit_idx, unit_count;
      mi_segment_page_clear(segment, page, &unit_idx, &unit_count);
      if (segment->used > 0) mi_segment_schedule_purge(segment, unit_idx, unit_count, false);
    } else {
      _mi_page_reclaim(heap, page);
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

/* Take over abandoned segments: a few (max_segment_reclaim), or all. */
bool _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all, mi_tld_t* tld) {
  long max = (try_all ? LONG_MAX : mi_option_get_clamp(mi_option_max_segment_reclaim, 0, 1024));
  bool any = false;
  while (max-- > 0) {
    mi_segment_t* segment = mi_abandoned_pop();
    if (segment == NULL) break;
    mi_segment_reclaim(segment, heap, tld);
    any = true;
  }
  return any;
}

/* A thread frees the only block of a huge page in an abandoned segment:
   take the segment off the list and give it back at once, instead of
   leaving it until some thread reclaims it. */
bool _mi_segment_huge_page_free_abandoned(mi_segment_t* segment) {
  _mi_prim_lock(MI_LOCK_ABANDONED);
  const bool on_list = (mi_atomic_load_acquire(&segment->thread_id) == 0);
  if (on_list) mi_abandoned_unlink(segment);
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  if (!on_list) return false;   /* reclaimed meanwhile: the caller frees the block normally */
  _mi_stat_decrease(&_mi_stats.abandoned, 1);
  _mi_stat_decrease(&_mi_stats.pages, 1);
  mi_segment_free(segment, NULL);
  return true;
}

/* Thread exit: pending purges of the thread's segments happen now. */
void _mi_segment_thread_collect(mi_tld_t* tld) {
  _mi_segments_collect(true, tld);
}

size_t _mi_segments_atomics_misaligned(void) {
  size_t bad = mi_atomic_misaligned(&mi_abandoned_count);
  bad += mi_atomic_misaligned(&_mi_segment_map[0]) + mi_atomic_misaligned(&_mi_segment_map[MI_SEGMENT_MAP_WORDS - 1]);
  _mi_prim_lock(MI_LOCK_ABANDONED);
  for (mi_segment_t* s = mi_abandoned_first; s != NULL; s = s->next) {
    bad += mi_atomic_misaligned(&s->thread_id);
    for (size_t i = 0; i < s->capacity; i++) {
      bad += mi_atomic_misaligned(&s->pages[i].xthread_free) + mi_atomic_misaligned(&s->pages[i].xheap) + mi_atomic_misaligned(&s->pages[i].xflags);
    }
  }
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  return bad;
}
