/* SPDX-License-Identifier: MIT */
/* secure/random-order: consecutive allocations from a fresh page. At
   MI_SECURE 0 and 1 a page's blocks are handed out in address order; from
   MI_SECURE 2 each extension of the free list is shuffled. The statistic,
   for 64 consecutive blocks: how many follow their predecessor directly
   (b[i+1] == b[i] + block size). In address order that is 63 (a few less
   where a new page starts); for a uniformly shuffled list it is about 1 per
   shuffled run (each a Poisson-like count with mean < 1), so the bounds
   below (at least 48 in order; at most 32 shuffled) are many standard
   deviations from either side: the test cannot be flaky. */
#include "mica.h"
#include "test.h"

#include <stdint.h>

#ifndef SECURE_LEVEL
#error "SECURE_LEVEL: the MI_SECURE level of the library the test is linked with"
#endif

enum { N = 64 };

static int successors(size_t size, size_t* bsize_out)
{
  mi_heap_t* heap = mi_heap_new();
  uint8_t* b[N];
  for (int i = 0; i < N; i++) b[i] = (uint8_t*)mi_heap_malloc(heap, size);
  const size_t bsize = mi_usable_size(b[0]);
  int n = 0;
  for (int i = 0; i + 1 < N; i++) n += (b[i + 1] == b[i] + bsize);
  mi_heap_destroy(heap);
  *bsize_out = bsize;
  return n;
}

int main(void)
{
  static const size_t sizes[] = { 16, 64, 1000 };
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t bsize = 0;
    const int n = successors(sizes[k], &bsize);
    printf("MI_SECURE %d, %zu-byte blocks: %d of %d consecutive allocations are address successors\n", SECURE_LEVEL, bsize, n, N - 1);
#if SECURE_LEVEL >= 2
    CHECKF(n <= 32, "shuffled free list: %d of %d successors (in order: about %d)", n, N - 1, N - 1);
#else
    CHECKF(n >= 48, "address order: %d of %d successors", n, N - 1);
#endif
  }
  return test_report();
}
