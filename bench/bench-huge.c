/* SPDX-License-Identifier: MIT */
/* bench-huge: one thread replaces huge zero-initialised blocks.

   SLOTS live blocks of MIN..MAX MiB (uniform). Each step picks a random slot,
   checks and frees its block, and allocates a new one that it zeroes whole,
   as C++'s std::make_unique<char[]>(n) does (operator new, then a memset the
   compiler emits): every page of the block is written, so whether the
   allocator reuses freed memory that is still resident or maps fresh pages
   shows in the time and the page faults. The block is then tagged (first and
   last word, one byte per 4 KiB page) and checked before it is freed.

   usage: bench-huge [STEPS [SLOTS [MIN_MIB [MAX_MIB [SEED]]]]]
          (default 2000 20 5 25 42)
   Exit status 0 on success, 1 if a block was corrupted. */
#include "bench-common.h"

typedef struct {
  unsigned char* p;
  size_t size;
  uint64_t tag;
} slot_t;

int main(int argc, char** argv) {
  const long long steps = (argc > 1 ? bench_parse_count(argv[1], "STEPS") : 2000);
  const long long nslots = (argc > 2 ? bench_parse_count(argv[2], "SLOTS") : 20);
  const long long min_mib = (argc > 3 ? bench_parse_count(argv[3], "MIN_MIB") : 5);
  const long long max_mib = (argc > 4 ? bench_parse_count(argv[4], "MAX_MIB") : 25);
  const uint64_t seed = (argc > 5 ? (uint64_t)bench_parse_count(argv[5], "SEED") : 42);
  if (max_mib < min_mib) { fprintf(stderr, "MAX_MIB < MIN_MIB\n"); return 2; }
  bench_rng_t rng;
  bench_rng_seed(&rng, seed);
  slot_t* slots = (slot_t*)calloc((size_t)nslots, sizeof(slot_t));
  if (slots == NULL) { fprintf(stderr, "out of memory\n"); return 3; }
  const size_t lo = (size_t)min_mib << 20, hi = (size_t)max_mib << 20;
  double t0 = bench_now();
  uint64_t tag = 1;
  int bad = 0;
  for (long long i = 0; i < steps + nslots && !bad; i++) {
    slot_t* s = &slots[i < nslots ? i : (long long)bench_rng_below(&rng, (uint64_t)nslots)];
    if (s->p != NULL) {
      if (!bench_check(s->p, s->size, s->tag)) { fprintf(stderr, "block corrupted at step %lld\n", i); bad = 1; }
      free(s->p);
    }
    s->size = bench_rng_range(&rng, lo, hi);
    s->p = (unsigned char*)bench_xmalloc(s->size);
    memset(s->p, 0, s->size);
    s->tag = tag++;
    bench_fill(s->p, s->size, s->tag);
  }
  for (long long i = 0; i < nslots; i++) {
    if (slots[i].p != NULL && !bad && !bench_check(slots[i].p, slots[i].size, slots[i].tag)) bad = 1;
    free(slots[i].p);
  }
  free(slots);
  printf("huge: %lld steps, %lld slots of %lld-%lld MiB: %.3f s%s\n", steps, nslots, min_mib, max_mib,
         bench_now() - t0, bad ? " CORRUPTED" : "");
  return bad;
}
