/* SPDX-License-Identifier: MIT */
/* Requests whose size overflows: malloc(SIZE_MAX), calloc and
   reallocarray whose product overflows. Each must return NULL with ENOMEM
   and lose nothing (reallocarray's block is kept). */
#include "misuse.h"

#include <errno.h>

int main(void)
{
  volatile size_t max = SIZE_MAX;   /* not a constant: no compile-time warning */
  unsigned char* keep = (unsigned char*)mi_malloc(100);
  misuse_keep(keep, 100, 1);
  errno = 0;
  MISUSE_EXPECT(mi_malloc(max) == NULL && errno == ENOMEM);
  errno = 0;
  MISUSE_EXPECT(mi_malloc(max / 2 + 1) == NULL && errno == ENOMEM);
  errno = 0;
  MISUSE_EXPECT(mi_calloc(max / 2, 3) == NULL && errno == ENOMEM);
  errno = 0;
  MISUSE_EXPECT(mi_reallocarray(keep, max / 2, 3) == NULL && errno == ENOMEM);
  errno = 0;
  MISUSE_EXPECT(mi_realloc(keep, max - 4) == NULL && errno == ENOMEM);
  misuse_done();
  return misuse_heap_sane();
}
