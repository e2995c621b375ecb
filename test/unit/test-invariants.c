/* SPDX-License-Identifier: MIT */
/* test-invariants: the validity walkers see real structures as valid and
   report each kind of breakage (linked with the MI_DEBUG=3 variant, so every
   state change of this run is also checked by the library itself).

   1. Build: a heap with small, medium, large and huge pages, a page with
      blocks on all three free lists (another thread frees some), a full
      page with a block on the heap's delayed-free list, an arena of its
      own, and a segment that an exited thread abandoned.
   2. Every walker says valid: _mi_page_is_valid, _mi_segment_is_valid,
      _mi_heap_is_valid, _mi_arena_is_valid (quiescent: one thread runs).
   3. One field at a time is broken (a count, a link, a list head, a flag, a
      slice_map bit, a mask, a bitmap bit, ...): the walker returns false,
      with one EFAULT error whose message names the equation; the field is
      restored and the walker says valid again. Messages go to an output
      handler and errors to an error handler, so nothing here aborts; the
      fields are restored before anything else can allocate.
   4. The library runs the walkers itself: a forked child breaks `used` and
      collects the heap; it must die on the assertion that names the walker. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mica.h"
#include "mica/internal.h"
#include "test.h"
#include "api/output-capture.h"

#if MI_DEBUG < 1
#error "test-invariants needs the walkers of a debug build: compile it (and the library) with MI_DEBUG=3"
#endif

/* A free block's link word, read and written as mica does (bracketed: a
   MI_TRACK_ASAN build poisons free blocks) */
static mi_encoded_t link_of(const mi_block_t* b) { return mi_block_link_peek(b); }
static void link_set(mi_block_t* b, mi_encoded_t link) {
  mi_track_mem_undefined(b, sizeof(*b));
  b->next = link;
  mi_track_mem_noaccess(b, sizeof(*b));
}

static long efault_count;
static void on_error(int err, void* arg) {
  (void)arg;
  if (err == EFAULT) efault_count++;
}

static void reset_messages(void) {
  efault_count = 0;
  out_len = 0;
  out_buf[0] = 0;
}

/* `valid` is what the walker said while the field was broken (restored by
   now): false, one EFAULT error, and a message that contains `needle`. */
static void expect_broken(const char* what, bool valid, const char* needle) {
  CHECKF(!valid, "%s: the walker did not notice", what);
  CHECKF(efault_count == 1, "%s: %ld errors reported (1 expected)", what, efault_count);
  CHECKF(strstr(out_buf, needle) != NULL, "%s: the message does not name \"%s\": %s", what, needle, out_buf);
  reset_messages();
}

static void expect_valid(const char* what, bool valid) {
  CHECKF(valid && efault_count == 0, "%s: not valid: %s", what, out_buf);
  reset_messages();
}

/* Break a field (`breakit`), ask `walker`, restore the field (`restore`)
   before anything else runs, then expect the report that names `needle`. */
#define BROKEN(what, needle, walker, breakit, restore) \
  do { breakit; const bool valid_ = (walker); restore; expect_broken(what, valid_, needle); } while (0)

/* ---- threads -------------------------------------------------------------- */
typedef struct free_job_s { void** blocks; size_t count; } free_job_t;

static void* free_all(void* arg) {
  free_job_t* job = (free_job_t*)arg;
  for (size_t i = 0; i < job->count; i++) mi_free(job->blocks[i]);
  return NULL;
}

/* Free `count` blocks from another thread (cross-thread frees). */
static void free_in_thread(void** blocks, size_t count) {
  free_job_t job = { blocks, count };
  pthread_t t;
  if (pthread_create(&t, NULL, free_all, &job) != 0) { CHECKF(false, "pthread_create failed"); return; }
  pthread_join(t, NULL);
}

#define LEFT_COUNT 64
static void* left_blocks[LEFT_COUNT];
static void* allocate_and_exit(void* arg) {
  (void)arg;
  for (size_t i = 0; i < LEFT_COUNT; i++) left_blocks[i] = mi_malloc(72);
  return NULL;   /* exits with the blocks live: its segment is abandoned */
}

