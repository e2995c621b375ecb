/* SPDX-License-Identifier: MIT */
/* test-arena-abandon: what happens to memory that threads leave behind,
   and the options that steer it.

   1. Sub-processes: blocks that a thread of a sub-process leaves are not
      reclaimed by the main sub-process, are visited per sub-process and
      heap tag (visit_abandoned), are reclaimed by a thread of their own
      sub-process into its heap of the same tag; mi_subproc_delete refuses
      while abandoned memory remains. Without visit_abandoned a visit fails
      with EFAULT.
   2. mi_collect_reduce and target_segments_per_thread: a thread gives up
      segments of full pages (they become abandoned; blocks stay valid); at
      its target it still takes its own back when it needs room.
   3. generic_collect: with 1, the generic path collects the heap (retired
      empty pages go); with a large value it does not.
   4. mi_unsafe_heap_page_is_under_utilized.
   5. Visits count blocks that other threads freed as free (in a heap and
      in abandoned segments, CPython's sys.getallocatedblocks), and a
      thread's exit looks at the abandoned segments: a segment that other
      threads emptied is given back (no thread has to reclaim it first). */
#include "arena-util.h"
#include "test.h"
#include <errno.h>
#include <pthread.h>

#define NBLOCKS 2000
static void* plain_blocks[NBLOCKS];
static void* tagged_blocks[NBLOCKS];
static mi_subproc_id_t sub;

/* ---- visiting ---------------------------------------------------------------- */
typedef struct visit_s {
  void** set;          /* count blocks of this set */
  size_t found;
  size_t blocks;       /* all blocks visited */
  int    tag_seen;     /* heap_tag of the areas, -2: mixed */
} visit_t;

static bool in_set(void** set, void* b) {
  for (size_t i = 0; i < NBLOCKS; i++) if (set[i] == b) return true;
  return false;
}

static bool visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)size;
  visit_t* v = (visit_t*)arg;
  if (block == NULL) {
    if (v->tag_seen == -1) v->tag_seen = area->heap_tag;
    else if (v->tag_seen != area->heap_tag) v->tag_seen = -2;
    return true;
  }
  v->blocks++;
  if (in_set(v->set, block)) v->found++;
  return true;
}

/* A visitor that allocates, frees and collects: none of it may wait for
   the lock the visit holds. */
static size_t busy_visits;
static bool busy_visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area; (void)size; (void)arg;
  if (block != NULL && busy_visits++ < 100) {
    void* p = mi_malloc(5000 + busy_visits * 3000);   /* up to huge sizes: new segments */
    mi_free(p);
    if (busy_visits == 50) mi_collect(true);
  }
  return true;
}

static size_t visit_count(mi_subproc_id_t sp, int tag, void** set, int* tag_seen) {
  visit_t v = { set, 0, 0, -1 };
  CHECK(mi_abandoned_visit_blocks(sp, tag, true, &visitor, &v));
  if (tag_seen != NULL) *tag_seen = v.tag_seen;
  return v.found;
}

/* ---- 1. sub-processes ---------------------------------------------------------- */
static void* main_left[NBLOCKS];   /* the first 100 used (visit_count scans NBLOCKS) */
static void* main_leaver(void* arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) main_left[i] = mi_malloc(300);   /* left to the main sub-process */
  return NULL;
}

static void* leaver(void* arg) {
  (void)arg;
  mi_subproc_add_current_thread(sub);
  mi_heap_t* tagged = mi_heap_new_ex(5, false, 0);
  for (int i = 0; i < NBLOCKS; i++) {
    plain_blocks[i] = mi_malloc(100);
    tagged_blocks[i] = mi_heap_malloc(tagged, 200);
  }
  return NULL;   /* exits with every block live: all abandoned */
}

static mi_heap_t* reclaimer_tagged;
static size_t reclaimed_tagged_owned;
static void* reclaimer(void* arg) {
  (void)arg;
  mi_subproc_add_current_thread(sub);
  reclaimer_tagged = mi_heap_new_ex(5, false, 0);
  mi_collect(true);   /* takes over its sub-process's abandoned segments */
  for (int i = 0; i < NBLOCKS; i++) reclaimed_tagged_owned += mi_heap_check_owned(reclaimer_tagged, tagged_blocks[i]) ? 1 : 0;
  for (int i = 0; i < NBLOCKS; i++) { mi_free(plain_blocks[i]); mi_free(tagged_blocks[i]); }
  return NULL;
}

