/* SPDX-License-Identifier: MIT */
/* test-stress: many threads allocating, verifying and freeing each other's
   blocks.

   usage: test-stress [mode] [threads] [rounds]
     mode     "blocks" (default) or "heaps"
     threads  concurrent threads per round (default 8)
     rounds   rounds of thread creation (default 6)
   The number of operations per thread is multiplied by MICA_TEST_SCALE.

   blocks: each round starts `threads` threads. Every thread allocates blocks
   of random size (mostly small, some medium 1-128 KiB, a few large up to
   2 MiB, rare huge up to 8 MiB), fills each with a pattern derived from its
   address, and swaps blocks in and out of a shared array of atomic slots;
   whatever comes out of a slot was usually allocated by another thread and is
   verified and freed here (a cross-thread free). Some threads are short-lived:
   they leave after a few operations with blocks still in the slots, and those
   are freed later by threads of this or a later round. Every thread also
   keeps a private set of blocks (local frees, reallocations).

   heaps: every thread repeatedly creates a heap with mi_heap_new, allocates in
   it (directly and as the default heap), then either destroys it with all its
   blocks or deletes it after handing some of its blocks to other threads.

   The test itself is data-race free (C11 atomics with acquire/release on the
   slots, so it can run under ThreadSanitizer). */
#define _POSIX_C_SOURCE 200809L
#include "mica.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS        1024
#define LOCAL_BLOCKS 32

static _Atomic(void*) slots[SLOTS];
static long ops_per_thread;
static atomic_long total_cross_frees;
static atomic_long total_allocs;

