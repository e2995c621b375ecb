/* SPDX-License-Identifier: MIT */
/* A write of 64 bytes past a 32-byte block: over the two live blocks after it. */
#include "misuse.h"

int main(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  unsigned char* q = (unsigned char*)misuse_opaque(p[0]);
  memset(q + 32, 0xa5, 64);
  for (int i = 0; i < 8; i++) mi_free(p[i]);
  misuse_done();
  return misuse_heap_sane();
}
