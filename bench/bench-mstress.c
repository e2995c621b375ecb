/* SPDX-License-Identifier: MIT */
/* bench-mstress: many threads allocating and freeing short-lived objects at
   once, with cross-thread frees and thread turnover (in the spirit of
   mimalloc-bench's "stress" test, but its own design).

   THREADS lanes run side by side (more lanes than CPUs is fine: threads are
   then descheduled in the middle of allocator work). Each lane owns SLOTS
   local slots, and all lanes share SLOTS shared slots, each with a mutex.
   One iteration of a lane's thread picks a random local slot and
     - 65%: replaces its object: checks and frees the old one (if any) and
       allocates a new one (1 in 8 with calloc, checked to be zeroed);
     - 15%: checks and frees its object, leaving the slot empty;
     - 20%: swaps its object with a random shared slot's; the object given
       away may be freed by another thread, the one taken may have been
       allocated by another thread: about one free in twelve is of an object
       that another thread allocated.
   Sizes: 60% 8-128 B, 30% 129-512 B, 9% 513-1024 B, 0.9% 1-32 KiB and 0.1%
   32-256 KiB.
   A lane's thread lives for a random 0.5-1.5 x LIFE iterations; then it frees
   about half of its local objects and exits, and the main thread starts a
   fresh thread for the lane, which inherits the other half: objects of an
   exited thread, freed by its successor (and, through the shared slots, by
   any thread). Lives end at different times, so turnover is continuous.
   ITERATIONS in all are split evenly over the lanes. Each thread has a
   deterministic PRNG; the interleaving of threads is not deterministic.

   usage: bench-mstress [ITERATIONS [THREADS [LIFE [SLOTS]]]]
          (default 20M 4 20000 500)
   Exit status 0 on success, 1 if an object was corrupted. */
#include "bench-common.h"
#include <pthread.h>

#define MAX_THREADS 256

typedef struct {
  void* p;          /* NULL: empty */
  size_t size;
  uint64_t tag;     /* what bench_fill wrote */
} obj_t;

typedef struct {
  pthread_mutex_t lock;
  obj_t o;
} shared_t;

typedef struct {
  int idx;
  obj_t* local;             /* SLOTS objects, handed from thread to thread */
  long long left;           /* iterations the lane has still to run */
  long long life;           /* iterations of its current thread */
  uint64_t gen;             /* threads the lane has started so far */
  long long bad;
  pthread_t th;
} lane_t;

static shared_t* shared;
static long long nslots;

/* Finished lanes, for the main thread to join and restart. Each lane is in
   it at most once, so MAX_THREADS entries suffice. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_lane[MAX_THREADS];
static int done_count;

static size_t random_size(bench_rng_t* r) {
  uint64_t u = bench_rng_below(r, 1000);
  if (u < 600) return bench_rng_range(r, 8, 128);
  if (u < 900) return bench_rng_range(r, 129, 512);
  if (u < 990) return bench_rng_range(r, 513, 1024);
  if (u < 999) return bench_rng_range(r, 1025, 32 << 10);
  return bench_rng_range(r, (32 << 10) + 1, 256 << 10);
}

static int is_zero(const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return 0;
  return 1;
}

/* check and free an object (if any), leaving it empty */
static void drop(lane_t* l, obj_t* o) {
  if (o->p == NULL) return;
  if (!bench_check(o->p, o->size, o->tag)) l->bad++;
  free(o->p);
  o->p = NULL;
}

static void* lane_thread(void* arg) {
  lane_t* l = (lane_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, ((uint64_t)l->idx << 32) + l->gen);
  for (long long i = 0; i < l->life; i++) {
    obj_t* o = &l->local[bench_rng_below(&rng, (uint64_t)nslots)];
    uint64_t op = bench_rng_below(&rng, 100);
    if (op < 65) {
      drop(l, o);
      o->size = random_size(&rng);
      int zeroed = (bench_rng_below(&rng, 8) == 0);
      o->p = (zeroed ? calloc(1, o->size) : malloc(o->size));
      if (o->p == NULL) {
        fprintf(stderr, "allocation of %zu bytes failed\n", o->size);
        exit(3);
      }
      if (zeroed && !is_zero(o->p, o->size)) l->bad++;
      o->tag = bench_rng_next(&rng);
      bench_fill(o->p, o->size, o->tag);
    } else if (op < 80) {
      drop(l, o);
    } else {
      shared_t* s = &shared[bench_rng_below(&rng, (uint64_t)nslots)];
      pthread_mutex_lock(&s->lock);
      obj_t t = s->o;
      s->o = *o;
      *o = t;
      pthread_mutex_unlock(&s->lock);
    }
  }
  /* leave about half of the objects to the lane's next thread */
  for (long long k = 0; k < nslots; k++)
    if (bench_rng_below(&rng, 2) == 0) drop(l, &l->local[k]);

  pthread_mutex_lock(&done_lock);
  done_lane[done_count++] = l->idx;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&done_lock);
  return NULL;
}

