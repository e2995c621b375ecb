/* SPDX-License-Identifier: MIT */
/* The misuse suite (issue 14): one program per misuse of the allocator.

   Each program commits its misuse through the mi_ API (so it runs against
   any library variant, with or without the malloc override), calls
   misuse_done() (prints MISUSE_DONE on stdout), and then returns
   misuse_heap_sane(): rounds of allocations of many sizes, each filled with
   its own pattern, checked to lie in mica's heap, to be aligned, to overlap
   nothing (each other nor a block the program still holds, see
   misuse_keep) and to keep their contents. It prints MISUSE_SANE and
   returns 0, or prints MISUSE_CORRUPTED and what it saw and returns
   MISUSE_CORRUPTED_CODE. run.py classifies the outcome from that, the exit
   status and stderr, and compares it with outcomes.txt. */
#ifndef MICA_TEST_MISUSE_H
#define MICA_TEST_MISUSE_H

#include "mica.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MISUSE_CORRUPTED_CODE 3

/* The compiler must not see through the misuse (and warn, or drop it). */
static void* volatile misuse_sink_;
static inline void* misuse_opaque(void* p)
{
  misuse_sink_ = p;
  return misuse_sink_;
}

static int misuse_bad;   /* what the program's own checks saw */

#define MISUSE_EXPECT(cond) \
  do { \
    if (!(cond)) { \
      printf("MISUSE_CORRUPTED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      misuse_bad++; \
    } \
  } while (0)

static inline unsigned char misuse_pattern(size_t seed, size_t i) { return (unsigned char)(seed * 131u + i * 7u + 1u); }

static inline void misuse_fill(void* p, size_t n, size_t seed)
{
  unsigned char* b = (unsigned char*)p;
  for (size_t i = 0; i < n; i++) b[i] = misuse_pattern(seed, i);
}

static inline int misuse_intact(const void* p, size_t n, size_t seed)
{
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) {
    if (b[i] != misuse_pattern(seed, i)) return 0;
  }
  return 1;
}

/* Blocks the program still holds: checked by misuse_heap_sane. */
#define MISUSE_MAX_KEEP 16
static struct { unsigned char* p; size_t size; size_t seed; } misuse_kept[MISUSE_MAX_KEEP];
static int misuse_kept_count;

/* p (size bytes) stays live: filled now, checked intact and never handed out again. */
static inline void misuse_keep(void* p, size_t size, size_t seed)
{
  if (misuse_kept_count >= MISUSE_MAX_KEEP) abort();
  misuse_fill(p, size, seed);
  misuse_kept[misuse_kept_count].p = (unsigned char*)p;
  misuse_kept[misuse_kept_count].size = size;
  misuse_kept[misuse_kept_count].seed = seed;
  misuse_kept_count++;
}

/* A live 32-byte block, kept (misuse_keep), followed by free ones: the 7
   blocks allocated after it, freed again. Returned opaque, for the misuse. */
static inline unsigned char* misuse_live_before_free(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  for (int i = 1; i < 8; i++) mi_free(p[i]);
  misuse_keep(p[0], 32, 1);
  return (unsigned char*)misuse_opaque(p[0]);
}

/* The misuse is done: what follows is the heap's check. */
static inline void misuse_done(void)
{
  printf("MISUSE_DONE\n");
  fflush(stdout);
}

static int misuse_cmp(const void* a, const void* b)
{
  const uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x > y) - (x < y);
}

#define MISUSE_BATCH 256

static inline int misuse_heap_sane(void)
{
  static const size_t sizes[] = { 8, 16, 24, 32, 48, 64, 100, 128, 256, 1000, 4096, 20000, 70000, 600000 };
  const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
  static unsigned char* blocks[MISUSE_BATCH];
  static size_t bsize[MISUSE_BATCH];
  static uintptr_t ends[2 * (MISUSE_BATCH + MISUSE_MAX_KEEP)];
  for (int round = 0; round < 8 && misuse_bad == 0; round++) {
    size_t n = 0;
    for (size_t i = 0; i < MISUSE_BATCH; i++) {
      const size_t size = (i % 4 == 0 ? 32 : sizes[(i * 7 + (size_t)round) % nsizes]);
      unsigned char* p = (unsigned char*)mi_malloc(size);
      MISUSE_EXPECT(p != NULL);
      if (p == NULL) break;
      MISUSE_EXPECT(mi_is_in_heap_region(p));
      MISUSE_EXPECT((uintptr_t)p % sizeof(void*) == 0);
      if (misuse_bad != 0) { blocks[n] = NULL; break; }   /* not ours to write */
      misuse_fill(p, size, i + 1000 * (size_t)round);
      blocks[n] = p; bsize[n] = size; n++;
    }
    /* no two ranges overlap: sorted starts and ends must alternate */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) { ends[m++] = (uintptr_t)blocks[i] * 2 + 1; ends[m++] = ((uintptr_t)blocks[i] + bsize[i]) * 2; }
    for (int k = 0; k < misuse_kept_count; k++) {
      ends[m++] = (uintptr_t)misuse_kept[k].p * 2 + 1;
      ends[m++] = ((uintptr_t)misuse_kept[k].p + misuse_kept[k].size) * 2;
    }
    qsort(ends, m, sizeof(ends[0]), misuse_cmp);   /* an end (even) sorts before a start (odd) at the same address */
    for (size_t i = 0; i < m; i++) {
      if ((ends[i] & 1) != (i % 2 == 0 ? 1u : 0u)) { MISUSE_EXPECT(!"two blocks overlap"); break; }
    }
    for (size_t i = 0; i < n; i++) {
      MISUSE_EXPECT(misuse_intact(blocks[i], bsize[i], i + 1000 * (size_t)round));
      mi_free(blocks[i]);
    }
  }
  for (int k = 0; k < misuse_kept_count; k++) {
    MISUSE_EXPECT(misuse_intact(misuse_kept[k].p, misuse_kept[k].size, misuse_kept[k].seed));
  }
  if (misuse_bad != 0) {
    printf("MISUSE_CORRUPTED (%d findings)\n", misuse_bad);
    fflush(stdout);
    return MISUSE_CORRUPTED_CODE;
  }
  for (int k = 0; k < misuse_kept_count; k++) mi_free(misuse_kept[k].p);
  printf("MISUSE_SANE\n");
  fflush(stdout);
  return 0;
}

#endif