static int last_error;
static void on_error(int err, void* arg) { (void)arg; last_error = err; }

static void test_subproc(void) {
  printf("sub-processes, heap tags, visiting abandoned blocks:\n");
  CHECK(mi_subproc_main() == NULL);
  sub = mi_subproc_new();
  CHECK(sub != NULL);
  pthread_t t;
  pthread_create(&t, NULL, &leaver, NULL);
  pthread_join(t, NULL);

  /* without visit_abandoned: refused with EFAULT */
  mi_option_disable(mi_option_visit_abandoned);
  mi_register_error(&on_error, NULL);
  last_error = 0;
  visit_t v = { plain_blocks, 0, 0, -1 };
  CHECK(!mi_abandoned_visit_blocks(sub, -1, true, &visitor, &v) && last_error == EFAULT);
  mi_register_error(NULL, NULL);
  mi_option_enable(mi_option_visit_abandoned);

  mi_collect(true);   /* the main sub-process reclaims all it has: not these */
  int tag = 0;
  size_t n = visit_count(sub, -1, plain_blocks, NULL);
  printf("  abandoned in the sub-process after the main one collected: %zu of %d plain blocks\n", n, NBLOCKS);
  CHECK(n == NBLOCKS);
  CHECK(visit_count(sub, 5, tagged_blocks, &tag) == NBLOCKS && tag == 5);
  CHECK(visit_count(sub, 5, plain_blocks, NULL) == 0);      /* plain blocks are tag 0 */
  CHECK(visit_count(sub, 0, plain_blocks, &tag) == NBLOCKS && tag == 0);
  CHECK(visit_count(NULL, -1, plain_blocks, NULL) == 0);   /* none in the main sub-process */
  CHECK(mi_abandoned_visit_blocks(sub, -1, true, &busy_visitor, NULL) && busy_visits >= 100);
  /* the same in the main sub-process while it has abandoned segments (its reclaims would need the lock) */
  pthread_create(&t, NULL, &main_leaver, NULL);
  pthread_join(t, NULL);
  busy_visits = 0;
  CHECK(mi_abandoned_visit_blocks(NULL, -1, true, &busy_visitor, NULL) && busy_visits >= 100);
  mi_collect(true);   /* and now they are reclaimed */
  CHECK(visit_count(NULL, -1, main_left, NULL) == 0);
  for (int i = 0; i < 100; i++) mi_free(main_left[i]);

  /* not deleted while it holds abandoned memory */
  mi_option_enable(mi_option_show_errors);
  capture_start();
  mi_subproc_delete(sub);
  CHECK(strstr(capture_stop(), "not deleted") != NULL);

  /* the reclaimer's first allocation would reclaim before its tagged heap
     exists (the pages would then join its backing heap): only mi_collect does */
  mi_option_set(mi_option_max_segment_reclaim, 0);
  pthread_create(&t, NULL, &reclaimer, NULL);
  pthread_join(t, NULL);
  mi_option_set(mi_option_max_segment_reclaim, 8);
  printf("  reclaimed into the heap of the same tag: %zu of %d\n", reclaimed_tagged_owned, NBLOCKS);
  CHECK(reclaimed_tagged_owned == NBLOCKS);
  CHECK(visit_count(sub, -1, plain_blocks, NULL) == 0);
  capture_start();
  mi_subproc_delete(sub);
  CHECKF(strstr(capture_stop(), "not deleted") == NULL, "an empty sub-process is deleted");
  mi_option_disable(mi_option_show_errors);
}

/* ---- 2. giving segments up -------------------------------------------------------- */
static bool count_area(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area; (void)size;
  if (block == NULL) (*(size_t*)arg)++;
  return true;
}
static size_t heap_pages(mi_heap_t* heap) {
  size_t n = 0;
  mi_heap_visit_blocks(heap, false, &count_area, &n);
  return n;
}

#define RBLOCKS 20000   /* 40 MiB of 2000-byte blocks: many segments */
static void* rblocks[RBLOCKS];
static size_t pages_before, pages_after;
static size_t abandoned_seen;

