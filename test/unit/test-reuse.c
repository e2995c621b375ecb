/* SPDX-License-Identifier: MIT */
/* test-reuse: a thread that needs a page takes memory it used before (still
   resident: no page faults, no new rss) before memory it never touched.

   In a fresh thread, with purging off (so nothing freed is returned):
   1. Allocate 600 blocks of 8 KiB and write to each, and as many more as
      fill the last one's page: they fill the thread's first segment and
      spill into a second (third on 32-bit), which keeps untouched pages
      free.
   2. Free blocks 1 to 400 (pages of the first segments; block 0 keeps the
      first segment, which would otherwise go back to the arena on 32-bit
      targets, whose segments are 2 MiB), collect (empty pages go back to
      their segment), then free the last 8 blocks, so the newest segment,
      the one with untouched pages, was freed in last.
   3. Allocate 200 blocks of 8 KiB. Every one must land in a page that held
      a block in step 1 (small pages, one slice: 32 KiB on 64-bit, 64 KiB
      on 32-bit, doc/design.md): many such pages are free (their blocks
      were freed in step 2), and taking an untouched page instead
      grows the resident memory. Before segments remembered which free
      pages are resident ("Which free page is claimed" there), the newest
      segment served its untouched pages first: 178 of the 200 blocks went
      to untouched pages (160 on armhf).

   Large blocks (spans of 64 KiB slices in a large segment), in another
   fresh thread: X (12 slices) and Y (the rest but 8 slices) fill the first
   large segment, X is freed, and Z (4 slices) must go where X was, not to
   the 8 untouched slices, which a best fit alone prefers. Then, all of
   them freed, 96 blocks of 8 KiB (12 small pages) must go to slices the
   large blocks used: small pages and large blocks share sliced segments.
   When small pages had segments of their own, none of the 96 did, and
   CPython's dicts-strings workload held 5 MB of freed large spans
   resident that its small objects could not use (doc/design.md).

   Arena units (a segment each), first of all: huge blocks H1 and H2 of
   3 MiB, each its own segment; H1 is freed with purge_delay 0 (its unit is
   purged: clean), H2 with purging off (dirty, resident). H3 must take H2's
   unit, not the lower, clean one a first fit takes.

   Medium pages, in a fresh thread: a block of 64 KiB (a medium page, a
   span of a sliced segment) is freed (and its page with it, by a collect)
   and another allocated, 4 times: the
   emptied segment is kept for the thread's next medium page, so one
   segment is made in all. Freed when empty, it went back to the arena and
   a new one was made each time (bench-prodcons made 72 for 2 producers).

   Reclaimed pages, last (after a collect that takes over what the threads
   above left, so nothing else is abandoned): a thread allocates two 48-byte blocks, frees one and
   exits, so its page (with room) is abandoned with its segment. The next
   thread's first 48-byte request reclaims that segment, and must be served
   from the reclaimed page, not from a new one: when the reclaim brought
   the right page into the heap, mica went on to claim a fresh slice
   (bench-mstress's new threads touched twice mimalloc's memory).
   Then two threads leave such a segment each, and two new threads, both
   alive at once, allocate 48 bytes: the first must take over only the
   older segment, which serves it, so the second finds the other one. When
   a thread took over all it could (up to max_segment_reclaim), the second
   made a fresh segment: a pool's new threads took 19 segments on
   bench-server, against 9 now.

   Freed blocks before fresh ones, in a heap of its own: pages P1 and P2
   of 1 KiB blocks are full and P3 is being carved; 8 blocks of P1 and 1 of
   P2 are freed. Once P3's carved blocks are handed out, the next block
   must come from P2, the fullest page with a free block: not from more of
   P3 carved (fresh memory, while freed blocks wait: the search extended
   the front page first, and all 64 of P3's blocks went out before one
   freed block was taken), and not from the emptier P1, which is left to
   drain. */
