/* SPDX-License-Identifier: MIT */
/* mi_malloc_aligned with alignments no block can have: not a power of two,
   and 2^(bits-2). Each must return NULL (errno set) and lose nothing. */
#include "misuse.h"

#include <errno.h>

int main(void)
{
  errno = 0;
  MISUSE_EXPECT(mi_malloc_aligned(64, 48) == NULL && errno != 0);
  errno = 0;
  MISUSE_EXPECT(mi_malloc_aligned(64, (SIZE_MAX >> 2) + 1) == NULL && errno != 0);
  errno = 0;
  MISUSE_EXPECT(mi_zalloc_aligned(64, 0) == NULL && errno != 0);
  misuse_done();
  return misuse_heap_sane();
}
