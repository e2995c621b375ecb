/* SPDX-License-Identifier: MIT */
/* A free of the pointer just past a 32-byte block (an off-by-one end
   pointer). The next block is live where the program has two adjacent
   ones (it keeps all); with random order (MI_SECURE 2) or padding it may
   have none: then the end of the first, which is inside its own block
   (padding), another page's block, or a guard page. */
#include "misuse.h"

int main(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  int k = -1;   /* a block whose neighbour is also the program's */
  for (int i = 0; i < 8 && k < 0; i++)
    for (int j = 0; j < 8; j++)
      if (p[j] == p[i] + 32) { k = i; break; }
  if (k < 0) k = 0;
  for (int i = 0; i < 8; i++) misuse_keep(p[i], 32, (size_t)i + 1);
  mi_free(misuse_opaque(p[k] + 32));
  misuse_done();
  return misuse_heap_sane();
}
