/* SPDX-License-Identifier: MIT */
/* bench-threadchurn: many short-lived threads, each leaving a block behind.

   THREADS threads run one after another, at most ALIVE at a time: before it
   starts thread i, the main thread joins thread i - ALIVE. Thread i callocs
   one SIZE-byte object, checks that it is zeroed, fills it with a pattern of
   its own and leaves it in slot i % SLOTS of a shared array, where it
   outlives the thread; first it checks and frees the object that thread
   i - SLOTS left in that slot. Since SLOTS >= ALIVE, that thread has been
   joined before thread i started, so every free is of a block whose thread
   has exited (and the join/create pair orders the slot's accesses: no lock
   is needed). An allocator with per-thread heaps pays here for setting up a
   heap for each thread, for what an exiting thread does with memory that
   still holds a live block, and for taking that memory back later.

   usage: bench-threadchurn [THREADS [ALIVE [SLOTS [SIZE]]]]
          (default 10000 10 100 128)
   Exit status 0 on success, 1 if an object was corrupted. */
#include "bench-common.h"
#include <pthread.h>

typedef struct {
  unsigned char* p;         /* the object, or NULL */
  long long owner;          /* index of the thread that allocated it */
} slot_t;

static slot_t* slots;
static long long nslots;
static size_t objsize = 128;
static long long* bad;      /* per thread: 1 if it found a corrupted object */

/* Every byte depends on the owner and the offset, so a stray write anywhere
   in the object (a free-list link, a neighbour's overflow) is caught. */
static unsigned char pattern(long long owner, size_t i) {
  return (unsigned char)((uint64_t)owner * 131u + i * 7u + 1u);
}

static void* thread_main(void* arg) {
  const long long self = (long long)(intptr_t)arg;
  slot_t* s = &slots[self % nslots];
  if (s->p != NULL) {
    for (size_t i = 0; i < objsize; i++)
      if (s->p[i] != pattern(s->owner, i)) { bad[self] = 1; break; }
    free(s->p);
  }
  unsigned char* p = (unsigned char*)calloc(1, objsize);
  if (p == NULL) {
    fprintf(stderr, "calloc(1, %zu) failed\n", objsize);
    exit(3);
  }
  for (size_t i = 0; i < objsize; i++) {
    if (p[i] != 0) bad[self] = 1;
    p[i] = pattern(self, i);
  }
  s->p = p;
  s->owner = self;
  return NULL;
}

int main(int argc, char** argv) {
  const long long nthreads = (argc > 1 ? bench_parse_count(argv[1], "THREADS") : 10000);
  const long long alive = (argc > 2 ? bench_parse_count(argv[2], "ALIVE") : 10);
  nslots = (argc > 3 ? bench_parse_count(argv[3], "SLOTS") : 100);
  if (argc > 4) objsize = (size_t)bench_parse_count(argv[4], "SIZE");
  if (nslots < alive) { fprintf(stderr, "SLOTS must be at least ALIVE\n"); return 2; }
  if (alive > 1024) { fprintf(stderr, "at most 1024 threads alive\n"); return 2; }

  slots = (slot_t*)calloc((size_t)nslots, sizeof(slot_t));
  bad = (long long*)calloc((size_t)nthreads, sizeof(long long));
  pthread_t* th = (pthread_t*)calloc((size_t)alive, sizeof(pthread_t));
  if (slots == NULL || bad == NULL || th == NULL) { fprintf(stderr, "out of memory\n"); return 3; }

  double t0 = bench_now();
  for (long long i = 0; i < nthreads; i++) {
    pthread_t* t = &th[i % alive];
    if (i >= alive) pthread_join(*t, NULL);   /* thread i - alive */
    int err = pthread_create(t, NULL, thread_main, (void*)(intptr_t)i);
    if (err != 0) { fprintf(stderr, "pthread_create: %s\n", strerror(err)); return 3; }
  }
  for (long long i = (nthreads > alive ? nthreads - alive : 0); i < nthreads; i++)
    pthread_join(th[i % alive], NULL);

  long long nbad = 0;
  for (long long i = 0; i < nthreads; i++) nbad += bad[i];
  for (long long k = 0; k < nslots; k++) {
    slot_t* s = &slots[k];
    if (s->p == NULL) continue;
    for (size_t i = 0; i < objsize; i++)
      if (s->p[i] != pattern(s->owner, i)) { nbad++; break; }
    free(s->p);
  }
  double t1 = bench_now();
  printf("threadchurn: %lld threads (at most %lld alive), %lld slots of %zu B: %.3f s, %.1f k threads/s%s\n",
         nthreads, alive, nslots, objsize, t1 - t0, (double)nthreads / (t1 - t0) / 1e3,
         nbad ? " CORRUPTED" : "");
  free(slots);
  free(bad);
  free(th);
  if (nbad) {
    fprintf(stderr, "threadchurn: %lld corrupted objects\n", nbad);
    return 1;
  }
  return 0;
}