/* ---------------------------------------------------------------------------
   Random numbers and sizes
--------------------------------------------------------------------------- */
static uint64_t rnd(uint64_t* s)
{
  /* xorshift64* */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static size_t random_size(uint64_t* s)
{
  uint64_t r = rnd(s);
  unsigned pick = (unsigned)(r % 10000);
  uint64_t v = r >> 16;
  if (pick < 8500) {                 /* small: 1 .. 1 KiB, biased to tiny */
    if (pick < 5000) return 1 + (size_t)(v % 64);
    return 1 + (size_t)(v % 1024);
  }
  if (pick < 9800) return 1024 + (size_t)(v % (127 * 1024));            /* medium: 1 .. 128 KiB */
  if (pick < 9995) return 128 * 1024 + (size_t)(v % (1920 * 1024));     /* large: 128 KiB .. 2 MiB */
  return 2 * 1024 * 1024 + (size_t)(v % (6 * 1024 * 1024));             /* huge: 2 .. 8 MiB */
}

/* ---------------------------------------------------------------------------
   Block contents: every word of the usable size is derived from the block's
   address and the word's index, so a block that is handed out twice, moved
   without copying, or overwritten by the allocator's metadata is detected.
   The first word holds the usable size seen at allocation, complemented.
--------------------------------------------------------------------------- */
static uintptr_t word_at(const void* p, size_t i)
{
  return ((uintptr_t)p * 0x9E3779B1u) ^ (i * 0x85EBCA6Bu) ^ (uintptr_t)0x5A5A5A5A;
}

static void block_fill(void* p)
{
  size_t n = mi_usable_size(p);
  unsigned char* b = (unsigned char*)p;
  size_t words = n / sizeof(uintptr_t);
  if (words == 0) {
    memset(b, (int)((uintptr_t)p & 0xFF), n);
    return;
  }
  uintptr_t first = ~(uintptr_t)n;
  memcpy(b, &first, sizeof first);
  for (size_t i = 1; i < words; i++) {
    uintptr_t w = word_at(p, i);
    memcpy(b + i * sizeof(uintptr_t), &w, sizeof w);
  }
  memset(b + words * sizeof(uintptr_t), 0xC3, n - words * sizeof(uintptr_t));
}

/* Returns 1 when intact. Huge blocks are sampled to keep the test fast. */
static int block_verify(const void* p)
{
  size_t n = mi_usable_size(p);
  const unsigned char* b = (const unsigned char*)p;
  size_t words = n / sizeof(uintptr_t);
  if (words == 0) {
    for (size_t i = 0; i < n; i++) {
      if (b[i] != (unsigned char)((uintptr_t)p & 0xFF)) return 0;
    }
    return 1;
  }
  uintptr_t first;
  memcpy(&first, b, sizeof first);
  if (first != ~(uintptr_t)n) return 0;
  size_t step = words > 65536 ? 7 : 1;
  for (size_t i = 1; i < words; i += step) {
    uintptr_t w;
    memcpy(&w, b + i * sizeof(uintptr_t), sizeof w);
    if (w != word_at(p, i)) return 0;
  }
  for (size_t i = words * sizeof(uintptr_t); i < n; i++) {
    if (b[i] != 0xC3) return 0;
  }
  return 1;
}

static void* block_alloc(uint64_t* s)
{
  size_t n = random_size(s);
  void* p;
  unsigned how = (unsigned)(rnd(s) % 16);
  if (how == 0) p = mi_calloc(1, n);
  else if (how == 1) p = mi_malloc_aligned(n, (size_t)16 << (rnd(s) % 8));
  else if (how == 2) p = mi_zalloc(n);
  else p = mi_malloc(n);
  CHECKF(p != NULL, "allocation of %zu bytes failed", n);
  if (p == NULL) return NULL;
  CHECKF(mi_usable_size(p) >= n, "usable size %zu < %zu", mi_usable_size(p), n);
  block_fill(p);
  atomic_fetch_add_explicit(&total_allocs, 1, memory_order_relaxed);
  return p;
}

static void block_free(void* p)
{
  if (p == NULL) return;
  CHECKF(block_verify(p), "block %p (usable %zu) corrupted before free", p, mi_usable_size(p));
  mi_free(p);
}

/* Put p into a random slot; whatever was there is freed here. */
static void slot_put(uint64_t* s, void* p)
{
  size_t i = (size_t)(rnd(s) % SLOTS);
  void* old = atomic_exchange_explicit(&slots[i], p, memory_order_acq_rel);
  if (old != NULL) {
    atomic_fetch_add_explicit(&total_cross_frees, 1, memory_order_relaxed);
    block_free(old);
  }
}

static void* slot_take(uint64_t* s)
{
  size_t i = (size_t)(rnd(s) % SLOTS);
  return atomic_exchange_explicit(&slots[i], NULL, memory_order_acq_rel);
}

/* ---------------------------------------------------------------------------
   Mode "blocks"
--------------------------------------------------------------------------- */
typedef struct worker_s {
  pthread_t thread;
  uint64_t  seed;
  long      ops;
  int       short_lived;
} worker_t;

static void* worker_blocks(void* arg)
{
  worker_t* w = (worker_t*)arg;
  uint64_t s = w->seed;
  void* local[LOCAL_BLOCKS];
  memset(local, 0, sizeof local);

  for (long op = 0; op < w->ops && test_failures() == 0; op++) {
    unsigned r = (unsigned)(rnd(&s) % 100);
    if (r < 40) {
      /* allocate and publish (frees whatever was in the slot) */
      void* p = block_alloc(&s);
      if (p) slot_put(&s, p);
    }
    else if (r < 60) {
      /* take a block (usually another thread's) and free it */
      void* p = slot_take(&s);
      if (p) {
        atomic_fetch_add_explicit(&total_cross_frees, 1, memory_order_relaxed);
        block_free(p);
      }
    }
    else if (r < 90) {
      /* private blocks: replace one (local free) */
      size_t i = (size_t)(rnd(&s) % LOCAL_BLOCKS);
      block_free(local[i]);
      local[i] = block_alloc(&s);
    }
    else if (r < 97) {
      /* reallocate a private block, which keeps the old contents as prefix */
      size_t i = (size_t)(rnd(&s) % LOCAL_BLOCKS);
      void* p = local[i];
      if (p == NULL) continue;
      CHECKF(block_verify(p), "block %p corrupted before realloc", p);
      size_t old_n = mi_usable_size(p);
      size_t n = random_size(&s);
      unsigned char* copy = NULL;
      size_t keep = old_n < n ? old_n : n;
      if (keep > 4096) keep = 4096;
      copy = (unsigned char*)malloc(keep > 0 ? keep : 1);
      if (copy) memcpy(copy, p, keep);
      void* q = mi_realloc(p, n);
      CHECKF(q != NULL, "realloc to %zu failed", n);
      if (q == NULL) continue;
      if (copy) CHECKF(memcmp(copy, q, keep) == 0, "realloc %zu -> %zu lost contents", old_n, n);
      free(copy);
      block_fill(q);
      local[i] = q;
    }
    else {
      /* move a private block to the shared slots */
      size_t i = (size_t)(rnd(&s) % LOCAL_BLOCKS);
      if (local[i]) slot_put(&s, local[i]);
      local[i] = NULL;
    }
  }

  if (w->short_lived) {
    /* leave with live blocks: hand every private block to the slots, where
       other threads (possibly of a later round) free them */
    for (size_t i = 0; i < LOCAL_BLOCKS; i++) {
      if (local[i]) slot_put(&s, local[i]);
    }
  }
  else {
    for (size_t i = 0; i < LOCAL_BLOCKS; i++) block_free(local[i]);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------
   Mode "heaps"
--------------------------------------------------------------------------- */
#define HEAP_BLOCKS 200

static void* worker_heaps(void* arg)
{
  worker_t* w = (worker_t*)arg;
  uint64_t s = w->seed;
  void* blocks[HEAP_BLOCKS];
  long iters = w->ops / HEAP_BLOCKS + 1;

  for (long it = 0; it < iters && test_failures() == 0; it++) {
    mi_heap_t* h = mi_heap_new();
    CHECK(h != NULL);
    if (h == NULL) break;
    int use_default = (rnd(&s) % 4) == 0;
    mi_heap_t* prev = NULL;
    if (use_default) {
      prev = mi_heap_set_default(h);
      CHECK(mi_heap_get_default() == h);
    }
    for (int i = 0; i < HEAP_BLOCKS; i++) {
      size_t n = random_size(&s);
      if (n > 256 * 1024 && (rnd(&s) % 4) != 0) n = n % 4096 + 1;   /* fewer big blocks */
      void* p = use_default ? mi_malloc(n) : mi_heap_malloc(h, n);
      CHECKF(p != NULL, "heap allocation of %zu failed", n);
      if (p) {
        CHECKF(mi_heap_contains_block(h, p), "block %p not in its heap", p);
        block_fill(p);
      }
      blocks[i] = p;
      /* free some right away */
      if ((rnd(&s) % 4) == 0) {
        block_free(p);
        blocks[i] = NULL;
      }
    }
    if (use_default) mi_heap_set_default(prev);

    if ((rnd(&s) % 2) == 0) {
      /* destroy: verify, free a few individually, then drop the rest */
      for (int i = 0; i < HEAP_BLOCKS; i++) {
        if (blocks[i] == NULL) continue;
        CHECKF(block_verify(blocks[i]), "heap block %p corrupted", blocks[i]);
        if ((rnd(&s) % 3) == 0) mi_free(blocks[i]);
      }
      mi_heap_destroy(h);
    }
    else {
      /* delete: hand some blocks to other threads, keep others past the delete */
      for (int i = 0; i < HEAP_BLOCKS; i++) {
        if (blocks[i] != NULL && (rnd(&s) % 3) == 0) {
          slot_put(&s, blocks[i]);
          blocks[i] = NULL;
        }
      }
      mi_heap_delete(h);
      for (int i = 0; i < HEAP_BLOCKS; i++) block_free(blocks[i]);
    }
    /* also take something from the shared slots */
    for (int k = 0; k < 8; k++) block_free(slot_take(&s));
  }
  return NULL;
}

/* ---------------------------------------------------------------------------
   Driver
--------------------------------------------------------------------------- */
int main(int argc, char** argv)
{
  const char* mode = argc > 1 ? argv[1] : "blocks";
  int threads = argc > 2 ? atoi(argv[2]) : 8;
  int rounds = argc > 3 ? atoi(argv[3]) : 6;
  int heaps = strcmp(mode, "heaps") == 0;
  if ((!heaps && strcmp(mode, "blocks") != 0) || threads < 1 || threads > 512 || rounds < 1) {
    fprintf(stderr, "usage: %s [blocks|heaps] [threads] [rounds]\n", argv[0]);
    return 2;
  }
  ops_per_thread = test_scaled(heaps ? 6000 : 20000);
  printf("test-stress: mode %s, %d threads, %d rounds, %ld operations per thread (scale %g)\n",
         mode, threads, rounds, ops_per_thread, test_scale());
  fflush(stdout);

  worker_t* ws = (worker_t*)calloc((size_t)threads, sizeof(worker_t));
  CHECK(ws != NULL);
  if (ws == NULL) return test_report();
  uint64_t seed = 0x1234567887654321ULL;

  for (int round = 0; round < rounds && test_failures() == 0; round++) {
    for (int t = 0; t < threads; t++) {
      ws[t].seed = rnd(&seed) | 1;
      /* every fourth thread (rotating each round) is short-lived */
      ws[t].short_lived = !heaps && ((t + round) % 4 == 3);
      ws[t].ops = ws[t].short_lived ? ops_per_thread / 20 + 1 : ops_per_thread;
      int rc = pthread_create(&ws[t].thread, NULL, heaps ? worker_heaps : worker_blocks, &ws[t]);
      CHECKF(rc == 0, "pthread_create: %d", rc);
      if (rc != 0) ws[t].thread = pthread_self();
    }
    /* short-lived threads of this round exit first; start replacements for
       them while the others still run, so blocks of exited threads meet
       threads that never saw their owner alive */
    for (int t = 0; t < threads; t++) {
      if (!ws[t].short_lived || pthread_equal(ws[t].thread, pthread_self())) continue;
      pthread_join(ws[t].thread, NULL);
      ws[t].seed = rnd(&seed) | 1;
      ws[t].short_lived = 1;
      int rc = pthread_create(&ws[t].thread, NULL, worker_blocks, &ws[t]);
      CHECKF(rc == 0, "pthread_create: %d", rc);
      if (rc != 0) ws[t].thread = pthread_self();
    }
    for (int t = 0; t < threads; t++) {
      if (!pthread_equal(ws[t].thread, pthread_self())) pthread_join(ws[t].thread, NULL);
    }
    if (round == rounds / 2) mi_collect(false);
  }

  /* whatever is left in the slots (blocks of threads long gone) is freed by
     the main thread */
  size_t left = 0;
  for (size_t i = 0; i < SLOTS; i++) {
    void* p = atomic_exchange(&slots[i], NULL);
    if (p) { left++; block_free(p); }
  }
  mi_collect(true);

  /* the allocator still works normally afterwards */
  void* p = mi_malloc(1000);
  CHECK(p != NULL);
  mi_free(p);

  free(ws);
  printf("allocations %ld, frees of blocks from the shared slots %ld, left at the end %zu\n",
         atomic_load(&total_allocs), atomic_load(&total_cross_frees), left);
  CHECK(atomic_load(&total_cross_frees) > 0);
  return test_report();
}