/* ---- other threads' frees: counted, not walked ---------------------------- */
static size_t list_length(const mi_page_t* page, const mi_block_t* b) {
  size_t n = 0;
  for (; b != NULL && n <= page->capacity; b = mi_block_next(page, b)) n++;
  return n;
}

/* Blocks freed by another thread are counted by their pushers
   (xthread_freed); a collect subtracts the count from `used` and takes the
   list whole. A count that arrives after its block was taken (the pusher
   was descheduled between push and count) keeps `used` one too high, valid
   as such, until the next collect takes it, though no block is on
   thread_free then. */
static void test_thread_free_counts(mi_heap_t* heap) {
  enum { C = 32 };
  void* b[C];
  for (size_t i = 0; i < C; i++) b[i] = mi_heap_malloc(heap, 200);
  mi_page_t* page = _mi_ptr_page(b[0]);
  CHECK(_mi_ptr_page(b[C - 1]) == page);
  _mi_page_free_collect(page, true);   /* nothing from other threads yet */
  const size_t used = page->used;
  const size_t before = list_length(page, page->local_free);

  free_in_thread(&b[0], C / 2);
  CHECKF(mi_atomic_load_relaxed(&page->xthread_freed) == C / 2 && list_length(page, mi_page_thread_free(page)) == C / 2 &&
         page->used == used, "after %d frees by another thread: counted %u, listed %zu, used %u (was %zu)",
         C / 2, (unsigned)mi_atomic_load_relaxed(&page->xthread_freed), list_length(page, mi_page_thread_free(page)),
         (unsigned)page->used, used);
  expect_valid("page with counted thread frees", _mi_page_is_valid(page));
  _mi_page_free_collect(page, false);
  CHECKF(page->used == used - C / 2 && mi_atomic_load_relaxed(&page->xthread_freed) == 0 && mi_page_thread_free(page) == NULL &&
         list_length(page, page->local_free) + list_length(page, mi_page_free_first(page)) >= before + C / 2,
         "collected: used %u (want %zu), count left %u", (unsigned)page->used, used - C / 2,
         (unsigned)mi_atomic_load_relaxed(&page->xthread_freed));
  expect_valid("page after a collect", _mi_page_is_valid(page));

  /* the late count: the owner takes the list before the pusher's count */
  free_in_thread(&b[C / 2], 1);
  mi_atomic_exchange_acq_rel(&page->xthread_freed, 0);        /* the count not there yet */
  _mi_page_free_collect(page, false);                         /* takes the block, counts 0 */
  mi_atomic_fetch_add_acq_rel(&page->xthread_freed, 1);       /* the count arrives */
  CHECKF(page->used == used - C / 2 && mi_page_thread_free(page) == NULL && mi_page_has_thread_freed(page),
         "late count: used %u (want %zu, one too high), thread_free %p", (unsigned)page->used, used - C / 2, (void*)mi_page_thread_free(page));
  expect_valid("page with a late count", _mi_page_is_valid(page));
  _mi_page_free_collect(page, false);                         /* no list, but a count: taken */
  CHECKF(page->used == used - C / 2 - 1 && !mi_page_has_thread_freed(page),
         "the late count collected: used %u (want %zu)", (unsigned)page->used, used - C / 2 - 1);
  expect_valid("page after the late count", _mi_page_is_valid(page));
  for (size_t i = C / 2 + 1; i < C; i++) mi_free(b[i]);
}