#define _POSIX_C_SOURCE 200809L
#include "mica.h"
#include "mica/geometry.h"
#include "mimalloc-stats.h"
#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK  ((size_t)8 * 1024)
#define FIRST  600
#define FREED  400
#define TAIL   8
#define SECOND 200
#define PAGE   ((uintptr_t)MI_SMALL_PAGE_SIZE)

#define FIRST_MAX (FIRST + MI_MEDIUM_PAGE_SIZE / BLOCK)
static void* first[FIRST_MAX];
static size_t first_count;   /* FIRST, and the rest of the last one's page */
static void* second[SECOND];

/* the area (page) of the default heap that holds `p` */
typedef struct area_find_s { const void* p; mi_heap_area_t area; bool found; } area_find_t;
static bool area_of(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg)
{
  (void)heap; (void)block; (void)size;
  area_find_t* f = (area_find_t*)arg;
  if ((const uint8_t*)f->p >= (const uint8_t*)area->blocks && (const uint8_t*)f->p < (const uint8_t*)area->blocks + area->reserved) {
    f->area = *area;
    f->found = true;
    return false;
  }
  return true;
}

static int cmp_page(const void* a, const void* b)
{
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x > y) - (x < y);
}

static void* worker(void* arg)
{
  (void)arg;
  /* FIRST blocks, and as many more as fill the last one's page: how many
     blocks a page holds depends on the build (padding, a heap's smaller
     first page of a medium size), and the room a page has left is carved
     before a freed page is taken, rightly, but untouched */
  size_t extra = 0;
  for (first_count = 0; first_count < FIRST + extra; first_count++) {
    first[first_count] = mi_malloc(BLOCK);
    if (first[first_count] != NULL) memset(first[first_count], 0x5a, BLOCK);
    if (first_count == FIRST - 1 && first[first_count] != NULL) {
      area_find_t f = { first[first_count], { 0 }, false };
      mi_heap_visit_blocks(mi_heap_get_default(), false, area_of, &f);
      CHECKF(f.found, "no page holds block %p", first[first_count]);
      if (f.found) extra = f.area.reserved / f.area.full_block_size - f.area.used;
      CHECKF(FIRST + extra <= FIRST_MAX, "the last page has room for %zu more blocks", extra);
      if (FIRST + extra > FIRST_MAX) extra = FIRST_MAX - FIRST;
    }
  }
  for (size_t i = 1; i <= FREED; i++) mi_free(first[i]);
  mi_collect(false);
  for (size_t i = first_count - TAIL; i < first_count; i++) mi_free(first[i]);
  mi_collect(false);
  for (size_t i = 0; i < SECOND; i++) {
    second[i] = mi_malloc(BLOCK);
    if (second[i] != NULL) memset(second[i], 0xa5, BLOCK);
  }
  return NULL;
}

/* Large segments have 63 free slices on 64-bit targets, 31 on 32-bit
   ones, and a large block is at most 32 (16) slices. */
#define SLICE ((size_t)MI_SLICE_SIZE)
#define SPAN(n) ((n) * SLICE - 1024)   /* fits n slices with any padding */

static void* large_x;
static void* large_z;
static void* large_y[2];
static size_t large_y_slices[2];
#define CROSS 96
static void* cross[CROSS];

static bool in_span(const void* p, const void* span, size_t slices)
{
  return (span != NULL && (uintptr_t)p >= (uintptr_t)span && (uintptr_t)p < (uintptr_t)span + slices * SLICE);
}

