/* SPDX-License-Identifier: MIT */
/* test-thread-id: the thread identity that decides "local or cross-thread
   free", and the two free paths that depend on it.

   Built twice: against the default library, and against the variant built
   with MI_THREAD_ID_TLS=1 (then compiled with EXPECT_ID_SOURCE=0, so the
   variant must really take its id from a thread-local address).

   1. mi_thread_id() is non-zero, stable within a thread, and unique among
      simultaneously live threads (32 threads hold their id across a barrier).
   2. Cross-thread free: thread A allocates blocks, thread B frees them, then A
      allocates again: the blocks come back to A (they were returned to A's
      pages, not to B's) and nothing is handed out twice.
   3. Local free: after a thread frees blocks of a page it owns, its next
      allocations of that size reuse them. */
#define _POSIX_C_SOURCE 200809L
#include "mica.h"
#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 32

static pthread_barrier_t barrier;
static uintptr_t ids[NTHREADS];
static int stable[NTHREADS];

static void* id_thread(void* arg)
{
  size_t i = (size_t)(uintptr_t)arg;
  uintptr_t id = mi_thread_id();
  /* allocating in between must not change the id */
  void* p = mi_malloc(100);
  mi_free(p);
  stable[i] = (mi_thread_id() == id);
  ids[i] = id;
  /* all threads are alive at this point, so their ids must differ */
  pthread_barrier_wait(&barrier);
  stable[i] = stable[i] && (mi_thread_id() == id);
  pthread_barrier_wait(&barrier);
  return NULL;
}

static int cmp_id(const void* a, const void* b)
{
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return x < y ? -1 : x > y;
}

static void test_ids(void)
{
  uintptr_t main_id = mi_thread_id();
  CHECK(main_id != 0);
  CHECK(mi_thread_id() == main_id);

  pthread_t th[NTHREADS];
  CHECK(pthread_barrier_init(&barrier, NULL, NTHREADS) == 0);
  for (size_t i = 0; i < NTHREADS; i++) {
    int rc = pthread_create(&th[i], NULL, id_thread, (void*)(uintptr_t)i);
    CHECKF(rc == 0, "pthread_create: %d", rc);
    if (rc != 0) return;   /* the barrier would never open */
  }
  for (size_t i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&barrier);

  uintptr_t sorted[NTHREADS + 1];
  for (size_t i = 0; i < NTHREADS; i++) {
    CHECKF(ids[i] != 0, "thread %zu: mi_thread_id() == 0", i);
    CHECKF(stable[i], "thread %zu: mi_thread_id() changed within the thread", i);
    sorted[i] = ids[i];
  }
  sorted[NTHREADS] = main_id;
  qsort(sorted, NTHREADS + 1, sizeof sorted[0], cmp_id);
  int dups = 0;
  for (size_t i = 1; i <= NTHREADS; i++) {
    if (sorted[i] == sorted[i - 1]) dups++;
  }
  CHECKF(dups == 0, "%d duplicate thread ids among %d live threads", dups, NTHREADS + 1);
}

/* --- cross-thread free -------------------------------------------------- */
#define XN 4000
#define XSIZE 64
static void* xblocks[XN];

static void* free_thread(void* arg)
{
  (void)arg;
  for (size_t i = 0; i < XN; i++) {
    if (i % 100 == 0) continue;   /* the owner keeps these, so its pages stay live */
    mi_free(xblocks[i]);
  }
  return NULL;
}

static int cmp_ptr(const void* a, const void* b)
{
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

static size_t count_reused(void** before, size_t nbefore, void** after, size_t nafter)
{
  /* before must be sorted */
  size_t n = 0;
  for (size_t i = 0; i < nafter; i++) {
    if (bsearch(&after[i], before, nbefore, sizeof(void*), cmp_ptr) != NULL) n++;
  }
  return n;
}

static int all_distinct(void** v, size_t n)
{
  void** c = (void**)malloc(n * sizeof(void*));
  if (c == NULL) return 0;
  memcpy(c, v, n * sizeof(void*));
  qsort(c, n, sizeof(void*), cmp_ptr);
  int ok = 1;
  for (size_t i = 1; i < n; i++) {
    if (c[i] == c[i - 1]) ok = 0;
  }
  free(c);
  return ok;
}

static void test_cross_thread_free(void)
{
  for (size_t i = 0; i < XN; i++) {
    xblocks[i] = mi_malloc(XSIZE);
    CHECK(xblocks[i] != NULL);
    if (xblocks[i]) memset(xblocks[i], 0x11, XSIZE);
  }
  CHECK(all_distinct(xblocks, XN));

  static void* freed[XN];
  size_t nfreed = 0;
  for (size_t i = 0; i < XN; i++) {
    if (i % 100 != 0) freed[nfreed++] = xblocks[i];
  }
  qsort(freed, nfreed, sizeof(void*), cmp_ptr);

  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_thread, NULL) == 0);
  pthread_join(t, NULL);

  /* the owner allocates the same size again */
  static void* again[XN];
  size_t nagain = nfreed;
  for (size_t i = 0; i < nagain; i++) {
    again[i] = mi_malloc(XSIZE);
    CHECK(again[i] != NULL);
    if (again[i]) memset(again[i], 0x22, XSIZE);
  }
  /* the kept blocks are untouched */
  int kept_ok = 1;
  for (size_t i = 0; i < XN; i += 100) {
    const unsigned char* b = (const unsigned char*)xblocks[i];
    for (size_t j = 0; j < XSIZE; j++) {
      if (b[j] != 0x11) kept_ok = 0;
    }
  }
  CHECKF(kept_ok, "blocks kept by the owner were overwritten");
  /* nothing handed out twice: new blocks distinct from each other and from the kept ones */
  static void* all[2 * XN];
  size_t nall = 0;
  for (size_t i = 0; i < nagain; i++) all[nall++] = again[i];
  for (size_t i = 0; i < XN; i += 100) all[nall++] = xblocks[i];
  CHECKF(all_distinct(all, nall), "a block was handed out twice after cross-thread frees");
  size_t reused = count_reused(freed, nfreed, again, nagain);
  printf("cross-thread free: %zu of %zu blocks freed by another thread were reused by the owner\n", reused, nfreed);
  CHECKF(reused >= nfreed / 2, "only %zu of %zu blocks freed by another thread came back to the owner", reused, nfreed);

  for (size_t i = 0; i < nagain; i++) mi_free(again[i]);
  for (size_t i = 0; i < XN; i += 100) mi_free(xblocks[i]);
}

