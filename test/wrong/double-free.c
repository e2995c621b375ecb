/* SPDX-License-Identifier: MIT */
/* wrong/double-free: freeing a block twice is reported through
   mi_register_error as EAGAIN (and printed with "mica" in the message when
   MICA_SHOW_ERRORS=1), and the second free is ignored: the block is not
   handed out twice afterwards. Built twice: against the debug variant and
   against the release library, which must give the same answers. Blocks
   whose data looks like free-list links (pointers to neighbours, never
   written words) must not be reported. */
#define _POSIX_C_SOURCE 200809L
#include "wrong.h"
#include "mica/geometry.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int cmp_ptr(const void* a, const void* b)
{
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

/* A block of a single-block page (large, huge) freed twice: the first free
   gave the page up, so the second finds no page in use (EINVAL, "freed
   twice, or not a mica block") or no mica memory at all. */
static int double_free_errors(bool single_block_page)
{
  return single_block_page ? wrong_with(EAGAIN) + wrong_with(EINVAL) : wrong_with(EAGAIN);
}

static void one_size(size_t size, bool single_block_page)
{
  enum { N = 64 };
  void* keep[N];
  /* some neighbours so the page is not empty after the free */
  for (int i = 0; i < N / 2; i++) keep[i] = mi_malloc(size);
  void* p = mi_malloc(size);
  CHECK(p != NULL);
  if (p == NULL) return;
  memset(p, 0x77, size);
  mi_free(p);
  wrong_reset();
  mi_free(p);
  CHECKF(wrong_count == 1 && double_free_errors(single_block_page) == 1,
         "double free of a %zu-byte block: %d errors, %d EAGAIN", size, wrong_count, wrong_with(EAGAIN));

  /* the next two allocations of that size are not the same block */
  void* a = mi_malloc(size);
  void* b = mi_malloc(size);
  CHECKF(a != NULL && b != NULL && a != b, "after a double free of %p, two allocations of %zu bytes both returned %p",
         p, size, a);
  /* nor are any of the next many */
  for (int i = N / 2; i < N; i++) keep[i] = mi_malloc(size);
  void* all[N + 2];
  memcpy(all, keep, sizeof keep);
  all[N] = a;
  all[N + 1] = b;
  qsort(all, N + 2, sizeof(void*), cmp_ptr);
  int dups = 0;
  for (int i = 1; i < N + 2; i++) dups += (all[i] == all[i - 1]);
  CHECKF(dups == 0, "size %zu: %d blocks handed out twice after a double free", size, dups);
  mi_free(a);
  mi_free(b);
  for (int i = 0; i < N; i++) mi_free(keep[i]);
}


/* No two of the n pointers are equal. */
static int count_dups(void** ptrs, size_t n)
{
  qsort(ptrs, n, sizeof(void*), cmp_ptr);
  int dups = 0;
  for (size_t i = 1; i < n; i++) dups += (ptrs[i] != NULL && ptrs[i] == ptrs[i - 1]);
  return dups;
}

/* free(a), free(b), free(a): a is not the last block on its list, so its
   link points at a neighbour. */
static void interleaved(size_t size)
{
  enum { N = 48 };
  void* v[N];
  for (int i = 0; i < N; i++) v[i] = mi_malloc(size);
  void *a = v[10], *b = v[11];
  mi_free(a);
  mi_free(b);
  wrong_reset();
  mi_free(a);
  CHECKF(wrong_count == 1 && wrong_with(EAGAIN) == 1, "free(a) free(b) free(a), %zu bytes: %d errors", size, wrong_count);
  v[10] = mi_malloc(size);
  v[11] = mi_malloc(size);
  void* w[N + 8];
  memcpy(w, v, sizeof v);
  for (int i = N; i < N + 8; i++) w[i] = mi_malloc(size);
  void* all[N + 8];
  memcpy(all, w, sizeof all);
  CHECKF(count_dups(all, N + 8) == 0, "free(a) free(b) free(a), %zu bytes: a block handed out twice", size);
  for (int i = 0; i < N + 8; i++) mi_free(w[i]);
}

/* The first free came from another thread (the block waits on the page's
   thread-free list); the owner, or that thread again, frees it once more. */
static void* free_in_thread(void* p)
{
  mi_free(p);
  return NULL;
}
static void* free_twice_in_thread(void* p)
{
  mi_free(p);
  mi_free(p);
  return NULL;
}
static void cross_thread(size_t size)
{
  enum { N = 32 };
  void* v[N];
  for (int i = 0; i < N; i++) v[i] = mi_malloc(size);
  pthread_t t;
  wrong_reset();
  CHECK(pthread_create(&t, NULL, free_in_thread, v[5]) == 0 && pthread_join(t, NULL) == 0);
  mi_free(v[5]);   /* owner frees it again */
  CHECK(pthread_create(&t, NULL, free_twice_in_thread, v[6]) == 0 && pthread_join(t, NULL) == 0);
  CHECKF(wrong_count == 2 && wrong_with(EAGAIN) == 2, "cross-thread double frees of %zu bytes: %d errors (2 expected)", size, wrong_count);
  void* again[N + 8];
  memcpy(again, v, sizeof v);
  again[5] = mi_malloc(size);
  again[6] = mi_malloc(size);
  for (int i = N; i < N + 8; i++) again[i] = mi_malloc(size);
  void* all[N + 8];
  memcpy(all, again, sizeof all);
  CHECKF(count_dups(all, N + 8) == 0, "cross-thread double free, %zu bytes: a block handed out twice", size);
  for (int i = 0; i < N + 8; i++) mi_free(again[i]);
}

/* A block another thread freed into a full page waits on the owner heap's
   delayed-free list, its link pointing at the block freed before it, which
   may lie in another segment: a second free, from that thread or from the
   owner, must still be found; also after the owner's frees of its
   neighbours took the page out of the full queue. `a` and `b` sit in full
   pages (every page but the last few is full) of different segments
   (4 MiB apart: wider than a segment on every target). */
enum { DELAYED_MAX = 16384 };
static int delayed_n;   /* blocks enough for 12 MiB */
static int alloc_two_segments(void** v, size_t size)
{
  const size_t apart = (size_t)4 << 20;
  delayed_n = (int)(((size_t)12 << 20) / size) + 64;
  CHECK(delayed_n <= DELAYED_MAX);
  if (delayed_n > DELAYED_MAX) delayed_n = DELAYED_MAX;
  for (int i = 0; i < delayed_n; i++) v[i] = mi_malloc(size);
  for (int i = delayed_n / 2; i < delayed_n - 64; i++) {
    const uintptr_t a = (uintptr_t)v[0], b = (uintptr_t)v[i];
    if ((a > b ? a - b : b - a) >= apart) return i;
  }
  CHECKF(false, "%zu bytes: no two blocks 4 MiB apart among %d", size, delayed_n);
  return -1;
}
/* v[0], v[bi] freed once more: nothing handed out twice afterwards */
static void check_after_delayed(void** v, int bi, size_t size, const char* what)
{
  static void* all[DELAYED_MAX + 8];
  v[0] = mi_malloc(size);
  v[bi] = mi_malloc(size);
  memcpy(all, v, (size_t)delayed_n * sizeof(void*));
  for (int i = delayed_n; i < delayed_n + 8; i++) all[i] = mi_malloc(size);
  static void* sorted[DELAYED_MAX + 8];
  memcpy(sorted, all, ((size_t)delayed_n + 8) * sizeof(void*));
  CHECKF(count_dups(sorted, (size_t)delayed_n + 8) == 0, "%s, %zu bytes: a block handed out twice", what, size);
  for (int i = 0; i < delayed_n + 8; i++) mi_free(all[i]);
}
static void* free_a_b_b(void* arg)
{
  void** ab = (void**)arg;
  mi_free(ab[0]);
  mi_free(ab[1]);
  mi_free(ab[1]);
  return NULL;
}
static void* free_a_b(void* arg)
{
  void** ab = (void**)arg;
  mi_free(ab[0]);
  mi_free(ab[1]);
  return NULL;
}
static void cross_thread_delayed(size_t size)
{
  static void* v[DELAYED_MAX];
  int bi = alloc_two_segments(v, size);
  if (bi < 0) { for (int i = 0; i < delayed_n; i++) mi_free(v[i]); return; }
  void* ab[2] = { v[0], v[bi] };
  wrong_reset();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_a_b_b, ab) == 0 && pthread_join(t, NULL) == 0);
  mi_free(v[bi]);   /* and the owner once more */
  CHECKF(wrong_count == 2 && wrong_with(EAGAIN) == 2, "delayed double frees of %zu bytes: %d errors (2 expected)", size, wrong_count);
  check_after_delayed(v, bi, size, "delayed double free");

  /* the owner frees the rest first: the pages leave the full queue */
  bi = alloc_two_segments(v, size);
  if (bi < 0) { for (int i = 0; i < delayed_n; i++) mi_free(v[i]); return; }
  ab[0] = v[0];
  ab[1] = v[bi];
  wrong_reset();
  CHECK(pthread_create(&t, NULL, free_a_b, ab) == 0 && pthread_join(t, NULL) == 0);
  for (int i = 1; i < delayed_n; i++) {
    if (i != bi) mi_free(v[i]);
  }
  mi_free(v[bi]);   /* its page may be empty and gone by now: then EINVAL */
  CHECKF(wrong_count == 1 && double_free_errors(true) == 1, "delayed double free of %zu bytes after its page left the full queue: %d errors", size, wrong_count);
  for (int i = 1; i < delayed_n; i++) {
    if (i != bi) v[i] = mi_malloc(size);
  }
  check_after_delayed(v, bi, size, "delayed double free after the page left the full queue");
}

