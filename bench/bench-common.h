/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the mica benchmarks. The benchmarks use only the
   standard malloc/free/realloc, so any allocator can be measured through
   LD_PRELOAD. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Deterministic PRNG (xorshift64*, seeded through splitmix64). */
typedef struct { uint64_t s; } bench_rng_t;

static inline void bench_rng_seed(bench_rng_t* r, uint64_t seed) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  r->s = (z != 0 ? z : 0x2545F4914F6CDD1Dull);
}

static inline uint64_t bench_rng_next(bench_rng_t* r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, n) (n > 0; the tiny modulo bias does not matter here) */
static inline uint64_t bench_rng_below(bench_rng_t* r, uint64_t n) {
  return (bench_rng_next(r) >> 11) % n;
}

/* uniform in [lo, hi] */
static inline size_t bench_rng_range(bench_rng_t* r, size_t lo, size_t hi) {
  return lo + (size_t)bench_rng_below(r, (uint64_t)(hi - lo + 1));
}

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parse a positive count such as 1000000, 1e6, 2M or 500k. */
static inline long long bench_parse_count(const char* s, const char* what) {
  char* end = NULL;
  double v = strtod(s, &end);
  if (end != NULL && (*end == 'k' || *end == 'K')) { v *= 1e3; end++; }
  else if (end != NULL && (*end == 'm' || *end == 'M')) { v *= 1e6; end++; }
  else if (end != NULL && (*end == 'g' || *end == 'G')) { v *= 1e9; end++; }
  if (end == s || *end != 0 || !(v >= 1) || v > 9e18) {
    fprintf(stderr, "invalid %s: '%s' (expected a positive count)\n", what, s);
    exit(2);
  }
  return (long long)v;
}

/* Fill a block so that its pages are touched and its contents can be checked:
   the first and last words carry `tag`, and one byte per 4 KiB page is
   written in between. */
static inline void bench_fill(void* p, size_t size, uint64_t tag) {
  unsigned char* b = (unsigned char*)p;
  if (size >= 2 * sizeof(uint64_t)) {
    memcpy(b, &tag, sizeof tag);
    memcpy(b + size - sizeof tag, &tag, sizeof tag);
    for (size_t i = 4096; i + sizeof tag < size; i += 4096) b[i] = (unsigned char)tag;
  } else {
    memset(b, (int)(tag & 0xFF), size);
  }
}

/* Check what bench_fill wrote; returns 1 when intact. */
static inline int bench_check(const void* p, size_t size, uint64_t tag) {
  const unsigned char* b = (const unsigned char*)p;
  if (size >= 2 * sizeof(uint64_t)) {
    uint64_t a, z;
    memcpy(&a, b, sizeof a);
    memcpy(&z, b + size - sizeof z, sizeof z);
    if (a != tag || z != tag) return 0;
    for (size_t i = 4096; i + sizeof tag < size; i += 4096)
      if (b[i] != (unsigned char)tag) return 0;
    return 1;
  }
  for (size_t i = 0; i < size; i++)
    if (b[i] != (unsigned char)(tag & 0xFF)) return 0;
  return 1;
}

static inline void* bench_xmalloc(size_t size) {
  void* p = malloc(size);
  if (p == NULL) {
    fprintf(stderr, "malloc(%zu) failed\n", size);
    exit(3);
  }
  return p;
}

#endif
