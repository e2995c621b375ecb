/* SPDX-License-Identifier: MIT */
/* bench-tiny: the footprint of a small program.

   A short command-line tool allocates a few MiB in all and exits; what its
   allocator costs it is then mostly memory: metadata, what the allocator
   maps and touches up front, size-class padding. Peak RSS is the measure;
   the run takes milliseconds, so its time says little.

   The program allocates objects until KIB KiB are live, in the mix of such a
   tool: strings (60%: 8-48 B), structs and nodes (33%: 49-192 B), small
   buffers (6.5%: 193 B-2 KiB) and a few I/O buffers (0.5%: 4-64 KiB). After
   every other object it allocates and frees a short-lived temporary (16-512
   B: formatting, parsing). The table of the objects is itself a vector grown
   by realloc (doubling), as such programs grow theirs. Then it checks and
   frees every other object, then the rest, and exits. Deterministic.

   usage: bench-tiny [KIB [SEED]]   (default 3072 42)
   Exit status 0 on success, 1 if an object was corrupted. */
#include "bench-common.h"

typedef struct {
  void* p;
  size_t size;
  uint64_t tag;
} obj_t;

static size_t random_size(bench_rng_t* r) {
  uint64_t u = bench_rng_below(r, 1000);
  if (u < 600) return bench_rng_range(r, 8, 48);
  if (u < 930) return bench_rng_range(r, 49, 192);
  if (u < 995) return bench_rng_range(r, 193, 2048);
  return bench_rng_range(r, 4096, 64 << 10);
}

int main(int argc, char** argv) {
  const long long kib = (argc > 1 ? bench_parse_count(argv[1], "KIB") : 3072);
  const uint64_t seed = (argc > 2 ? (uint64_t)bench_parse_count(argv[2], "SEED") : 42);
  bench_rng_t rng;
  bench_rng_seed(&rng, seed);

  double t0 = bench_now();
  obj_t* objs = NULL;
  size_t count = 0, cap = 0, live = 0;
  int bad = 0;
  while (live < (size_t)kib << 10) {
    if (count == cap) {
      cap = (cap == 0 ? 16 : cap * 2);
      obj_t* grown = (obj_t*)realloc(objs, cap * sizeof(obj_t));
      if (grown == NULL) { fprintf(stderr, "out of memory\n"); return 3; }
      objs = grown;
    }
    obj_t* o = &objs[count];
    o->size = random_size(&rng);
    o->p = bench_xmalloc(o->size);
    o->tag = bench_rng_next(&rng);
    bench_fill(o->p, o->size, o->tag);
    live += o->size;
    if (count % 2 == 1) {
      size_t tsize = bench_rng_range(&rng, 16, 512);
      void* tmp = bench_xmalloc(tsize);
      bench_fill(tmp, tsize, (uint64_t)count);
      if (!bench_check(tmp, tsize, (uint64_t)count)) bad = 1;
      free(tmp);
    }
    count++;
  }
  for (size_t pass = 0; pass < 2; pass++) {
    for (size_t i = pass; i < count; i += 2) {
      if (!bench_check(objs[i].p, objs[i].size, objs[i].tag)) bad = 1;
      free(objs[i].p);
    }
  }
  free(objs);
  printf("tiny: %zu objects, %zu KiB live: %.4f s%s\n", count, live >> 10, bench_now() - t0,
         bad ? " CORRUPTED" : "");
  return bad;
}