/* A free from a thread that does not own the page reads no memory of the
   owner's other pages. The blocks on the owner heap's delayed-free list lie
   in pages the owner may free at any moment, and their memory may then
   become inaccessible (a guarded block's quarantine, a purge that
   decommits): a walk of that list from another thread once faulted there
   (CI, guarded-stress at MI_DEBUG=3). Here the memory of the list's head
   is made inaccessible outright while another thread frees a live block
   of another full page: a debug build (MI_DEBUG >= 2) checks every free
   for a double free (a release build only a block that looks free).
   Then the head is freed twice from another thread: still reported. */
static void* free_one(void* p)
{
  mi_free(p);
  return NULL;
}
static void delayed_list_unread(size_t size)
{
  static void* v[DELAYED_MAX];
  int bi = alloc_two_segments(v, size);
  if (bi < 0) { for (int i = 0; i < delayed_n; i++) mi_free(v[i]); return; }
  void* ab[2] = { v[bi], v[0] };   /* v[0], freed last, heads the list */
  void* live = v[bi + 1];
  wrong_reset();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_a_b, ab) == 0 && pthread_join(t, NULL) == 0);
  const uintptr_t os_page = (uintptr_t)sysconf(_SC_PAGESIZE);
  void* head_page = (void*)((uintptr_t)v[0] & ~(os_page - 1));
  CHECK(mprotect(head_page, os_page, PROT_NONE) == 0);
  CHECK(pthread_create(&t, NULL, free_one, live) == 0 && pthread_join(t, NULL) == 0);
  CHECK(mprotect(head_page, os_page, PROT_READ | PROT_WRITE) == 0);
  v[bi + 1] = NULL;
  CHECKF(wrong_count == 0, "a free of a live %zu-byte block beside the delayed-free list: %d errors", size, wrong_count);
  CHECK(pthread_create(&t, NULL, free_one, v[0]) == 0 && pthread_join(t, NULL) == 0);
  CHECKF(wrong_count == 1 && wrong_with(EAGAIN) == 1, "a second free of the delayed-free list's head (%zu bytes): %d errors", size, wrong_count);
  check_after_delayed(v, bi, size, "delayed double free of the list's head");
}