static void* reducer(void* arg) {
  const size_t target = (size_t)(uintptr_t)arg;   /* 0: mi_collect_reduce, else target_segments_per_thread */
  for (int i = 0; i < RBLOCKS; i++) { rblocks[i] = mi_malloc(2000); memset(rblocks[i], 1, 16); }
  pages_before = heap_pages(mi_heap_get_default());
  if (target == 0) mi_collect_reduce(2 * seg_size());
  pages_after = heap_pages(mi_heap_get_default());
  visit_t v = { rblocks, 0, 0, -1 };
  mi_abandoned_visit_blocks(NULL, -1, true, &visitor, &v);
  abandoned_seen = v.blocks;
  for (int i = 0; i < RBLOCKS; i++) { CHECK(((uint8_t*)rblocks[i])[15] == 1); mi_free(rblocks[i]); }
  return NULL;
}

static void test_reduce(void) {
  printf("mi_collect_reduce and target_segments_per_thread:\n");
  const size_t per_segment = MI_SLICES_PER_SEGMENT;
  pthread_t t;
  pthread_create(&t, NULL, &reducer, (void*)0);
  pthread_join(t, NULL);
  printf("  mi_collect_reduce(2 segments): %zu pages -> %zu, %zu blocks abandoned\n", pages_before, pages_after, abandoned_seen);
  CHECK(pages_before > 5 * per_segment);
  CHECKF(pages_after <= 2 * per_segment, "the thread kept %zu pages", pages_after);
  CHECK(abandoned_seen > RBLOCKS / 2);
  mi_collect(true);

  mi_option_set(mi_option_target_segments_per_thread, 4);
  pthread_create(&t, NULL, &reducer, (void*)4);
  pthread_join(t, NULL);
  printf("  target_segments_per_thread 4: the thread holds %zu pages, %zu blocks abandoned\n", pages_before, abandoned_seen);
  CHECKF(pages_before <= 5 * per_segment, "target 4: the thread holds %zu pages", pages_before);
  CHECK(abandoned_seen > RBLOCKS / 2);
  mi_option_set(mi_option_target_segments_per_thread, 0);
  mi_collect(true);
}

/* At its target a thread still takes its own abandoned segments back when
   it needs room, instead of taking fresh ones. It once reclaimed nothing
   at the target, so a thread that kept replacing blocks gave up a segment
   for every new one it took: bench-churn (13 MiB live) reached 3.5 GiB
   with target 2, and every segment stayed abandoned until exit. */
#define CSLOTS 3000
static void* cslots[CSLOTS];
static size_t churn_commit_peak, churn_abandoned;

static void* target_churner(void* arg) {
  (void)arg;
  uint64_t x = 88172645463325252ull;   /* xorshift: the same run every time */
  const long steps = test_scaled(400000);
  for (long i = 0; i < steps; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    const size_t slot = (size_t)(x % CSLOTS);
    const size_t size = 16 + (size_t)((x >> 20) % 4000);   /* up to 4 KiB: at most 12 MiB live */
    if (cslots[slot] != NULL) { CHECK(((uint8_t*)cslots[slot])[0] == (uint8_t)slot); mi_free(cslots[slot]); }
    cslots[slot] = mi_malloc(size);
    memset(cslots[slot], (int)(uint8_t)slot, 1);
    if ((i & 1023) == 0) {
      size_t commit = 0;
      mi_process_info(NULL, NULL, NULL, NULL, NULL, &commit, NULL, NULL);
      if (commit > churn_commit_peak) churn_commit_peak = commit;
    }
  }
  visit_t v = { cslots, 0, 0, -1 };
  mi_abandoned_visit_blocks(NULL, -1, true, &visitor, &v);
  churn_abandoned = v.found;
  for (size_t i = 0; i < CSLOTS; i++) { mi_free(cslots[i]); cslots[i] = NULL; }
  return NULL;
}

