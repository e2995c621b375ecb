/* SPDX-License-Identifier: MIT */
/* A write of 16 bytes past the usable size of a huge (40 MiB) block. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(40u << 20);
  const size_t usable = mi_usable_size(p);
  unsigned char* q = (unsigned char*)misuse_opaque(p);
  memset(q + usable, 0xa5, 16);
  mi_free(p);
  misuse_done();
  return misuse_heap_sane();
}
