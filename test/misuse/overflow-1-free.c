/* SPDX-License-Identifier: MIT */
/* A write of 1 byte past a 32-byte block into the free block after it
   (the low byte of its free-list link), then allocations of that size. */
#include "misuse.h"

int main(void)
{
  unsigned char* q = misuse_live_before_free();
  q[32] ^= 0x5a;
  misuse_done();
  return misuse_heap_sane();
}
