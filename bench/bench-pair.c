/* SPDX-License-Identifier: MIT */
/* bench-pair: the cost of one malloc + free pair of a 64-byte block, for
   instruction counting with callgrind:

     valgrind --tool=callgrind --toggle-collect=measured_loop \
              ./bench-pair batch 1000000

   Two patterns:
     batch  allocate 64 blocks, then free those 64; repeat.
     churn  64 live blocks in rotation: free the oldest, allocate a new one;
            repeat.
   PAIRS malloc+free pairs run in measured_loop() (not inlined, so callgrind
   can count it alone), after a warm-up of the same pattern that initialises
   the allocator and its thread state. Each block is written once (a volatile
   store, so the compiler cannot drop the malloc/free pair). The program
   prints the number of pairs measured; instructions per pair = Ir of
   measured_loop (inclusive) / pairs, loop overhead included.

   usage: bench-pair batch|churn [PAIRS]   (default 1000000) */
#include "bench-common.h"

#define N 64
#define SIZE 64

static void* live[N];

static __attribute__((noinline)) void run_batch(long long rounds) {
  for (long long r = 0; r < rounds; r++) {
    for (int i = 0; i < N; i++) {
      void* p = malloc(SIZE);
      *(volatile char*)p = (char)i;
      live[i] = p;
    }
    for (int i = 0; i < N; i++) free(live[i]);
  }
}

/* `live` holds N blocks on entry and on exit */
static __attribute__((noinline)) void run_churn(long long pairs) {
  int k = 0;
  for (long long r = 0; r < pairs; r++) {
    free(live[k]);
    void* p = malloc(SIZE);
    *(volatile char*)p = (char)r;
    live[k] = p;
    k = (k + 1) & (N - 1);
  }
}

static int churn_mode;

/* The measured part: exactly `pairs` malloc+free pairs. */
__attribute__((noinline)) void measured_loop(long long pairs);
__attribute__((noinline)) void measured_loop(long long pairs) {
  if (churn_mode) run_churn(pairs);
  else run_batch(pairs / N);
}

int main(int argc, char** argv) {
  if (argc < 2 || (strcmp(argv[1], "batch") != 0 && strcmp(argv[1], "churn") != 0)) {
    fprintf(stderr, "usage: %s batch|churn [PAIRS]\n", argv[0]);
    return 2;
  }
  churn_mode = (strcmp(argv[1], "churn") == 0);
  long long pairs = 1000000;
  if (argc > 2) pairs = bench_parse_count(argv[2], "PAIRS");
  if (!churn_mode) pairs = (pairs + N - 1) / N * N;   /* whole batches */

  /* warm-up: same pattern, 1/10 of the pairs (at least 64 rounds) */
  long long warm = pairs / 10 < 64 * N ? 64 * N : pairs / 10;
  if (churn_mode) {
    for (int i = 0; i < N; i++) live[i] = bench_xmalloc(SIZE);
    run_churn(warm);
  } else {
    run_batch(warm / N);
  }

  double t0 = bench_now();
  measured_loop(pairs);
  double t1 = bench_now();

  if (churn_mode)
    for (int i = 0; i < N; i++) free(live[i]);
  printf("pairs %lld\n", pairs);
  printf("pair-%s: %.2f ns per malloc+free pair\n", argv[1], (t1 - t0) * 1e9 / (double)pairs);
  return 0;
}
