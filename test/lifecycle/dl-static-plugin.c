/* SPDX-License-Identifier: MIT */
/* The library of test dl-static: it links libmica.a and calls the mi_ API
   only. It is linked with -Wl,--exclude-libs,ALL, so it exports none of
   mica's symbols (malloc, mi_malloc, ...) and the program that dlopen()s it
   keeps its own malloc. Its threads allocate with mica and exit. */
#include <pthread.h>
#include <stdlib.h>
#include "mica.h"
#include "pattern.h"

int dls_owns(const void* p) { return mi_is_in_heap_region(p); }

void* dls_alloc(size_t n, unsigned seed) {
  void* p = mi_malloc(n);
  if (p != NULL) pattern_fill(p, n, seed);
  return p;
}

int dls_check(const void* p, size_t n, unsigned seed) {
  return p != NULL && mi_is_in_heap_region(p) && mi_usable_size(p) >= n && pattern_ok(p, n, seed);
}

void dls_free(void* p) { mi_free(p); }

/* the calling thread gets a mica heap (and so a value for mica's
   thread-exit key) */
void dls_touch(void) { mi_free(mi_malloc(100)); }

/* Two waves of threads. Thread i of the first wave allocates `count`
   blocks, frees the even ones and exits with the odd ones live; thread i of
   the second wave checks and frees those (frees into an exited thread's
   pages) and allocates and frees its own. Returns how many checks failed. */
#define DLS_COUNT 32
typedef struct dls_worker_s {
  pthread_t thread;
  unsigned  index;
  void*     blocks[DLS_COUNT];
  int       bad;
} dls_worker_t;

static void* dls_first(void* arg) {
  dls_worker_t* w = (dls_worker_t*)arg;
  for (size_t j = 0; j < DLS_COUNT; j++) {
    const unsigned seed = w->index * 100u + (unsigned)j;
    void* p = dls_alloc(pattern_size(j), seed);
    if (!dls_check(p, pattern_size(j), seed)) w->bad++;
    if (j % 2 == 0) { mi_free(p); p = NULL; }
    w->blocks[j] = p;
  }
  return NULL;
}

static void* dls_second(void* arg) {
  dls_worker_t* w = (dls_worker_t*)arg;
  for (size_t j = 1; j < DLS_COUNT; j += 2) {
    if (!dls_check(w->blocks[j], pattern_size(j), w->index * 100u + (unsigned)j)) w->bad++;
    mi_free(w->blocks[j]);
  }
  for (size_t j = 0; j < DLS_COUNT; j++) {
    void* p = dls_alloc(pattern_size(j), 3);
    if (!dls_check(p, pattern_size(j), 3)) w->bad++;
    mi_free(p);
  }
  return NULL;
}

static int dls_wave(dls_worker_t* w, size_t n, void* (*fun)(void*)) {
  int bad = 0;
  size_t started = 0;
  for (; started < n; started++) {
    if (pthread_create(&w[started].thread, NULL, fun, &w[started]) != 0) { bad++; break; }
  }
  for (size_t i = 0; i < started; i++) pthread_join(w[i].thread, NULL);
  return bad;
}

int dls_threads(size_t nthreads) {
  dls_worker_t* w = (dls_worker_t*)mi_calloc(nthreads, sizeof(dls_worker_t));
  if (w == NULL) return 1;
  for (size_t i = 0; i < nthreads; i++) w[i].index = (unsigned)i;
  int bad = dls_wave(w, nthreads, &dls_first);
  if (bad == 0) bad = dls_wave(w, nthreads, &dls_second);
  for (size_t i = 0; i < nthreads; i++) bad += w[i].bad;
  mi_free(w);
  return bad;
}
