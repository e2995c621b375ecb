/* SPDX-License-Identifier: MIT */
/* bench-server: a server-like workload with thread turnover (in the spirit
   of the Larson server benchmark, but its own design).

   There are THREADS working sets of SLOTS long-lived blocks each. The run is
   a series of rounds; in each round THREADS worker threads are started, and
   worker i takes over working set (i + round) % THREADS, i.e. a set whose
   blocks were allocated by a different thread of an earlier round (so most
   frees are cross-thread frees, and into heaps of threads that have exited).
   A worker serves REQUESTS_PER_ROUND requests; a request allocates 1-8
   short-lived temporaries (16-512 B), writes and reads them, replaces one
   random block of its working set (80% 16-256 B, 20% up to 4 KiB) and frees
   the temporaries. Then the worker exits. Total requests are fixed.

   usage: bench-server [REQUESTS [THREADS [SLOTS]]]   (default 4M 4 2000)
   Exit status 0 on success, 1 if a block was corrupted. */
#include "bench-common.h"
#include <pthread.h>

#define REQUESTS_PER_ROUND 20000

typedef struct {
  void* p;
  uint32_t size;
  uint64_t tag;
} slot_t;

typedef struct {
  slot_t* slots;
  long long nslots;
  long long requests;
  uint64_t seed;
  long long bad;
} work_t;

static size_t set_size(bench_rng_t* r) {
  if (bench_rng_below(r, 10) < 8) return bench_rng_range(r, 16, 256);
  return bench_rng_range(r, 257, 4096);
}

static void* worker(void* arg) {
  work_t* w = (work_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, w->seed);
  void* tmp[8];
  size_t tmpsz[8];
  for (long long i = 0; i < w->requests; i++) {
    int nt = 1 + (int)bench_rng_below(&rng, 8);
    uint64_t sum = 0;
    for (int t = 0; t < nt; t++) {
      tmpsz[t] = bench_rng_range(&rng, 16, 512);
      tmp[t] = bench_xmalloc(tmpsz[t]);
      bench_fill(tmp[t], tmpsz[t], (uint64_t)i + (uint64_t)t);
    }
    slot_t* s = &w->slots[bench_rng_below(&rng, (uint64_t)w->nslots)];
    if (!bench_check(s->p, s->size, s->tag)) w->bad++;
    free(s->p);
    s->size = (uint32_t)set_size(&rng);
    s->p = bench_xmalloc(s->size);
    s->tag = bench_rng_next(&rng);
    bench_fill(s->p, s->size, s->tag);
    for (int t = 0; t < nt; t++) {
      if (!bench_check(tmp[t], tmpsz[t], (uint64_t)i + (uint64_t)t)) w->bad++;
      sum += ((unsigned char*)tmp[t])[tmpsz[t] / 2];
      free(tmp[t]);
    }
    (void)sum;
  }
  return NULL;
}

int main(int argc, char** argv) {
  long long requests = 4000000;
  long long nthreads = 4;
  long long nslots = 2000;
  if (argc > 1) requests = bench_parse_count(argv[1], "REQUESTS");
  if (argc > 2) nthreads = bench_parse_count(argv[2], "THREADS");
  if (argc > 3) nslots = bench_parse_count(argv[3], "SLOTS");
  if (nthreads > 1024) { fprintf(stderr, "at most 1024 threads\n"); return 2; }

  bench_rng_t rng;
  bench_rng_seed(&rng, 7);
  slot_t** sets = (slot_t**)bench_xmalloc(sizeof(slot_t*) * (size_t)nthreads);
  for (long long t = 0; t < nthreads; t++) {
    sets[t] = (slot_t*)bench_xmalloc(sizeof(slot_t) * (size_t)nslots);
    for (long long i = 0; i < nslots; i++) {
      slot_t* s = &sets[t][i];
      s->size = (uint32_t)set_size(&rng);
      s->p = bench_xmalloc(s->size);
      s->tag = bench_rng_next(&rng);
      bench_fill(s->p, s->size, s->tag);
    }
  }
  work_t* work = (work_t*)calloc((size_t)nthreads, sizeof(work_t));
  pthread_t* th = (pthread_t*)bench_xmalloc(sizeof(pthread_t) * (size_t)nthreads);
  if (work == NULL) { fprintf(stderr, "out of memory\n"); return 3; }

  double t0 = bench_now();
  long long per_round = REQUESTS_PER_ROUND * nthreads;
  long long rounds = (requests + per_round - 1) / per_round;
  long long left = requests, bad = 0;
  for (long long r = 0; r < rounds; r++) {
    for (long long t = 0; t < nthreads; t++) {
      long long n = left < REQUESTS_PER_ROUND ? left : REQUESTS_PER_ROUND;
      left -= n;
      work[t].slots = sets[(t + r) % nthreads];
      work[t].nslots = nslots;
      work[t].requests = n;
      work[t].seed = (uint64_t)(r * nthreads + t + 1);
      if (pthread_create(&th[t], NULL, worker, &work[t]) != 0) { perror("pthread_create"); return 3; }
    }
    for (long long t = 0; t < nthreads; t++) {
      pthread_join(th[t], NULL);
      bad += work[t].bad;
      work[t].bad = 0;
    }
  }
  for (long long t = 0; t < nthreads; t++) {
    for (long long i = 0; i < nslots; i++) {
      if (!bench_check(sets[t][i].p, sets[t][i].size, sets[t][i].tag)) bad++;
      free(sets[t][i].p);
    }
    free(sets[t]);
  }
  double t1 = bench_now();
  printf("server: %lld requests, %lld threads x %lld rounds, %lld slots per set: %.3f s, %.2f M requests/s%s\n",
         requests, nthreads, rounds, nslots, t1 - t0, (double)requests / (t1 - t0) / 1e6,
         bad ? " CORRUPTED" : "");
  free(sets);
  free(work);
  free(th);
  if (bad) {
    fprintf(stderr, "server: %lld corrupted blocks\n", bad);
    return 1;
  }
  return 0;
}
