/* SPDX-License-Identifier: MIT */
/* bench-objects: the footprint of many small live objects.

   Builds COUNT live objects with sizes uniform in [MIN, MAX] (the shape of a
   program's nodes, strings and small structs), frees every other one and
   allocates as many again, then checks and frees all. Peak RSS is the
   measure: it shows what size classes cost in padding (with 16-byte
   alignment, 17-24 byte requests take 32-byte blocks). Deterministic.

   usage: bench-objects [COUNT [MIN [MAX [SEED]]]]   (default 4M 1 128 42)
   Exit status 0 on success, 1 if an object was corrupted. */
#include "bench-common.h"

int main(int argc, char** argv) {
  const long long count = (argc > 1 ? bench_parse_count(argv[1], "COUNT") : 4000000);
  const size_t min = (argc > 2 ? (size_t)bench_parse_count(argv[2], "MIN") : 1);
  const size_t max = (argc > 3 ? (size_t)bench_parse_count(argv[3], "MAX") : 128);
  const uint64_t seed = (argc > 4 ? (uint64_t)bench_parse_count(argv[4], "SEED") : 42);
  if (max < min) { fprintf(stderr, "MAX < MIN\n"); return 2; }
  bench_rng_t rng;
  bench_rng_seed(&rng, seed);
  void** obj = malloc((size_t)count * sizeof(void*));
  size_t* size = malloc((size_t)count * sizeof(size_t));
  if (obj == NULL || size == NULL) { fprintf(stderr, "out of memory\n"); return 2; }
  double t0 = bench_now();
  for (long long i = 0; i < count; i++) {
    size[i] = bench_rng_range(&rng, min, max);
    obj[i] = malloc(size[i]);
    if (obj[i] == NULL) { fprintf(stderr, "out of memory\n"); return 2; }
    bench_fill(obj[i], size[i], (uint64_t)i);
  }
  for (long long i = 0; i < count; i += 2) free(obj[i]);
  for (long long i = 0; i < count; i += 2) {
    size[i] = bench_rng_range(&rng, min, max);
    obj[i] = malloc(size[i]);
    if (obj[i] == NULL) { fprintf(stderr, "out of memory\n"); return 2; }
    bench_fill(obj[i], size[i], (uint64_t)i);
  }
  int bad = 0;
  for (long long i = 0; i < count; i++) {
    if (!bench_check(obj[i], size[i], (uint64_t)i)) bad = 1;
    free(obj[i]);
  }
  printf("objects: %lld of %zu-%zu bytes in %.3f s%s\n", count, min, max, bench_now() - t0, bad ? " (CORRUPTED)" : "");
  free(obj);
  free(size);
  return bad;
}