/* ---- pages ----------------------------------------------------------------- */
static void test_page(mi_heap_t* heap, mi_page_t* page) {
  expect_valid("page with three lists", _mi_page_is_valid(page));
  if (mi_page_free_is_empty(page) || mi_block_next(page, page->free) == NULL || page->local_free == NULL || mi_page_thread_free(page) == NULL) {
    CHECKF(false, "the page lacks blocks on all three lists (free %p, local %p, thread %p)",
           (void*)page->free, (void*)page->local_free, (void*)mi_page_thread_free(page));
    return;
  }

  /* used one too high: no count on its way covers it (the walker waits
     200 ms for counts of pushers between push and count); one too low:
     a block in use would not be counted */
  BROKEN("used + 1", "used <= capacity - |free| - |local_free| + xthread_freed - |thread_free|", _mi_page_is_valid(page),
         page->used++, page->used--);
  BROKEN("used - 1", "used >= capacity - |free| - |local_free|", _mi_page_is_valid(page),
         page->used--, page->used++);
  /* a count for a block that is on no list: the owner would subtract it
     and free the page with a block in use */
  BROKEN("xthread_freed + 1", "xthread_freed <= |thread_free| + used", _mi_page_is_valid(page),
         mi_atomic_fetch_add_acq_rel(&page->xthread_freed, 1), mi_atomic_fetch_sub_relaxed(&page->xthread_freed, 1));

  const uint16_t capacity = page->capacity;
  BROKEN("capacity > reserved", "capacity <= reserved", _mi_page_is_valid(page),
         page->capacity = (uint16_t)(page->reserved + 1), page->capacity = capacity);

  /* a block on two lists: local_free starts at free's head */
  mi_block_t* const local = page->local_free;
  BROKEN("block on free and local_free", "on two free lists", _mi_page_is_valid(page),
         page->local_free = page->free, page->local_free = local);

  /* a block on the thread-free list that is also on free (the delayed bits kept) */
  const uintptr_t tfree = mi_atomic_load_relaxed(&page->xthread_free);
  BROKEN("block on free and thread_free", "on two free lists", _mi_page_is_valid(page),
         mi_atomic_store_relaxed(&page->xthread_free, mi_tf_set_block(tfree, page->free)), mi_atomic_store_relaxed(&page->xthread_free, tfree));

  /* a block linked twice: the second block of free points back at the first */
  mi_block_t* const first = page->free;
  mi_block_t* const second = mi_block_next(page, first);
  const mi_encoded_t link = link_of(second);
  BROKEN("cycle on free", "on two free lists", _mi_page_is_valid(page),
         mi_block_set_next(page, second, first), link_set(second, link));

  /* a list that ends in NULL, not at the list end (mi_list_end): a double
     free of its last block would look live to the free fast path */
  mi_block_t* tail = page->local_free;
  while (mi_block_next(page, tail) != NULL) tail = mi_block_next(page, tail);
  const mi_encoded_t tail_link = link_of(tail);
  BROKEN("local_free ends in NULL", "links to the list end", _mi_page_is_valid(page),
         link_set(tail, mi_link_encode_raw(page, NULL)), link_set(tail, tail_link));
  mi_block_t* const free_head = page->free;
  BROKEN("free NULL with blocks carved", "free != NULL once blocks are carved", _mi_page_is_valid(page),
         page->free = NULL, page->free = free_head);

  /* a link that leaves the page */
  const mi_encoded_t link1 = link_of(first);
  BROKEN("link outside the page", "outside the carved area", _mi_page_is_valid(page),
         mi_block_set_next(page, first, (const mi_block_t*)((uint8_t*)_mi_page_segment(page) + MI_SEGMENT_SIZE + 64)), link_set(first, link1));

  /* a link into the page, between two blocks */
  BROKEN("link off a block boundary", "not at a block boundary", _mi_page_is_valid(page),
         mi_block_set_next(page, first, (const mi_block_t*)((uint8_t*)second + 8)), link_set(first, link1));

  /* the flag says full, the page is in its bin's queue */
  BROKEN("MI_PAGE_IN_FULL outside the full queue", "linked in the queue", _mi_page_is_valid(page),
         mi_page_set_in_full(page, true), mi_page_set_in_full(page, false));

  /* the fast path's pointer skips the first page of the bin */
  mi_page_queue_t* pq = _mi_page_queue_in(heap, page);
  if (pq->first == page && pq->block_size <= MI_SMALL_SIZE_MAX) {
    const size_t g = pq->block_size >> MI_DIRECT_SHIFT;
    mi_page_t* direct = heap->pages_free_direct[g];
    heap->pages_free_direct[g] = (mi_page_t*)&_mi_page_empty;
    const bool v = _mi_page_is_valid(page);
    const bool vh = _mi_heap_is_valid(heap);
    heap->pages_free_direct[g] = direct;
    CHECK(!vh);
    efault_count--;   /* the heap's report counted too */
    expect_broken("pages_free_direct", v, "pages_free_direct");
  } else {
    CHECKF(false, "the page is not the first of its small bin");
  }
  expect_valid("page restored", _mi_page_is_valid(page));
}

