/* SPDX-License-Identifier: MIT */
/* Every power-of-two alignment from 8 bytes to 1 GiB, with sizes 0, 1,
   a-1, a, a+1 and 3a+5, through every aligned entry point: the result is an
   aligned, usable block, or NULL with ENOMEM (EINVAL is for alignments that
   are not powers of two). Nothing crashes. (Regression: a zero-byte request
   with an alignment above 2 MiB built a page of block size 0 and died of
   SIGFPE in the page set-up.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>
#include "mica.h"
#include "test.h"

static size_t served, refused;

static void check(const char* what, void* p, int err, size_t n, size_t a) {
  if (p == NULL) {
    CHECKF(err == ENOMEM, "%s(size %zu, alignment %zu) = NULL with errno %d, not ENOMEM", what, n, a, err);
    refused++;
    return;
  }
  served++;
  CHECKF(((uintptr_t)p & (a - 1)) == 0, "%s(size %zu, alignment %zu) = %p is misaligned", what, n, a, p);
  if (n > 0) {   /* usable: the first and the last byte */
    ((volatile char*)p)[0] = 1;
    ((volatile char*)p)[n - 1] = 2;
  }
  /* every call here is served by mica (the libc ones only when mica serves malloc) */
  CHECKF(mi_is_in_heap_region(p), "%s(size %zu, alignment %zu) = %p is not mica's", what, n, a, p);
  CHECKF(mi_usable_size(p) >= n, "%s(size %zu, alignment %zu): usable size %zu", what, n, a, mi_usable_size(p));
}

#define TRY(what, expr, release) do { errno = 0; void* p_ = (expr); int e_ = errno; \
    check(what, p_, e_, n, a); release(p_); } while (0)

int main(void) {
  char* probe = (char*)malloc(8);
  if (probe != NULL) probe[0] = 0;
  const int libc_is_mica = mi_is_in_heap_region(probe);   /* not under ASan or a foreign malloc */
  free(probe);
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  for (size_t a = 8; a != 0 && a <= ((size_t)1 << 30); a *= 2) {
    const size_t sizes[] = { 0, 1, a - 1, a, a + 1, 3 * a + 5 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      const size_t n = sizes[i];
      if (n < a && i >= 3) continue;   /* 3a+5 wrapped around on 32-bit */
      TRY("mi_malloc_aligned", mi_malloc_aligned(n, a), mi_free);
      TRY("mi_zalloc_aligned", mi_zalloc_aligned(n, a), mi_free);
      TRY("mi_calloc_aligned", mi_calloc_aligned(1, n, a), mi_free);
      TRY("mi_realloc_aligned(NULL)", mi_realloc_aligned(NULL, n, a), mi_free);
      TRY("mi_heap_malloc_aligned", mi_heap_malloc_aligned(heap, n, a), mi_free);
      TRY("mi_aligned_alloc", mi_aligned_alloc(a, n), mi_free);
      TRY("mi_memalign", mi_memalign(a, n), mi_free);
      static char untouched;   /* what *p holds before: a failure must leave it (POSIX) */
      void* q = &untouched;
      int rc = mi_posix_memalign(&q, a, n);
      check("mi_posix_memalign", (rc == 0 ? q : NULL), rc, n, a);
      CHECKF(rc == 0 ? q != &untouched : q == &untouched, "mi_posix_memalign: rc %d and *p %p", rc, q);
      mi_free(rc == 0 ? q : NULL);
      if (libc_is_mica) {
        TRY("aligned_alloc", aligned_alloc(a, n), free);
        TRY("memalign", memalign(a, n), free);
        q = NULL;
        rc = posix_memalign(&q, a, n);
        check("posix_memalign", (rc == 0 ? q : NULL), rc, n, a);
        free(rc == 0 ? q : NULL);
      }
    }
  }
  /* the smallest and largest requests must have been served somewhere */
  CHECKF(served > 0, "nothing was served");
  void* p = mi_malloc_aligned(0, (size_t)4 << 20);
  CHECKF(p != NULL && ((uintptr_t)p & (((size_t)4 << 20) - 1)) == 0, "mi_malloc_aligned(0, 4 MiB) = %p", p);
  mi_free(p);
  /* not a power of two: EINVAL */
  volatile size_t odd = 24;   /* a run-time value: compilers reject a constant one */
  errno = 0;
  CHECK(mi_malloc_aligned(16, odd) == NULL && errno == EINVAL);
  void* q = NULL;
  CHECK(mi_posix_memalign(&q, odd * 2, 16) == EINVAL);
  mi_heap_delete(heap);
  printf("# %zu served, %zu refused with ENOMEM\n", served, refused);
  return test_report();
}
