/* SPDX-License-Identifier: MIT */
/* A write of a freed block's first 16 bytes (its free-list link), then
   allocations of its size. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(32);
  unsigned char* keep = (unsigned char*)mi_malloc(32);
  misuse_keep(keep, 32, 1);
  mi_free(p);
  unsigned char* q = (unsigned char*)misuse_opaque(p);
  memset(q, 0x41, 16);
  misuse_done();
  return misuse_heap_sane();
}