/* ---- segments --------------------------------------------------------------- */
static void test_segment_small(mi_segment_t* segment, mi_page_t* page) {
  expect_valid("small segment", _mi_segment_is_valid(segment));

  BROKEN("segment used + 1", "used == pages in use", _mi_segment_is_valid(segment),
         segment->used++, segment->used--);

  const uintptr_t purge = segment->purge_mask;
  const uint32_t expire = segment->purge_expire;
  BROKEN("purge mask names a page in use", "names free units only", _mi_segment_is_valid(segment),
         (segment->purge_mask |= (uintptr_t)1 << page->segment_idx, segment->purge_expire = 1),
         (segment->purge_mask = purge, segment->purge_expire = expire));

  const uintptr_t commit = segment->commit_mask;
  BROKEN("commit mask lacks a page in use", "commit_mask", _mi_segment_is_valid(segment),
         segment->commit_mask &= ~((uintptr_t)1 << page->segment_idx), segment->commit_mask = commit);

  /* the free fast path's one test: a stale id would let a free skip the
     full and aligned checks, or send the owner's frees to the slow path */
  const uintptr_t fast_tid = mi_atomic_load_relaxed(&page->xfast_tid);
  BROKEN("xfast_tid 0 on a page the owner may free into fast", "xfast_tid == (xflags == 0 ? xthread_id : 0)", _mi_segment_is_valid(segment),
         mi_atomic_store_relaxed(&page->xfast_tid, 0), mi_atomic_store_relaxed(&page->xfast_tid, fast_tid));
  const uint8_t flags = mi_atomic_load_relaxed(&page->xflags);
  BROKEN("MI_PAGE_IN_FULL set, xfast_tid kept", "xfast_tid == (xflags == 0 ? xthread_id : 0)", _mi_segment_is_valid(segment),
         mi_atomic_store_relaxed(&page->xflags, (uint8_t)(flags | MI_PAGE_IN_FULL)), mi_atomic_store_relaxed(&page->xflags, flags));

  /* a wrong tag: the free fast path would let a double free through */
  const uintptr_t link_tag = segment->link_tag;
  BROKEN("link_tag", "link_tag", _mi_segment_is_valid(segment),
         segment->link_tag ^= 1, segment->link_tag = link_tag);

  const uintptr_t cookie = segment->cookie;
  BROKEN("cookie", "cookie", _mi_segment_is_valid(segment),
         segment->cookie ^= 0x10, segment->cookie = cookie);

  /* a free page descriptor that still has a list */
  mi_page_t* unused = NULL;
  for (size_t i = 1; i < segment->capacity && unused == NULL; i++) {   /* slice 0 is the header's */
    if (!segment->pages[i].segment_in_use && segment->pages[i].slice_offset == 0) unused = &segment->pages[i];
  }
  if (unused != NULL) {
    BROKEN("free descriptor with a list", "has no blocks, lists, heap or links", _mi_segment_is_valid(segment),
           unused->free = page->free, unused->free = NULL);
  }
  expect_valid("small segment restored", _mi_segment_is_valid(segment));
}

