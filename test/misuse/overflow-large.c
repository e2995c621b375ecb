/* SPDX-License-Identifier: MIT */
/* A write of 16 bytes past the usable size of a large (512 KiB) block:
   large on 32-bit too, whose large blocks end at 1 MiB. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(1u << 19);
  unsigned char* n = (unsigned char*)mi_malloc(1u << 19);
  const size_t usable = mi_usable_size(p);
  unsigned char* q = (unsigned char*)misuse_opaque(p);
  memset(q + usable, 0xa5, 16);
  mi_free(p);
  mi_free(n);
  misuse_done();
  return misuse_heap_sane();
}