static void* large_worker(void* arg)
{
  (void)arg;
  void** y = large_y;
  large_x = mi_malloc(SPAN(12));
  if (sizeof(void*) == 8) {
    large_y_slices[0] = 24;
    large_y_slices[1] = 19;
  } else {
    large_y_slices[0] = 11;
  }
  for (size_t i = 0; i < 2; i++) {
    if (large_y_slices[i] == 0) continue;
    y[i] = mi_malloc(SPAN(large_y_slices[i]));
    if (y[i] != NULL) memset(y[i], 0x5a, SPAN(large_y_slices[i]));
  }
  if (large_x != NULL) memset(large_x, 0x5a, SPAN(12));
  mi_free(large_x);
  large_z = mi_malloc(SPAN(4));
  if (large_z != NULL) memset(large_z, 0xa5, SPAN(4));
  mi_free(large_z);
  mi_free(y[0]);
  mi_free(y[1]);
  for (size_t i = 0; i < CROSS; i++) {
    cross[i] = mi_malloc(BLOCK);
    if (cross[i] != NULL) memset(cross[i], 0xa5, BLOCK);
  }
  for (size_t i = 0; i < CROSS; i++) mi_free(cross[i]);
  return NULL;
}

#define HUGE_BLOCK ((size_t)3 << 20)

static size_t segments_made(void)
{
  mi_stats_t st;
  memset(&st, 0, sizeof(st));
  st.size = sizeof(st);
  st.version = MI_STAT_VERSION;
  return mi_stats_get(&st) ? (size_t)st.segments.total : 0;
}

static size_t medium_made;
static void* medium_worker(void* arg)
{
  (void)arg;
  mi_option_set(mi_option_purge_delay, 1000);   /* empty segments wait for their purge */
  const size_t before = segments_made();
  for (int i = 0; i < 4; i++) {
    void* p = mi_malloc(MI_MEDIUM_OBJ_SIZE_MAX);
    CHECKF(p != NULL, "mi_malloc(MI_MEDIUM_OBJ_SIZE_MAX) failed");
    if (p != NULL) memset(p, i, MI_MEDIUM_OBJ_SIZE_MAX);
    mi_free(p);
    mi_collect(false);   /* the retired page goes back to its segment */
  }
  medium_made = segments_made() - before;
  mi_option_set(mi_option_purge_delay, -1);
  return NULL;
}

#define RECLAIM_BLOCK 48
static void* reclaim_kept;
static void* reclaim_next;
static void* reclaim_leaver(void* arg)
{
  (void)arg;
  reclaim_kept = mi_malloc(RECLAIM_BLOCK);
  mi_free(mi_malloc(RECLAIM_BLOCK));
  return NULL;   /* exits with reclaim_kept live: its page is abandoned */
}
static void* reclaim_taker(void* arg)
{
  (void)arg;
  reclaim_next = mi_malloc(RECLAIM_BLOCK);
  return NULL;
}

/* allocates a 48-byte block, then stays alive until released */
typedef struct holder_s {
  pthread_t thread;
  void* block;
  pthread_barrier_t release;
} holder_t;
static pthread_barrier_t holders_allocated;

static void* reclaim_holder(void* arg)
{
  holder_t* h = (holder_t*)arg;
  h->block = mi_malloc(RECLAIM_BLOCK);
  mi_free(mi_malloc(RECLAIM_BLOCK));   /* the page keeps room */
  pthread_barrier_wait(&holders_allocated);
  pthread_barrier_wait(&h->release);
  return NULL;
}

static void holder_start(holder_t* h)
{
  CHECK(pthread_barrier_init(&h->release, NULL, 2) == 0);
  CHECK(pthread_create(&h->thread, NULL, reclaim_holder, h) == 0);
}

static void holder_end(holder_t* h)
{
  pthread_barrier_wait(&h->release);
  CHECK(pthread_join(h->thread, NULL) == 0);
  pthread_barrier_destroy(&h->release);
}

static bool same_page(const void* p, const void* q)
{
  return p != NULL && q != NULL && ((uintptr_t)p & ~(PAGE - 1)) == ((uintptr_t)q & ~(PAGE - 1));
}