static void test_segment_large(mi_segment_t* segment, mi_page_t* page) {
  expect_valid("large segment", _mi_segment_is_valid(segment));
  expect_valid("large page", _mi_page_is_valid(page));
  CHECK(segment->page_kind == MI_PAGE_SLICED && page->slice_count >= 2);
  const size_t idx = page->segment_idx;

  /* a slice of the span is missing from slice_map */
  const uintptr_t map = segment->slice_map;
  BROKEN("slice_map bit cleared", "has its bits set in slice_map", _mi_segment_is_valid(segment),
         segment->slice_map &= ~((uintptr_t)1 << (idx + 1)), segment->slice_map = map);

  /* a stray bit beyond the spans */
  const size_t n = page->xblock_size / MI_SLICE_SIZE;
  if (idx + n < MI_SLICES_PER_SEGMENT && ((map >> (idx + n)) & 1) == 0) {
    BROKEN("slice_map bit set on a free slice", "slice_map == bit 0 | the spans", _mi_segment_is_valid(segment),
           segment->slice_map |= (uintptr_t)1 << (idx + n), segment->slice_map = map);
  }

  /* a continuation slice that points elsewhere */
  mi_page_t* cont = &segment->pages[idx + 1];
  const uint8_t offset = cont->slice_offset;
  BROKEN("continuation slice_offset", "continuation slice", _mi_segment_is_valid(segment),
         cont->slice_offset = 2, cont->slice_offset = offset);

  /* a span that runs past the end of the segment */
  const uint8_t count = page->slice_count;
  BROKEN("span past the end", "span at slice", _mi_segment_is_valid(segment),
         page->slice_count = (uint8_t)MI_SLICES_PER_SEGMENT, page->slice_count = count);
  expect_valid("large segment restored", _mi_segment_is_valid(segment));
}

static void test_segment_abandoned(mi_segment_t* segment) {
  if (segment->tld != NULL) return;   /* reclaimed meanwhile: nothing abandoned to look at */
  expect_valid("abandoned segment", _mi_segment_is_valid(segment));
  for (size_t i = 0; i < segment->capacity; i++) {
    if (segment->pages[i].segment_in_use) expect_valid("abandoned page", _mi_page_is_valid(&segment->pages[i]));
  }
  const uintptr_t tid = mi_atomic_load_relaxed(&segment->xthread_id);
  BROKEN("abandoned segment with an owner id", "abandoned (tld == NULL)", _mi_segment_is_valid(segment),
         mi_atomic_store_relaxed(&segment->xthread_id, (uintptr_t)1), mi_atomic_store_relaxed(&segment->xthread_id, tid));

  BROKEN("abandoned segment with a page not abandoned", "abandoned == used", _mi_segment_is_valid(segment),
         segment->abandoned--, segment->abandoned++);
}

/* ---- heaps ------------------------------------------------------------------ */
static void test_heap(mi_heap_t* heap, mi_page_t* full_page) {
  expect_valid("heap", _mi_heap_is_valid(heap));

  BROKEN("page_count + 1", "page_count == the pages in its queues", _mi_heap_is_valid(heap),
         heap->page_count++, heap->page_count--);

  BROKEN("page_count - 1", "page_count == the pages in its queues", _mi_heap_is_valid(heap),
         heap->page_count--, heap->page_count++);

  const size_t bin = _mi_bin(100);
  BROKEN("queue block_size", "block_size ==", _mi_heap_is_valid(heap),
         heap->pages[bin].block_size += 8, heap->pages[bin].block_size -= 8);

  /* the full page's block on the delayed-free list goes missing */
  CHECK(mi_page_is_full(full_page) && mi_tf_delayed(mi_atomic_load_relaxed(&full_page->xthread_free)) == MI_NO_DELAYED_FREE);
  const uintptr_t delayed = mi_atomic_load_relaxed(&heap->xthread_delayed_free);
  CHECK(delayed != 0);
  BROKEN("delayed block missing", "has a block on the delayed-free list", _mi_heap_is_valid(heap),
         mi_atomic_store_relaxed(&heap->xthread_delayed_free, 0), mi_atomic_store_relaxed(&heap->xthread_delayed_free, delayed));
  /* the page no longer names it */
  const uintptr_t named = mi_atomic_load_relaxed(&full_page->xdelayed_block);
  CHECK(named != 0 && _mi_ptr_page((void*)named) == full_page);
  BROKEN("delayed block unnamed", "names a block of its own in xdelayed_block", _mi_heap_is_valid(heap),
         mi_atomic_store_relaxed(&full_page->xdelayed_block, 0), mi_atomic_store_relaxed(&full_page->xdelayed_block, named));

  /* a block of another heap's page on the delayed-free list */
  void* other = mi_malloc(100);
  mi_block_t* b = (mi_block_t*)other;
  mi_block_set_next(_mi_ptr_page(b), b, (const mi_block_t*)delayed);
  BROKEN("foreign delayed block", "a page of this heap", _mi_heap_is_valid(heap),
         mi_atomic_store_relaxed(&heap->xthread_delayed_free, (uintptr_t)b), mi_atomic_store_relaxed(&heap->xthread_delayed_free, delayed));
  link_set(b, 0);   /* live again: no link */
  mi_free(other);
  expect_valid("heap restored", _mi_heap_is_valid(heap));
}

