/* SPDX-License-Identifier: MIT */
/* Many short-lived threads: 100,000 (scaled) created and joined in turn,
   each allocating; some leave blocks behind that later threads free (and
   some end with pthread_exit holding live blocks, some are detached).
   mica's committed memory and the process's resident memory must stay
   bounded: no per-thread metadata may leak. With MICA_TEST_NO_RSS=1 only
   mica's own figure is checked: there the process's RSS is dominated by a
   runtime's own memory (qemu-user keeps about 1 MiB per exited thread,
   ASan its quarantine and shadow).
   usage: test-threads [THREADS]   (default 100000, scaled by MICA_TEST_SCALE)
   Prints "N passed, N failed". */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mica.h"
#include "test.h"

#define SLOTS 256
static _Atomic(void*) slots[SLOTS];
static atomic_long detached_done;

static void* thread_main(void* arg) {
  const uintptr_t n = (uintptr_t)arg;
  void* mine[8];
  for (int i = 0; i < 8; i++) {
    mine[i] = mi_malloc(16 + (n * 31 + (uintptr_t)i * 7) % 3000);
    if (mine[i] != NULL) memset(mine[i], (int)(n & 0xff), 16);
  }
  /* hand one block over; free what the previous owner of the slot left */
  void* old = atomic_exchange(&slots[n % SLOTS], mine[0]);
  if (old != NULL) mi_free(old);
  for (int i = 1; i < 8; i++) mi_free(mine[i]);
  if (n % 3 == 0) {
    void* keep = mi_malloc(100);   /* live at pthread_exit: freed by a later thread */
    old = atomic_exchange(&slots[(n + 7) % SLOTS], keep);
    if (old != NULL) mi_free(old);
    pthread_exit(NULL);
  }
  return NULL;
}

static void* detached_main(void* arg) {
  void* p = mi_malloc(64 + (uintptr_t)arg % 1000);
  void* old = atomic_exchange(&slots[(uintptr_t)arg % SLOTS], p);
  if (old != NULL) mi_free(old);
  atomic_fetch_add(&detached_done, 1);
  return NULL;
}

static size_t rss_now(void) {
  size_t rss = 0;
  mi_process_info(NULL, NULL, NULL, &rss, NULL, NULL, NULL, NULL);
  return rss;
}

static size_t committed_now(void) {
  size_t commit = 0;
  mi_process_info(NULL, NULL, NULL, NULL, NULL, &commit, NULL, NULL);
  return commit;
}

int main(int argc, char** argv) {
  const long total = test_scaled(argc > 1 ? atol(argv[1]) : 100000);
  const char* no_rss = getenv("MICA_TEST_NO_RSS");
  size_t rss_early = 0, commit_early = 0;
  for (long n = 0; n < total; n++) {
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, (void*)(uintptr_t)n) != 0) { CHECKF(0, "pthread_create failed at %ld", n); break; }
    pthread_join(t, NULL);
    if (n == total / 10) { mi_collect(false); rss_early = rss_now(); commit_early = committed_now(); }
  }
  /* bounds after the joined threads (all of them have fully exited) */
  mi_collect(false);
  const size_t rss_end = rss_now();
  const size_t commit_end = committed_now();
  printf("threads: %ld joined; after 10%%: rss %zu KiB, mica %zu KiB; at the end: rss %zu KiB, mica %zu KiB\n",
         total, rss_early / 1024, commit_early / 1024, rss_end / 1024, commit_end / 1024);
  CHECKF(commit_end <= commit_early + (16u << 20), "mica's committed memory grew from %zu KiB to %zu KiB over %ld threads",
         commit_early / 1024, commit_end / 1024, total);
  if (no_rss == NULL || strcmp(no_rss, "1") != 0) {
    CHECKF(rss_end <= rss_early + (16u << 20), "rss grew from %zu KiB to %zu KiB over %ld threads",
           rss_early / 1024, rss_end / 1024, total);
  }
  /* detached threads, many alive at once: they must all complete */
  long detached = test_scaled(1000);
  for (long n = 0; n < detached; n++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    CHECK(pthread_create(&t, &attr, detached_main, (void*)(uintptr_t)n) == 0);
    pthread_attr_destroy(&attr);
  }
  while (atomic_load(&detached_done) < detached) sched_yield();
  for (int i = 0; i < SLOTS; i++) mi_free(atomic_exchange(&slots[i], NULL));
  return test_report();
}
