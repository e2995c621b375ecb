/* SPDX-License-Identifier: MIT */
/* Run-time proof of the alignment rule: every atomic in mica's metadata is
   naturally aligned, after work that creates every kind of metadata (all
   page kinds, several heaps, cross-thread frees, an exited thread's
   abandoned segments). The static assertions in types.h and atomic.h
   prove the layouts; this walk proves the placements (arena descriptors,
   segments and pages in OS memory, statistics, the segment map). It is
   the only such walk: linked with the static library, it reads mica's
   internals directly. Prints "N passed, N failed". */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "mica.h"
#include "mica/internal.h"
#include "test.h"

#define MISALIGNED(p) ((((uintptr_t)(p)) & (sizeof(*(p)) - 1)) != 0 ? 1u : 0u)

static size_t segment_misaligned(const mi_segment_t* s) {
  size_t bad = MISALIGNED(&s->xthread_id);
  for (size_t i = 0; i < s->capacity; i++) {   /* every descriptor, in use or not */
    const mi_page_t* page = &s->pages[i];
    bad += MISALIGNED(&page->xthread_free) + MISALIGNED(&page->xheap) + MISALIGNED(&page->xflags);
  }
  return bad;
}

static size_t heap_misaligned(const mi_heap_t* heap) {
  size_t bad = MISALIGNED(&heap->xthread_delayed_free);
  for (size_t b = 0; b <= MI_BIN_FULL; b++) {
    for (const mi_page_t* page = heap->pages[b].first; page != NULL; page = page->next) {
      bad += segment_misaligned(_mi_page_segment(page));
    }
  }
  return bad;
}

static size_t walk(size_t* visited_segments) {
  size_t bad = 0;
  for (size_t i = 0; i < MI_MAX_ARENAS; i++) {   /* the whole static array, used or not */
    const mi_arena_t* a = _mi_arena_at(i);
    bad += MISALIGNED(&a->xstart) + MISALIGNED(&a->xpurge_expire);
    for (size_t w = 0; w < MI_ARENA_MAP_WORDS; w++) {
      bad += MISALIGNED(&a->xin_use[w]) + MISALIGNED(&a->xdirty[w]) + MISALIGNED(&a->xcommitted[w]) + MISALIGNED(&a->xpurge[w]) + MISALIGNED(&a->xfreed[w]);
    }
  }
  const mi_stat_count_t* stats = (const mi_stat_count_t*)&_mi_stats;
  for (size_t i = 0; i < sizeof(mi_stats_t) / sizeof(mi_stat_count_t); i++) {
    bad += MISALIGNED(&stats[i].xcurrent) + MISALIGNED(&stats[i].xpeak) + MISALIGNED(&stats[i].xtotal);
  }
  bad += MISALIGNED(&_mi_segment_subproc_main.xabandoned_count) + MISALIGNED(&_mi_segment_subproc_main.xthread_count);
  _mi_prim_lock(MI_LOCK_ABANDONED);
  for (const mi_segment_t* s = _mi_segment_subproc_main.abandoned_first; s != NULL; s = s->next) {
    bad += segment_misaligned(s);
    (*visited_segments)++;
  }
  _mi_prim_unlock(MI_LOCK_ABANDONED);
  const mi_heap_t* heap = mi_heap_get_default();
  for (const mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) {
    bad += heap_misaligned(h);
    (*visited_segments)++;
  }
  return bad;
}

static void* leaver(void* arg) {
  void** out = (void**)arg;
  for (int i = 0; i < 64; i++) out[i] = mi_malloc((size_t)(i + 1) * 1000);   /* left live: abandoned at exit */
  return NULL;
}

int main(void) {
  static const size_t sizes[] = { 8, 24, 100, 1000, 16000, 50000, 200000, 1500000, 5000000 };
  void* blocks[32];
  size_t n = 0;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) blocks[n++] = mi_malloc(sizes[i]);
  blocks[n++] = mi_malloc_aligned(100, 1 << 22);
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  for (size_t i = 0; i < 8; i++) blocks[n++] = mi_heap_malloc(heap, sizes[i]);
  void* left[64];
  pthread_t t;
  CHECK(pthread_create(&t, NULL, leaver, left) == 0);
  pthread_join(t, NULL);
  size_t visited = 0;
  const size_t bad = walk(&visited);
  CHECKF(bad == 0, "%zu misaligned atomics in mica's data", bad);
  CHECKF(visited >= 3, "the walk saw %zu heaps and abandoned segments: it walked nothing", visited);
  for (int i = 0; i < 64; i++) mi_free(left[i]);   /* cross-thread frees into abandoned pages */
  CHECK(walk(&visited) == 0);
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  mi_heap_delete(heap);
  CHECK(walk(&visited) == 0);
  return test_report();
}