/* ---- arenas ------------------------------------------------------------------ */
static void test_arena(mi_heap_t* arena_heap, mi_arena_id_t id) {
  void* p = mi_heap_malloc(arena_heap, 1000);
  CHECK(p != NULL);
  if (p == NULL) return;
  mi_segment_t* segment = _mi_ptr_segment(p);
  CHECK(segment->memid.arena_idx == (uint32_t)id);   /* the region is one descriptor */
  const size_t idx = (size_t)id - 1;
  mi_arena_t* arena = _mi_arena_at(idx);
  const size_t unit = segment->memid.block_idx;
  expect_valid("arena", _mi_arena_is_valid(idx, true));
  expect_valid("arena range", _mi_arena_range_is_valid(segment, segment->segment_size, &segment->memid));
  expect_valid("segment in the arena", _mi_segment_is_valid(segment));
  CHECK(arena->unit_count < MI_ARENA_MAP_WORDS * MI_INTPTR_BITS);

  /* a unit to purge that is in use: only a quiescent check may say so */
  _mi_bitmap_set(arena->xpurge, unit, 1);
  const bool moving = _mi_arena_is_valid(idx, false);
  const bool v = _mi_arena_is_valid(idx, true);
  const bool vr = _mi_arena_range_is_valid(segment, segment->segment_size, &segment->memid);
  _mi_bitmap_clear(arena->xpurge, unit, 1);
  CHECK(moving && !vr);
  efault_count--;   /* the range's report */
  expect_broken("purge bit on a unit in use", v, "(purge | freed) & in_use == 0");

  /* the same with this round's map, and a free unit in both maps */
  BROKEN("freed bit on a unit in use", "(purge | freed) & in_use == 0", _mi_arena_is_valid(idx, true),
         _mi_bitmap_set(arena->xfreed, unit, 1), _mi_bitmap_clear(arena->xfreed, unit, 1));

  /* a unit beyond the reservation that is not claimed */
  BROKEN("unit beyond unit_count free", "units >= unit_count", _mi_arena_is_valid(idx, false),
         _mi_bitmap_clear(arena->xin_use, arena->unit_count, 1), _mi_bitmap_set(arena->xin_use, arena->unit_count, 1));

  /* a claimed unit that says it is clean */
  BROKEN("claimed unit not dirty", "claimed units", _mi_arena_range_is_valid(segment, segment->segment_size, &segment->memid),
         _mi_bitmap_clear(arena->xdirty, unit, 1), _mi_bitmap_set(arena->xdirty, unit, 1));

  /* the segment's memid no longer matches the arena */
  BROKEN("segment memid", "of it, pinned as it is", _mi_segment_is_valid(segment),
         segment->memid.block_idx++, segment->memid.block_idx--);

  /* a free unit to purge, with no deadline */
  size_t free_unit = arena->unit_count;
  for (size_t u = 0; u < arena->unit_count; u++) {
    if (!_mi_bitmap_is_any_set(arena->xin_use, u, 1)) { free_unit = u; break; }
  }
  CHECK(free_unit < arena->unit_count && mi_atomic_load_relaxed(&arena->xpurge_expire) == 0);
  if (free_unit < arena->unit_count && mi_atomic_load_relaxed(&arena->xpurge_expire) == 0) {
    const bool dirty = _mi_bitmap_is_any_set(arena->xdirty, free_unit, 1);
    BROKEN("purge without a deadline", "xpurge_expire != 0", _mi_arena_is_valid(idx, true),
           (_mi_bitmap_set(arena->xdirty, free_unit, 1), _mi_bitmap_set(arena->xpurge, free_unit, 1)),
           { _mi_bitmap_clear(arena->xpurge, free_unit, 1); if (!dirty) _mi_bitmap_clear(arena->xdirty, free_unit, 1); });
  }
  if (free_unit < arena->unit_count && mi_atomic_load_relaxed(&arena->xpurge_expire) == 0) {
    const bool dirty = _mi_bitmap_is_any_set(arena->xdirty, free_unit, 1);
    mi_atomic_store_relaxed(&arena->xpurge_expire, 1);
    BROKEN("free unit due and freed this round", "purge & freed == 0", _mi_arena_is_valid(idx, true),
           (_mi_bitmap_set(arena->xdirty, free_unit, 1), _mi_bitmap_set(arena->xpurge, free_unit, 1), _mi_bitmap_set(arena->xfreed, free_unit, 1)),
           { _mi_bitmap_clear(arena->xpurge, free_unit, 1); _mi_bitmap_clear(arena->xfreed, free_unit, 1);
             if (!dirty) _mi_bitmap_clear(arena->xdirty, free_unit, 1); });
    mi_atomic_store_relaxed(&arena->xpurge_expire, 0);
  }
  expect_valid("arena restored", _mi_arena_is_valid(idx, true));
  mi_free(p);
}

