/* SPDX-License-Identifier: MIT */
/* A free of a pointer 16 bytes into a live 64-byte block; the block stays
   the program's. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(64);
  misuse_keep(p, 64, 1);
  mi_free(misuse_opaque(p + 16));
  misuse_done();
  return misuse_heap_sane();
}
