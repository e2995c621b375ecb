/* SPDX-License-Identifier: MIT */
/* A free of a pointer 64 bytes into a live block aligned to 4 KiB. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc_aligned(200, 4096);
  misuse_keep(p, 200, 1);
  mi_free(misuse_opaque(p + 64));
  misuse_done();
  return misuse_heap_sane();
}