static void test_target_reclaims(void) {
  for (long target = 1; target <= 2; target++) {
    mi_option_set(mi_option_target_segments_per_thread, target);
    churn_commit_peak = 0;
    pthread_t t;
    pthread_create(&t, NULL, &target_churner, NULL);
    pthread_join(t, NULL);
    printf("  target_segments_per_thread %ld, one thread replacing %d blocks of up to 4 KiB: "
           "%zu KiB committed at most, %zu of its blocks abandoned at the end\n",
           target, CSLOTS, churn_commit_peak / KiB, churn_abandoned);
    CHECKF(churn_commit_peak <= 64 * MiB, "target %ld: %zu MiB committed for at most 12 MiB live", target, churn_commit_peak / MiB);
    mi_option_set(mi_option_target_segments_per_thread, 0);
    mi_collect(true);
  }
}

/* segments shared with a destroyable heap are not given up */
static size_t dheap_before, dheap_after;
static void* mixed_reducer(void* arg) {
  (void)arg;
  mi_heap_t* dheap = mi_heap_new();   /* may be destroyed */
  for (int i = 0; i < RBLOCKS / 2; i++) {
    rblocks[i] = mi_malloc(2000);
    CHECK(mi_heap_malloc(dheap, 2000) != NULL);   /* interleaved: the same segments */
  }
  dheap_before = heap_pages(dheap);
  mi_collect_reduce(seg_size());
  dheap_after = heap_pages(dheap);
  mi_heap_destroy(dheap);
  for (int i = 0; i < RBLOCKS / 2; i++) mi_free(rblocks[i]);
  return NULL;
}

static void test_reduce_destroyable(void) {
  pthread_t t;
  pthread_create(&t, NULL, &mixed_reducer, NULL);
  pthread_join(t, NULL);
  printf("  a destroyable heap sharing the segments keeps its pages: %zu -> %zu\n", dheap_before, dheap_after);
  CHECK(dheap_before > 0 && dheap_after == dheap_before);
  mi_collect(true);
}

/* ---- 3. generic_collect ----------------------------------------------------------- */
static size_t gc_pages[2];
static void* generic_collector(void* arg) {
  const int idx = (int)(uintptr_t)arg;
  mi_heap_t* heap = mi_heap_get_default();
  void* p[30];
  size_t size = 16;
  for (int i = 0; i < 30; i++) {   /* 30 size classes in a row, a page each */
    p[i] = mi_malloc(size);
    size = mi_good_size(size) + 1;
  }
  for (int i = 0; i < 30; i++) mi_free(p[i]);                           /* empty pages are kept (retired) */
  void* q = mi_malloc(16000);                                            /* a new class: the generic path */
  gc_pages[idx] = heap_pages(heap);
  mi_free(q);
  return NULL;
}

static void test_generic_collect(void) {
  printf("generic_collect:\n");
  pthread_t t;
  mi_option_set(mi_option_generic_collect, 1000000);
  pthread_create(&t, NULL, &generic_collector, (void*)0);
  pthread_join(t, NULL);
  mi_option_set(mi_option_generic_collect, 1);
  pthread_create(&t, NULL, &generic_collector, (void*)1);
  pthread_join(t, NULL);
  mi_option_set(mi_option_generic_collect, 10000);
  printf("  pages after a generic call: %zu (generic_collect 1000000), %zu (1)\n", gc_pages[0], gc_pages[1]);
  CHECK(gc_pages[0] >= 30);
  CHECK(gc_pages[1] <= 2);
}

/* ---- 4. under-utilized pages ------------------------------------------------------- */
static void test_under_utilized(void) {
  printf("mi_unsafe_heap_page_is_under_utilized:\n");
  mi_heap_t* heap = mi_heap_new();
  mi_heap_t* other = mi_heap_new();
  void* p[200];
  for (int i = 0; i < 200; i++) p[i] = mi_heap_malloc(heap, 1000);
  /* p[0]'s page is full: not under-utilized at any threshold below 100 */
  CHECK(!mi_unsafe_heap_page_is_under_utilized(heap, p[0], 99));
  /* empty it but for p[0] */
  size_t kept = 0;
  for (int i = 1; i < 200; i++) {
    if (((uintptr_t)p[i] >> 16) == ((uintptr_t)p[0] >> 16)) { mi_free(p[i]); p[i] = NULL; }   /* pages are 64 KiB aligned */
    else kept++;
  }
  CHECK(mi_unsafe_heap_page_is_under_utilized(heap, p[0], 10));
  CHECK(mi_unsafe_heap_page_is_under_utilized(NULL, p[0], 10));
  CHECK(!mi_unsafe_heap_page_is_under_utilized(heap, p[0], 0));
  CHECK(!mi_unsafe_heap_page_is_under_utilized(other, p[0], 10));
  CHECK(!mi_unsafe_heap_page_is_under_utilized(heap, p[199], 100));   /* the page being allocated from */
  CHECK(!mi_unsafe_heap_page_is_under_utilized(heap, NULL, 50));
  int local = 0;
  CHECK(!mi_unsafe_heap_page_is_under_utilized(heap, &local, 50));
  (void)kept;
  mi_heap_destroy(heap);
  mi_heap_destroy(other);
}