/* start the lane's next thread, for a random 0.5-1.5 x life_mean iterations */
static void lane_start(lane_t* l, long long life_mean, bench_rng_t* rng) {
  long long life = life_mean / 2 + (long long)bench_rng_below(rng, (uint64_t)life_mean + 1);
  l->life = (life < l->left ? life : l->left);
  l->left -= l->life;
  l->gen++;
  int err = pthread_create(&l->th, NULL, lane_thread, l);
  if (err != 0) {
    fprintf(stderr, "pthread_create: %s\n", strerror(err));
    exit(3);
  }
}

int main(int argc, char** argv) {
  const long long iters = (argc > 1 ? bench_parse_count(argv[1], "ITERATIONS") : 20000000);
  const long long nthreads = (argc > 2 ? bench_parse_count(argv[2], "THREADS") : 4);
  const long long life_mean = (argc > 3 ? bench_parse_count(argv[3], "LIFE") : 20000);
  nslots = (argc > 4 ? bench_parse_count(argv[4], "SLOTS") : 500);
  if (nthreads > MAX_THREADS) { fprintf(stderr, "at most %d threads\n", MAX_THREADS); return 2; }

  shared = (shared_t*)calloc((size_t)nslots, sizeof(shared_t));
  lane_t* lanes = (lane_t*)calloc((size_t)nthreads, sizeof(lane_t));
  if (shared == NULL || lanes == NULL) { fprintf(stderr, "out of memory\n"); return 3; }
  for (long long k = 0; k < nslots; k++) pthread_mutex_init(&shared[k].lock, NULL);
  for (long long t = 0; t < nthreads; t++) {
    lanes[t].idx = (int)t;
    lanes[t].left = iters / nthreads + (t < iters % nthreads ? 1 : 0);
    lanes[t].local = (obj_t*)calloc((size_t)nslots, sizeof(obj_t));
    if (lanes[t].local == NULL) { fprintf(stderr, "out of memory\n"); return 3; }
  }
  bench_rng_t rng;   /* the lives' lengths */
  bench_rng_seed(&rng, 42);

  double t0 = bench_now();
  long long running = 0, started = 0;
  for (long long t = 0; t < nthreads; t++) {
    if (lanes[t].left == 0) continue;
    lane_start(&lanes[t], life_mean, &rng);
    running++;
    started++;
  }
  while (running > 0) {
    pthread_mutex_lock(&done_lock);
    while (done_count == 0) pthread_cond_wait(&done_cond, &done_lock);
    lane_t* l = &lanes[done_lane[--done_count]];
    pthread_mutex_unlock(&done_lock);
    pthread_join(l->th, NULL);
    if (l->left > 0) {
      lane_start(l, life_mean, &rng);
      started++;
    } else {
      running--;
    }
  }

  long long bad = 0;
  for (long long t = 0; t < nthreads; t++) {
    for (long long k = 0; k < nslots; k++) drop(&lanes[t], &lanes[t].local[k]);
    bad += lanes[t].bad;
    free(lanes[t].local);
  }
  lane_t cleanup = { .bad = 0 };
  for (long long k = 0; k < nslots; k++) {
    drop(&cleanup, &shared[k].o);
    pthread_mutex_destroy(&shared[k].lock);
  }
  bad += cleanup.bad;
  double t1 = bench_now();
  printf("mstress: %lld iterations, %lld threads at a time, %lld threads in all, %lld slots: %.3f s, %.2f M iterations/s%s\n",
         iters, nthreads, started, nslots, t1 - t0, (double)iters / (t1 - t0) / 1e6, bad ? " CORRUPTED" : "");
  free(shared);
  free(lanes);
  if (bad) {
    fprintf(stderr, "mstress: %lld corrupted objects\n", bad);
    return 1;
  }
  return 0;
}
