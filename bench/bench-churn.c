/* SPDX-License-Identifier: MIT */
/* bench-churn: single-threaded churn of mixed sizes.

   A working set of SLOTS live blocks; each step picks a random slot, checks
   and frees its block and allocates a block of a new random size, or (one
   step in 16) reallocates the slot's block to a new size instead. Sizes are
   power-law-ish: the size class 8<<k (k = 0..17, so up to 1 MiB) is chosen
   with probability proportional to 0.6^k, and the size is uniform within the
   class; so most blocks are small and a few are large. Every block is
   written (first and last word, one byte per 4 KiB page), so peak RSS
   reflects how well freed memory is reused. Deterministic: same seed, same
   sequence.

   usage: bench-churn [OPS [SLOTS [SEED]]]   (default 10M 10000 42)
   Exit status 0 on success, 1 if a block was corrupted. */
#include "bench-common.h"

#define MAX_CLASS 17   /* 8 << 17 = 1 MiB */

typedef struct {
  void* p;
  size_t size;
  uint64_t tag;
} slot_t;

static uint32_t class_cdf[MAX_CLASS + 1];   /* cumulative, scaled to 2^32 */

static void init_classes(void) {
  double w[MAX_CLASS + 1], sum = 0, acc = 0;
  for (int k = 0; k <= MAX_CLASS; k++) {
    w[k] = (k == 0 ? 1.0 : w[k - 1] * 0.6);
    sum += w[k];
  }
  for (int k = 0; k <= MAX_CLASS; k++) {
    acc += w[k];
    double c = acc / sum * 4294967296.0;
    class_cdf[k] = (c >= 4294967295.0 || k == MAX_CLASS) ? 0xFFFFFFFFu : (uint32_t)c;
  }
}

static size_t random_size(bench_rng_t* r) {
  uint32_t u = (uint32_t)(bench_rng_next(r) >> 32);
  int k = 0;
  while (k < MAX_CLASS && u >= class_cdf[k]) k++;
  size_t hi = (size_t)8 << k;
  size_t lo = (k == 0 ? 1 : hi / 2 + 1);
  return bench_rng_range(r, lo, hi);
}

/* realloc keeps the old contents up to the smaller size: re-tag the block */
static int check_prefix(const slot_t* s, size_t newsize) {
  size_t n = newsize < s->size ? newsize : s->size;
  if (n >= sizeof(uint64_t) && s->size >= 2 * sizeof(uint64_t)) {
    uint64_t a;
    memcpy(&a, s->p, sizeof a);
    return a == s->tag;
  }
  return 1;
}

int main(int argc, char** argv) {
  long long ops = 10000000;
  long long nslots = 10000;
  uint64_t seed = 42;
  if (argc > 1) ops = bench_parse_count(argv[1], "OPS");
  if (argc > 2) nslots = bench_parse_count(argv[2], "SLOTS");
  if (argc > 3) seed = (uint64_t)strtoull(argv[3], NULL, 0);
  init_classes();

  bench_rng_t rng;
  bench_rng_seed(&rng, seed);
  slot_t* slots = (slot_t*)calloc((size_t)nslots, sizeof(slot_t));
  if (slots == NULL) { fprintf(stderr, "out of memory\n"); return 3; }

  double t0 = bench_now();
  uint64_t tag = 0x1234;
  for (long long i = 0; i < nslots; i++) {
    slot_t* s = &slots[i];
    s->size = random_size(&rng);
    s->p = bench_xmalloc(s->size);
    s->tag = ++tag;
    bench_fill(s->p, s->size, s->tag);
  }
  long long bad = 0, reallocs = 0;
  for (long long i = 0; i < ops; i++) {
    slot_t* s = &slots[bench_rng_below(&rng, (uint64_t)nslots)];
    size_t sz = random_size(&rng);
    if ((bench_rng_next(&rng) & 15) == 0) {
      if (!check_prefix(s, sz)) bad++;
      void* q = realloc(s->p, sz);
      if (q == NULL) { fprintf(stderr, "realloc(%zu) failed\n", sz); return 3; }
      s->p = q;
      reallocs++;
    } else {
      if (!bench_check(s->p, s->size, s->tag)) bad++;
      free(s->p);
      s->p = bench_xmalloc(sz);
    }
    s->size = sz;
    s->tag = ++tag;
    bench_fill(s->p, s->size, s->tag);
  }
  size_t live = 0;
  for (long long i = 0; i < nslots; i++) {
    if (!bench_check(slots[i].p, slots[i].size, slots[i].tag)) bad++;
    live += slots[i].size;
    free(slots[i].p);
  }
  double t1 = bench_now();
  free(slots);
  printf("churn: %lld steps (%lld reallocs), %lld slots, %.1f MiB live at the end: %.3f s, %.1f M steps/s%s\n",
         ops, reallocs, nslots, (double)live / 1048576.0, t1 - t0,
         (double)ops / (t1 - t0) / 1e6, bad ? " CORRUPTED" : "");
  if (bad) {
    fprintf(stderr, "churn: %lld corrupted blocks\n", bad);
    return 1;
  }
  return 0;
}