static void test_reclaim_shared(void)
{
  /* two threads alive at once (neither can take over the other's
     segment), then both exit: two abandoned segments with a page each */
  holder_t leaver[2], taker;
  CHECK(pthread_barrier_init(&holders_allocated, NULL, 3) == 0);
  for (int i = 0; i < 2; i++) holder_start(&leaver[i]);
  pthread_barrier_wait(&holders_allocated);
  for (int i = 0; i < 2; i++) holder_end(&leaver[i]);
  pthread_barrier_destroy(&holders_allocated);
  CHECKF(!same_page(leaver[0].block, leaver[1].block), "two live threads shared a page");

  /* the first new thread allocates and stays; a second one allocates */
  CHECK(pthread_barrier_init(&holders_allocated, NULL, 2) == 0);
  holder_start(&taker);
  pthread_barrier_wait(&holders_allocated);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reclaim_taker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  holder_end(&taker);
  pthread_barrier_destroy(&holders_allocated);
  const int first_in = (same_page(taker.block, leaver[0].block) ? 0 : same_page(taker.block, leaver[1].block) ? 1 : -1);
  CHECKF(first_in >= 0, "the first new thread's block %p is in neither abandoned page (%p, %p)", taker.block, leaver[0].block, leaver[1].block);
  if (first_in >= 0) {
    CHECKF(same_page(reclaim_next, leaver[1 - first_in].block),
           "the second new thread's block %p is not in the other abandoned page (with %p): the first took both", reclaim_next, leaver[1 - first_in].block);
  }
  for (int i = 0; i < 2; i++) mi_free(leaver[i].block);
  mi_free(taker.block);
  mi_free(reclaim_next);
}