/* --- the same from a thread other than main, freed by main -------------- */
static void* owner_thread(void* arg)
{
  (void)arg;
  for (size_t i = 0; i < XN; i++) xblocks[i] = mi_malloc(XSIZE);
  return NULL;
}

static void test_free_after_owner_exit(void)
{
  pthread_t t;
  CHECK(pthread_create(&t, NULL, owner_thread, NULL) == 0);
  pthread_join(t, NULL);
  int ok = 1;
  for (size_t i = 0; i < XN; i++) {
    if (xblocks[i] == NULL) ok = 0;
    else memset(xblocks[i], 0x33, XSIZE);
  }
  CHECK(ok);
  for (size_t i = 0; i < XN; i++) mi_free(xblocks[i]);
  /* and allocation keeps working with distinct blocks */
  for (size_t i = 0; i < XN; i++) xblocks[i] = mi_malloc(XSIZE);
  CHECK(all_distinct(xblocks, XN));
  for (size_t i = 0; i < XN; i++) mi_free(xblocks[i]);
}

/* --- local free --------------------------------------------------------- */
static void test_local_free_reuse(void)
{
  enum { N = 2048, SIZE = 48 };
  static void* first[N];
  static void* freed[N];
  static void* second[2 * N];
  for (size_t i = 0; i < N; i++) {
    first[i] = mi_malloc(SIZE);
    CHECK(first[i] != NULL);
  }
  size_t nfreed = 0;
  for (size_t i = 0; i < N; i++) {
    if (i % 256 == 0) continue;   /* keep one block per page-ish so pages stay owned */
    freed[nfreed++] = first[i];
    mi_free(first[i]);
  }
  qsort(freed, nfreed, sizeof(void*), cmp_ptr);
  /* allocate twice as many: a page may still have never-used capacity that
     is handed out first, but the freed blocks must be reused before the
     thread needs much fresh memory */
  size_t nsecond = 2 * nfreed;
  for (size_t i = 0; i < nsecond; i++) {
    second[i] = mi_malloc(SIZE);
    CHECK(second[i] != NULL);
  }
  size_t reused = count_reused(freed, nfreed, second, nsecond);
  printf("local free: %zu of %zu freed blocks were reused\n", reused, nfreed);
  CHECKF(reused >= nfreed * 9 / 10, "only %zu of %zu locally freed blocks were reused", reused, nfreed);
  static void* all[3 * N];
  size_t nall = 0;
  for (size_t i = 0; i < nsecond; i++) all[nall++] = second[i];
  for (size_t i = 0; i < N; i += 256) all[nall++] = first[i];
  CHECKF(all_distinct(all, nall), "a block was handed out twice after local frees");
  for (size_t i = 0; i < nsecond; i++) mi_free(second[i]);
  for (size_t i = 0; i < N; i += 256) mi_free(first[i]);

  /* a single block: free then allocate the same size a page's worth of times
     later must hit it again (the local free list is collected once the free
     list runs out) */
  void* p = mi_malloc(SIZE);
  mi_free(p);
  int found = 0;
  static void* tmp[N];
  size_t ntmp = 0;
  for (; ntmp < N; ntmp++) {
    tmp[ntmp] = mi_malloc(SIZE);
    if (tmp[ntmp] == p) { found = 1; ntmp++; break; }
  }
  CHECKF(found, "a locally freed block was not reused within %d allocations of its size", N);
  for (size_t i = 0; i < ntmp; i++) mi_free(tmp[i]);
}

int main(void)
{
  int src = mi_thread_id_source();
  printf("mi_thread_id_source() = %d (%s), mi_thread_id() = %#lx\n", src,
         src == 1 ? "thread pointer" : src == 0 ? "thread-local address" : src == 2 ? "embedder function" : "?",
         (unsigned long)mi_thread_id());
  CHECKF(src >= 0 && src <= 2, "mi_thread_id_source() = %d", src);
#if defined(EXPECT_ID_SOURCE)
  CHECKF(src == EXPECT_ID_SOURCE, "mi_thread_id_source() = %d, expected %d", src, EXPECT_ID_SOURCE);
#endif
  test_ids();
  test_cross_thread_free();
  test_free_after_owner_exit();
  test_local_free_reuse();
  return test_report();
}