/* Live blocks that look like free ones are freed normally: a linked list
   whose first words point at neighbours in the same page, blocks never
   written, blocks holding NULL. */
static void look_alikes(void)
{
  wrong_reset();
  enum { N = 2000 };
  static void* nodes[N];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++) nodes[i] = mi_malloc(32);
    for (int i = 0; i + 1 < N; i++) *(void**)nodes[i] = nodes[i + 1];
    *(void**)nodes[N - 1] = NULL;
    for (void* n = nodes[0]; n != NULL;) { void* next = *(void**)n; mi_free(n); n = next; }
    for (int i = 0; i < N; i++) mi_free(mi_malloc(48));   /* never written */
    for (int i = 0; i < N; i++) nodes[i] = mi_calloc(1, 64);
    for (int i = 0; i < N; i++) mi_free(nodes[i]);
  }
  CHECKF(wrong_count == 0, "%d errors for live blocks that look like free ones", wrong_count);
}

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
  static char out[16384];
  capture_begin();
  /* small pages' sizes, then one of a medium page */
  enum { MEDIUM = (MI_SMALL_OBJ_SIZE_MAX + MI_MEDIUM_OBJ_SIZE_MAX) / 2 };
  static const size_t sizes[] = { 16, 64, 200, 1000, 5000, MEDIUM };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    one_size(sizes[i], false);
    interleaved(sizes[i]);
    cross_thread(sizes[i]);
  }
  cross_thread_delayed(1000);
  cross_thread_delayed(MEDIUM);
  delayed_list_unread(1000);
  delayed_list_unread(MEDIUM);
  one_size(300000, true);            /* large: one block per page */
  one_size(5 * 1024 * 1024, true);   /* huge: one block per segment */
  size_t n = capture_end(out, sizeof out);
  CHECKF(n > 0 && strstr(out, "mica") != NULL, "no error message containing \"mica\" on stderr");

  look_alikes();

  /* normal use reports nothing */
  wrong_reset();
  for (int i = 0; i < 1000; i++) {
    void* p = mi_malloc((size_t)i + 1);
    CHECK(p != NULL);
    mi_free(p);
  }
  CHECKF(wrong_count == 0, "%d errors during normal use", wrong_count);
  mi_register_error(NULL, NULL);
  return test_report();
}