/* ---- 5. thread exit collects the abandoned segments -------------------------------- */
typedef struct used_s { size_t areas, used; } used_t;
static bool sum_used(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)size;
  used_t* u = (used_t*)arg;
  if (block == NULL) { u->areas++; u->used += area->used; }
  return true;
}
static used_t abandoned_used(void) {
  used_t u = { 0, 0 };
  CHECK(mi_abandoned_visit_blocks(NULL, -1, false, &sum_used, &u));
  return u;
}

static void* exit_blocks[NBLOCKS];
static void* exit_leaver(void* arg) {
  (void)arg;
  for (int i = 0; i < NBLOCKS; i++) exit_blocks[i] = mi_malloc(100 + (size_t)(i % 3) * 1000);
  return NULL;
}
static void* quiet_thread(void* arg) {
  (void)arg;
  mi_free(mi_malloc(8));
  return NULL;
}

static void* other_freer(void* arg) {
  for (int i = 0; i < NBLOCKS; i++) mi_free(((void**)arg)[i]);
  return NULL;
}

static used_t heap_used(mi_heap_t* heap) {
  used_t u = { 0, 0 };
  CHECK(mi_heap_visit_blocks(heap, false, &sum_used, &u));
  return u;
}

static void test_exit_collects(void) {
  printf("a visit counts other threads' frees as free:\n");
  mi_heap_t* heap = mi_heap_new();
  for (int i = 0; i < NBLOCKS; i++) exit_blocks[i] = mi_heap_malloc(heap, 48);
  used_t live = heap_used(heap);
  pthread_t t;
  pthread_create(&t, NULL, &other_freer, exit_blocks);
  pthread_join(t, NULL);
  used_t freed_here = heap_used(heap);
  printf("  blocks in use: %zu, after another thread freed them %zu\n", live.used, freed_here.used);
  CHECK(live.used == NBLOCKS);
  CHECKF(freed_here.used == 0, "%zu blocks freed by another thread counted as in use", freed_here.used);
  mi_heap_delete(heap);

  printf("thread exit collects the abandoned segments:\n");
  mi_collect(true);
  used_t before = abandoned_used();
  CHECK(before.areas == 0);
  mi_option_set(mi_option_max_segment_reclaim, 0);   /* no thread takes them over */
  pthread_create(&t, NULL, &exit_leaver, NULL);
  pthread_join(t, NULL);
  for (int i = 0; i < NBLOCKS; i++) mi_free(exit_blocks[i]);   /* into abandoned pages */
  used_t freed = abandoned_used();   /* the visit collects the frees */
  pthread_create(&t, NULL, &quiet_thread, NULL);
  pthread_join(t, NULL);
  used_t after = abandoned_used();
  mi_option_set(mi_option_max_segment_reclaim, 8);
  printf("  abandoned pages (in use, as the pages count them): %zu (%zu) after the frees, %zu (%zu) after a thread's exit\n",
         freed.areas, freed.used, after.areas, after.used);
  CHECK(freed.areas >= 3);
  CHECKF(freed.used == 0, "%zu blocks freed by another thread counted as in use", freed.used);
  CHECKF(after.areas == 0 && after.used == 0, "%zu pages (%zu blocks) still abandoned", after.areas, after.used);
}

int main(void) {
  mi_option_enable(mi_option_visit_abandoned);
  test_exit_collects();
  test_subproc();
  test_reduce();
  test_reduce_destroyable();
  test_target_reclaims();
  test_generic_collect();
  test_under_utilized();
  return test_report();
}
