/* SPDX-License-Identifier: MIT */
/* bench-prodcons: multi-threaded producer/consumer.

   P producer threads allocate blocks of mixed sizes (90% 16-512 B, 8% up to
   4 KiB, 2% up to 64 KiB), write a tag into each, and pass them in batches of
   BATCH pointers through bounded queues (one per consumer, mutex + condition
   variables, no spinning) to C consumer threads, which check the tag and
   free the block: nearly every free is a cross-thread free. The total number
   of blocks (= malloc/free pairs) is fixed, so the run time measures the
   allocator (plus a constant queue overhead).

   usage: bench-prodcons [OPS [PRODUCERS [CONSUMERS]]]   (default 4M 2 2)
   Exit status 0 on success, 1 if a block was corrupted. */
#include "bench-common.h"
#include <pthread.h>

#define BATCH 64       /* blocks per queue transfer */
#define QCAP  16       /* batches per queue */

typedef struct {
  int n;                      /* number of blocks; 0 = stop */
  void* p[BATCH];
  uint32_t size[BATCH];
  uint64_t tag[BATCH];
} batch_t;

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  unsigned head, count;
  batch_t slot[QCAP];
} queue_t;

static queue_t* queues;
static int nproducers = 2, nconsumers = 2;
static long long total_ops = 4000000;
static long long corrupted = 0;
static pthread_mutex_t corrupted_lock = PTHREAD_MUTEX_INITIALIZER;

static void queue_init(queue_t* q) {
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->not_full, NULL);
  q->head = q->count = 0;
}

static void queue_push(queue_t* q, const batch_t* b) {
  pthread_mutex_lock(&q->lock);
  while (q->count == QCAP) pthread_cond_wait(&q->not_full, &q->lock);
  q->slot[(q->head + q->count) % QCAP] = *b;
  q->count++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->lock);
}

static void queue_pop(queue_t* q, batch_t* b) {
  pthread_mutex_lock(&q->lock);
  while (q->count == 0) pthread_cond_wait(&q->not_empty, &q->lock);
  *b = q->slot[q->head];
  q->head = (q->head + 1) % QCAP;
  q->count--;
  pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->lock);
}

static size_t block_size(bench_rng_t* r) {
  uint64_t k = bench_rng_below(r, 100);
  if (k < 90) return bench_rng_range(r, 16, 512);
  if (k < 98) return bench_rng_range(r, 513, 4096);
  return bench_rng_range(r, 4097, 65536);
}

static void* producer(void* arg) {
  int id = (int)(intptr_t)arg;
  long long ops = total_ops / nproducers + (id < total_ops % nproducers ? 1 : 0);
  bench_rng_t rng;
  bench_rng_seed(&rng, 1000 + (uint64_t)id);
  batch_t b;
  b.n = 0;
  long long sent = 0;
  for (long long i = 0; i < ops; i++) {
    size_t sz = block_size(&rng);
    void* p = bench_xmalloc(sz);
    uint64_t tag = ((uint64_t)id << 48) ^ (uint64_t)i ^ 0x5A5A000000000000ull;
    bench_fill(p, sz, tag);
    b.p[b.n] = p;
    b.size[b.n] = (uint32_t)sz;
    b.tag[b.n] = tag;
    b.n++;
    if (b.n == BATCH || i + 1 == ops) {
      /* spread the batches of every producer over all consumers */
      queue_push(&queues[(id + sent) % nconsumers], &b);
      sent++;
      b.n = 0;
    }
  }
  return NULL;
}

static void* consumer(void* arg) {
  queue_t* q = &queues[(intptr_t)arg];
  batch_t b;
  long long bad = 0;
  for (;;) {
    queue_pop(q, &b);
    if (b.n == 0) break;
    for (int i = 0; i < b.n; i++) {
      if (!bench_check(b.p[i], b.size[i], b.tag[i])) bad++;
      free(b.p[i]);
    }
  }
  if (bad != 0) {
    pthread_mutex_lock(&corrupted_lock);
    corrupted += bad;
    pthread_mutex_unlock(&corrupted_lock);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) total_ops = bench_parse_count(argv[1], "OPS");
  if (argc > 2) nproducers = (int)bench_parse_count(argv[2], "PRODUCERS");
  if (argc > 3) nconsumers = (int)bench_parse_count(argv[3], "CONSUMERS");
  if (nproducers > 256 || nconsumers > 256) {
    fprintf(stderr, "at most 256 producers and 256 consumers\n");
    return 2;
  }
  queues = (queue_t*)bench_xmalloc(sizeof(queue_t) * (size_t)nconsumers);
  for (int i = 0; i < nconsumers; i++) queue_init(&queues[i]);

  double t0 = bench_now();
  pthread_t* pt = (pthread_t*)bench_xmalloc(sizeof(pthread_t) * (size_t)(nproducers + nconsumers));
  for (int i = 0; i < nconsumers; i++)
    if (pthread_create(&pt[nproducers + i], NULL, consumer, (void*)(intptr_t)i) != 0) { perror("pthread_create"); return 3; }
  for (int i = 0; i < nproducers; i++)
    if (pthread_create(&pt[i], NULL, producer, (void*)(intptr_t)i) != 0) { perror("pthread_create"); return 3; }
  for (int i = 0; i < nproducers; i++) pthread_join(pt[i], NULL);
  batch_t stop;
  stop.n = 0;
  for (int i = 0; i < nconsumers; i++) queue_push(&queues[i], &stop);
  for (int i = 0; i < nconsumers; i++) pthread_join(pt[nproducers + i], NULL);
  double t1 = bench_now();

  printf("prodcons: %lld blocks, %d producers, %d consumers: %.3f s, %.1f M pairs/s%s\n",
         total_ops, nproducers, nconsumers, t1 - t0, (double)total_ops / (t1 - t0) / 1e6,
         corrupted ? " CORRUPTED" : "");
  free(pt);
  free(queues);
  if (corrupted) {
    fprintf(stderr, "prodcons: %lld corrupted blocks\n", corrupted);
    return 1;
  }
  return 0;
}