static void test_reclaimed_page(void)
{
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reclaim_leaver, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(pthread_create(&t, NULL, reclaim_taker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(reclaim_kept != NULL && reclaim_next != NULL, "48-byte allocations failed");
  CHECKF(((uintptr_t)reclaim_next & ~(PAGE - 1)) == ((uintptr_t)reclaim_kept & ~(PAGE - 1)),
         "a new thread's first block went to %p, not to the page it reclaimed (with %p)", reclaim_next, reclaim_kept);
  mi_free(reclaim_kept);
  mi_free(reclaim_next);
}

#define FILL_BLOCK ((size_t)1024)
#define FILL_MAX   512

static void test_fullest_page_first(void)
{
  mi_heap_t* heap = mi_heap_new();
  CHECKF(heap != NULL, "mi_heap_new failed");
  if (heap == NULL) return;
  static void* b[FILL_MAX];
  size_t start[3] = { 0, 0, 0 };   /* the first block of P1, P2, P3 */
  size_t n = 0, pages = 0;
  while (pages < 3 && n < FILL_MAX) {
    b[n] = mi_heap_malloc(heap, FILL_BLOCK);
    CHECKF(b[n] != NULL, "a 1 KiB allocation failed");
    if (b[n] == NULL) return;
    if (n == 0 || !same_page(b[n], b[n - 1])) start[pages++] = n;
    n++;
  }
  const size_t per_page = start[1] - start[0];
  CHECKF(pages == 3 && per_page > 16 && start[2] - start[1] == per_page,
         "1 KiB blocks: expected two full pages of the same count (%zu pages, %zu and %zu blocks)",
         pages, per_page, start[2] - start[1]);
  if (pages != 3) return;
  void* const p2 = b[start[1]];
  void* const p3 = b[start[2]];
  for (size_t i = 0; i < 8; i++) { mi_free(b[start[0] + i]); b[start[0] + i] = NULL; }
  mi_free(b[start[1]]);
  b[start[1]] = NULL;

  size_t in_p3 = 1;   /* P3's first block */
  void* other = NULL;
  while (other == NULL && in_p3 <= per_page) {
    void* q = mi_heap_malloc(heap, FILL_BLOCK);
    CHECKF(q != NULL, "a 1 KiB allocation failed");
    if (q == NULL) break;
    if (same_page(q, p3)) in_p3++;
    else other = q;
    if (n < FILL_MAX) b[n++] = q;
  }
  CHECKF(other != NULL && in_p3 < per_page,
         "%zu of P3's %zu blocks were carved and handed out before a freed block was taken", in_p3, per_page);
  CHECKF(other == NULL || same_page(other, p2),
         "the freed block taken (%p) is not P2's (%p), the fullest page with one", other, p2);
  for (size_t i = 0; i < n; i++) mi_free(b[i]);
  mi_heap_delete(heap);
}

static void test_arena_units(void)
{
  void* h1 = mi_malloc(HUGE_BLOCK);
  void* h2 = mi_malloc(HUGE_BLOCK);
  CHECKF(h1 != NULL && h2 != NULL, "huge allocations failed");
  if (h1 == NULL || h2 == NULL) return;
  memset(h1, 0x5a, HUGE_BLOCK);
  memset(h2, 0x5a, HUGE_BLOCK);
  mi_option_set(mi_option_purge_delay, 0);
  mi_free(h1);
  mi_option_set(mi_option_purge_delay, -1);
  mi_free(h2);
  void* h3 = mi_malloc(HUGE_BLOCK);
  CHECKF(h3 == h2, "a huge block went to %p, not to the dirty unit of %p (the purged one: %p)", h3, h2, h1);
  /* h3 stays: the large part below needs a fresh segment, not this dirty unit */
}

int main(void)
{
  mi_option_set(mi_option_purge_delay, -1);
  test_arena_units();
  test_fullest_page_first();
  pthread_t t;

  /* large first: its segment must be fresh from the arena, not one the
     small part gave back (memory not known zero counts as dirty) */
  CHECK(pthread_create(&t, NULL, large_worker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(large_x != NULL && large_z != NULL, "large allocations failed");
  CHECKF((uintptr_t)large_z >= (uintptr_t)large_x && (uintptr_t)large_z < (uintptr_t)large_x + SPAN(12),
         "a 4-slice block went to %p, not to the 12 freed slices at %p", large_z, large_x);
  size_t elsewhere = 0;
  for (size_t i = 0; i < CROSS; i++) {
    elsewhere += (cross[i] == NULL || !(in_span(cross[i], large_x, 12) || in_span(cross[i], large_y[0], large_y_slices[0]) ||
                                        in_span(cross[i], large_y[1], large_y_slices[1])));
  }
  CHECKF(elsewhere == 0, "%zu of %d small blocks went elsewhere than the slices freed large blocks left resident", elsewhere, CROSS);

  CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);

  size_t missing = 0;
  for (size_t i = 0; i < first_count; i++) missing += (first[i] == NULL);
  for (size_t i = 0; i < SECOND; i++) missing += (second[i] == NULL);
  CHECKF(missing == 0, "%zu allocations failed", missing);

  /* the pages step 1 used */
  uintptr_t used[FIRST_MAX];
  for (size_t i = 0; i < first_count; i++) used[i] = (uintptr_t)first[i] & ~(PAGE - 1);
  qsort(used, first_count, sizeof(used[0]), cmp_page);
  size_t fresh = 0;
  for (size_t i = 0; i < SECOND; i++) {
    const uintptr_t page = (uintptr_t)second[i] & ~(PAGE - 1);
    if (second[i] != NULL && bsearch(&page, used, first_count, sizeof(used[0]), cmp_page) == NULL) fresh++;
  }
  CHECKF(fresh == 0, "%zu of %d blocks went to pages never used before, while %d used blocks were free", fresh, SECOND, FREED + TAIL);

  mi_free(first[0]);
  for (size_t i = FREED + 1; i < first_count - TAIL; i++) mi_free(first[i]);
  for (size_t i = 0; i < SECOND; i++) mi_free(second[i]);

  /* last: its segment goes back to the arena dirty, which the large part
     above must not find there */
  CHECK(pthread_create(&t, NULL, medium_worker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(medium_made == 1, "a thread that freed and allocated one medium block 4 times made %zu segments", medium_made);

  mi_collect(true);   /* takes over what the threads above left, so only the next case's segment is abandoned */
  test_reclaimed_page();
  mi_collect(true);
  test_reclaim_shared();
  return test_report();
}
