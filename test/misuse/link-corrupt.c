/* SPDX-License-Identifier: MIT */
/* A write past a live block overwrites the next (free) block's free-list
   link with the address of a static buffer, as an exploit would; then
   blocks of that size are allocated. */
#include "misuse.h"

static unsigned char misuse_target[256];

int main(void)
{
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) p[i] = (unsigned char*)mi_malloc(32);
  for (int i = 1; i < 8; i++) mi_free(p[i]);
  misuse_keep(p[0], 32, 1);
  unsigned char* q = (unsigned char*)misuse_opaque(p[0]);
  void* fake = misuse_target + 64;
  memcpy(q + 32, &fake, sizeof fake);
  misuse_done();
  return misuse_heap_sane();
}