/* ---- the library's own check ------------------------------------------------ */
static void test_assertion(mi_heap_t* heap, mi_page_t* page) {
  int fds[2];
  if (pipe(fds) != 0) { CHECKF(false, "pipe failed"); return; }
  fflush(stdout);
  fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) { CHECKF(false, "fork failed"); close(fds[0]); close(fds[1]); return; }
  if (pid == 0) {
    output_release();   /* mica's messages to stderr, which is the pipe */
    dup2(fds[1], 2);
    page->used++;
    mi_heap_collect(heap, false);   /* ends with mi_assert_expensive(_mi_heap_is_valid(heap)) */
    _exit(0);
  }
  close(fds[1]);
  char msg[4096];
  size_t len = 0;
  ssize_t n;
  while (len + 1 < sizeof(msg) && (n = read(fds[0], msg + len, sizeof(msg) - 1 - len)) > 0) len += (size_t)n;
  msg[len] = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECKF(WIFSIGNALED(status), "the child was not stopped by the assertion (status %#x): %s", status, msg);
  CHECKF(strstr(msg, "used <= capacity - |free| - |local_free|") != NULL && strstr(msg, "assertion failed") != NULL &&
         strstr(msg, "_mi_heap_is_valid(heap)") != NULL, "the child's messages do not name the walker: %s", msg);
}

