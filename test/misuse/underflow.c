/* SPDX-License-Identifier: MIT */
/* A write of 16 bytes before a 32-byte block whose predecessor is live. */
#include "misuse.h"

int main(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  unsigned char* q = (unsigned char*)misuse_opaque(p[4]);
  memset(q - 16, 0xa5, 16);
  for (int i = 0; i < 8; i++) mi_free(p[i]);
  misuse_done();
  return misuse_heap_sane();
}
