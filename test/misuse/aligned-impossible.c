/* SPDX-License-Identifier: MIT */
/* mi_malloc_aligned with alignments no block can have: not a power of two,
   2^(bits-1) (above MI_ALIGNMENT_MAX, 1 GiB, on 32-bit too) and 0. Each must
   return NULL with EINVAL and lose nothing. */
#include "misuse.h"

#include <errno.h>

int main(void)
{
  volatile size_t odd = 48, huge = (SIZE_MAX >> 1) + 1, zero = 0;   /* not constants: no compile-time warning */
  errno = 0;
  MISUSE_EXPECT(mi_malloc_aligned(64, odd) == NULL && errno == EINVAL);
  errno = 0;
  MISUSE_EXPECT(mi_malloc_aligned(64, huge) == NULL && errno == EINVAL);
  errno = 0;
  MISUSE_EXPECT(mi_zalloc_aligned(64, zero) == NULL && errno == EINVAL);
  misuse_done();
  return misuse_heap_sane();
}