int main(void) {
  mi_register_error(on_error, NULL);
  mi_option_set(mi_option_max_errors, 1000000);
  mi_option_set(mi_option_purge_delay, 1000000);   /* no purge runs while fields are broken */
  output_capture();

  /* a heap of our own (it reclaims nothing) */
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return test_report();

  /* an exited thread leaves a segment behind (after this thread has a
     segment with free pages of its own, so it does not reclaim that one) */
  pthread_t t;
  CHECK(pthread_create(&t, NULL, allocate_and_exit, NULL) == 0);
  pthread_join(t, NULL);

  /* one page with blocks on free, local_free and thread_free (local_free
     holds the blocks collected from other threads' frees): 48-byte
     blocks are carved 4 KiB at a time, so 64 leave room on free (a
     request of 48 less the debug padding, which the block holds too) */
  enum { N = 64 };
  void* small[N];
  for (size_t i = 0; i < N; i++) small[i] = mi_heap_malloc(heap, 48 - MI_PADDING_SIZE);
  mi_page_t* page = _mi_ptr_page(small[0]);
  CHECK(_mi_ptr_page(small[N - 1]) == page);
  free_in_thread(&small[0], N / 4);      /* collected below into local_free (free is not empty) */
  _mi_page_free_collect(page, false);
  free_in_thread(&small[N / 4], N / 4);                              /* thread_free */

  /* one page of each other kind (before the full page: the generic path
     would take its delayed free) */
  void* medium = mi_heap_malloc(heap, 40 * 1024);
  void* large = mi_heap_malloc(heap, 300 * 1024);
  void* huge = mi_heap_malloc(heap, 5 * 1024 * 1024);
  CHECK(medium != NULL && large != NULL && huge != NULL);

  /* a full page: 1 KiB blocks fill a page, then the next one moves it to
     the full queue; a free from another thread reaches the heap's
     delayed-free list */
  enum { F = 200 };
  void* full[F];
  for (size_t i = 0; i < F; i++) full[i] = mi_heap_malloc(heap, 1024);
  mi_page_t* full_page = _mi_ptr_page(full[0]);
  CHECK(mi_page_is_full(full_page));
  free_in_thread(&full[0], 1);

  /* everything is valid as built */
  expect_valid("heap as built", _mi_heap_is_valid(heap));
  expect_valid("default heap", _mi_heap_is_valid(mi_heap_get_default()));
  expect_valid("medium page", _mi_page_is_valid(_mi_ptr_page(medium)));
  expect_valid("huge page", _mi_page_is_valid(_mi_ptr_page(huge)));
  expect_valid("huge segment", _mi_segment_is_valid(_mi_ptr_segment(huge)));
  expect_valid("medium segment", _mi_segment_is_valid(_mi_ptr_segment(medium)));
  for (size_t i = 0; i < _mi_arena_count(); i++) expect_valid("arena", _mi_arena_is_valid(i, true));

  test_page(heap, page);
  mi_heap_t* counts_heap = mi_heap_new();   /* its own: the generic path would take the full page's delayed free */
  CHECK(counts_heap != NULL);
  if (counts_heap != NULL) { test_thread_free_counts(counts_heap); mi_heap_delete(counts_heap); }
  test_segment_small(_mi_page_segment(page), page);
  test_segment_large(_mi_ptr_segment(large), _mi_ptr_page(large));
  test_segment_abandoned(_mi_ptr_segment(left_blocks[0]));
  test_heap(heap, full_page);
  test_assertion(heap, page);

  /* an arena of our own, exclusive: 32 MiB leaves bitmap bits beyond it
     (8 units of 4 MiB on 64-bit, 16 of 2 MiB on 32-bit) */
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(32 * 1024 * 1024, true, false, true, &id) == 0);
  mi_heap_t* arena_heap = (id != 0 ? mi_heap_new_in_arena(id) : NULL);
  if (arena_heap != NULL) {
    test_arena(arena_heap, id);
    mi_heap_delete(arena_heap);
  }

  /* take it all down (the library checks each step at MI_DEBUG=3) */
  for (size_t i = N / 2; i < N; i++) mi_free(small[i]);
  for (size_t i = 1; i < F; i++) mi_free(full[i]);
  mi_free(medium);
  mi_free(large);
  mi_heap_collect(heap, true);
  expect_valid("heap after frees", _mi_heap_is_valid(heap));
  mi_free(huge);
  mi_heap_destroy(heap);
  for (size_t i = 0; i < LEFT_COUNT; i++) mi_free(left_blocks[i]);
  mi_collect(true);
  expect_valid("default heap at the end", _mi_heap_is_valid(mi_heap_get_default()));
  for (size_t i = 0; i < _mi_arena_count(); i++) expect_valid("arena at the end", _mi_arena_is_valid(i, true));
  output_release();
  return test_report();
}
