/* SPDX-License-Identifier: MIT */
/* A free of the pointer just past a 32-byte block (an off-by-one end
   pointer). The next block is live, and the program keeps both. */
#include "misuse.h"

int main(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  int k = -1;   /* a block whose neighbour is also the program's */
  for (int i = 0; i < 8 && k < 0; i++)
    for (int j = 0; j < 8; j++)
      if (p[j] == p[i] + 32) { k = i; break; }
  if (k < 0) { printf("no two adjacent blocks\n"); return 1; }
  for (int i = 0; i < 8; i++) misuse_keep(p[i], 32, (size_t)i + 1);
  mi_free(misuse_opaque(p[k] + 32));
  misuse_done();
  return misuse_heap_sane();
}
