/* SPDX-License-Identifier: MIT */
/* dl, dl-preload: a program running on mica (test-dl is linked with
   libmica.so; test-dl-preload is not linked with mica and runs with
   LD_PRELOAD=libmica.so) dlopen()s dl-plugin, a library that links libc
   only, uses it and dlclose()s it, 50 times. Every round:
   - the library allocates blocks of every size class (and a huge one), the
     program checks that mica served them and frees them;
   - the program allocates, the library reallocs (up and down) and frees;
   - libc's strdup called in the library, the program frees;
   - the library starts 4 threads: each frees a block of the program and
     exits leaving blocks that the program frees afterwards;
   - blocks the library allocated stay across dlclose: the program checks
     them after the unload, frees half, and the next round's instance of
     the library frees the other half;
   - after dlclose the library is no longer mapped (/proc/self/maps); not on
     musl, whose dlclose unloads nothing (DL_EXPECT_UNMAP=0).
   Then the heap is walked (mi_heap_visit_blocks finds every live block)
   and allocation goes on. The mi_ functions are looked up with dlsym, so
   the same source serves both tests. Usage: test-dl PATH-OF-dl-plugin */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mica.h"
#include "test.h"
#include "dl-util.h"
#include "pattern.h"

#ifndef DL_EXPECT_UNMAP
#define DL_EXPECT_UNMAP 1
#endif

#define ROUNDS   50
#define THREADS  4
#define PER_THREAD 24
#define KEEP     8
#define HUGE_SIZE ((size_t)5 << 20)   /* more than a segment on every target */

/* mica, found in the process */
static bool   (*is_mica)(const void*);
static size_t (*usable_size)(const void*);
static mi_heap_t* (*heap_get_default)(void);
static bool   (*heap_visit)(const mi_heap_t*, bool, mi_block_visit_fun*, void*);
static void   (*collect)(bool);

/* the library's functions, looked up again after every dlopen */
typedef struct plugin_s {
  void* (*alloc)(size_t, unsigned);
  void* (*resize)(void*, size_t);
  void  (*release)(void*);
  char* (*dup)(const char*);
  int   (*threads)(size_t, void**, size_t, void**, size_t);
} plugin_t;

static bool resolve_mica(void) {
  is_mica = (__typeof__(is_mica))dl_lookup(RTLD_DEFAULT, "mi_is_in_heap_region");
  usable_size = (__typeof__(usable_size))dl_lookup(RTLD_DEFAULT, "mi_usable_size");
  heap_get_default = (__typeof__(heap_get_default))dl_lookup(RTLD_DEFAULT, "mi_heap_get_default");
  heap_visit = (__typeof__(heap_visit))dl_lookup(RTLD_DEFAULT, "mi_heap_visit_blocks");
  collect = (__typeof__(collect))dl_lookup(RTLD_DEFAULT, "mi_collect");
  return is_mica != NULL && usable_size != NULL && heap_get_default != NULL && heap_visit != NULL && collect != NULL;
}

static bool resolve_plugin(void* h, plugin_t* pl) {
  pl->alloc = (__typeof__(pl->alloc))dl_lookup(h, "plugin_alloc");
  pl->resize = (__typeof__(pl->resize))dl_lookup(h, "plugin_realloc");
  pl->release = (__typeof__(pl->release))dl_lookup(h, "plugin_free");
  pl->dup = (__typeof__(pl->dup))dl_lookup(h, "plugin_strdup");
  pl->threads = (__typeof__(pl->threads))dl_lookup(h, "plugin_threads");
  return pl->alloc != NULL && pl->resize != NULL && pl->release != NULL && pl->dup != NULL && pl->threads != NULL;
}

/* a block of n bytes with the pattern of seed, served by mica */
static bool mica_block_ok(const void* p, size_t n, unsigned seed) {
  return p != NULL && is_mica(p) && usable_size(p) >= n && pattern_ok(p, n, seed);
}

/* blocks the library allocated that outlive its instance */
typedef struct kept_s { void* p; size_t size; unsigned seed; } kept_t;

static void round_run(int r, const plugin_t* pl, kept_t kept[KEEP]) {
  /* the library allocates, the program frees */
  for (size_t j = 0; j < 16; j++) {
    const unsigned seed = (unsigned)(r * 100 + (int)j);
    void* p = pl->alloc(pattern_size(j), seed);
    CHECKF(mica_block_ok(p, pattern_size(j), seed), "round %d: library block of %zu bytes", r, pattern_size(j));
    free(p);
  }
  void* huge = pl->alloc(HUGE_SIZE, 5);
  CHECKF(mica_block_ok(huge, HUGE_SIZE, 5), "round %d: library's huge block", r);
  free(huge);

  /* the program allocates, the library reallocs and frees */
  void* q = malloc(100);
  if (q != NULL) pattern_fill(q, 100, 9);
  q = pl->resize(q, 20000);
  CHECKF(mica_block_ok(q, 100, 9), "round %d: realloc up in the library", r);
  q = pl->resize(q, 40);
  CHECKF(mica_block_ok(q, 40, 9), "round %d: realloc down in the library", r);
  pl->release(q);

  char* s = pl->dup("across the boundary");
  CHECKF(s != NULL && is_mica(s) && strcmp(s, "across the boundary") == 0, "round %d: strdup in the library", r);
  free(s);

  /* threads of the library */
  void* in[THREADS];
  for (unsigned i = 0; i < THREADS; i++) {
    in[i] = malloc(700);
    if (in[i] != NULL) pattern_fill(in[i], 700, i);
  }
  void** out = (void**)calloc(THREADS * PER_THREAD, sizeof(void*));
  CHECK(out != NULL);
  if (out == NULL) return;
  CHECKF(pl->threads(THREADS, in, 700, out, PER_THREAD) == 0, "round %d: the library's threads found a bad block", r);
  for (size_t i = 0; i < THREADS; i++) {
    for (size_t j = 1; j < PER_THREAD; j += 2) {
      void* p = out[i * PER_THREAD + j];
      CHECKF(mica_block_ok(p, pattern_size(j), (unsigned)(i * 1000 + j)), "round %d: block left by library thread %zu", r, i);
      free(p);
    }
  }
  free(out);

  /* last round's blocks: the other half goes through this instance */
  for (size_t k = KEEP / 2; k < KEEP; k++) {
    if (kept[k].p == NULL) continue;
    CHECKF(mica_block_ok(kept[k].p, kept[k].size, kept[k].seed), "round %d: kept block %zu", r, k);
    pl->release(kept[k].p);
  }
  for (size_t k = 0; k < KEEP; k++) {
    kept[k].size = pattern_size(k * 2 + (size_t)r);
    kept[k].seed = (unsigned)(r * 31 + (int)k);
    kept[k].p = pl->alloc(kept[k].size, kept[k].seed);
  }
}

/* every live block of `ours` is found by a walk of the heap */
typedef struct walk_s { void** ours; size_t n; size_t found; size_t blocks; size_t foreign; } walk_t;

static bool walk_visit(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area; (void)size;
  walk_t* w = (walk_t*)arg;
  if (block == NULL) return true;   /* the area itself */
  w->blocks++;
  if (!is_mica(block)) w->foreign++;
  for (size_t i = 0; i < w->n; i++) {
    if (w->ours[i] == block) w->found++;
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH-OF-dl-plugin\n", argv[0]);
    return 2;
  }
  if (!resolve_mica()) {
    fprintf(stderr, "mica's API is not in the process (not linked, not preloaded)\n");
    return test_report();
  }
  char path[PATH_MAX];
  CHECKF(realpath(argv[1], path) != NULL, "realpath(%s)", argv[1]);
  void* probe = malloc(64);
  CHECKF(probe != NULL && is_mica(probe), "the program's malloc is mica's");
  free(probe);

  kept_t kept[KEEP];
  memset(kept, 0, sizeof(kept));
  int unloaded = 0;
  for (int r = 0; r < ROUNDS; r++) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECKF(h != NULL, "round %d: dlopen: %s", r, dlerror());
    if (h == NULL) break;
    plugin_t pl;
    if (!resolve_plugin(h, &pl)) { dlclose(h); break; }
    round_run(r, &pl, kept);
    CHECKF(dlclose(h) == 0, "round %d: dlclose: %s", r, dlerror());
    const bool mapped = dl_is_mapped(path);
    if (!mapped) unloaded++;
    if (DL_EXPECT_UNMAP) CHECKF(!mapped, "round %d: %s is still mapped after dlclose", r, path);
    /* the library's blocks outlive it; the program frees half now */
    for (size_t k = 0; k < KEEP; k++) {
      CHECKF(mica_block_ok(kept[k].p, kept[k].size, kept[k].seed), "round %d: kept block %zu after dlclose", r, k);
      if (k < KEEP / 2) { free(kept[k].p); kept[k].p = NULL; }
    }
  }
  printf("dlclose unmapped the library in %d of %d rounds\n", unloaded, ROUNDS);

  /* the heap is consistent: a walk finds every live block, all mica's */
  void* live[64];
  for (size_t i = 0; i < 64; i++) {
    live[i] = malloc(48);
    if (live[i] != NULL) pattern_fill(live[i], 48, (unsigned)i);
  }
  walk_t w = { live, 64, 0, 0, 0 };
  CHECK(heap_visit(heap_get_default(), true, &walk_visit, &w));
  CHECKF(w.found == 64 && w.foreign == 0, "heap walk: %zu of 64 live blocks found, %zu foreign in %zu", w.found, w.foreign, w.blocks);
  for (size_t i = 0; i < 64; i++) {
    CHECK(mica_block_ok(live[i], 48, (unsigned)i));
    free(live[i]);
  }
  for (size_t k = KEEP / 2; k < KEEP; k++) {
    CHECK(mica_block_ok(kept[k].p, kept[k].size, kept[k].seed));
    free(kept[k].p);
  }

  /* and allocation goes on */
  collect(true);
  for (size_t j = 0; j < 2000; j++) {
    void* p = malloc(pattern_size(j));
    if (p != NULL) pattern_fill(p, pattern_size(j), (unsigned)j);
    CHECKF(mica_block_ok(p, pattern_size(j), (unsigned)j), "after the rounds: block %zu", j);
    free(p);
  }
  return test_report();
}
