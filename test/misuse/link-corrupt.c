/* SPDX-License-Identifier: MIT */
/* A write past a live block overwrites the next (free) block's free-list
   link with the address of a static buffer, as an exploit would; then
   blocks of that size are allocated. */
#include "misuse.h"

static unsigned char misuse_target[256];

int main(void)
{
  unsigned char* q = misuse_live_before_free();
  void* fake = misuse_target + 64;
  memcpy(q + 32, &fake, sizeof fake);
  misuse_done();
  return misuse_heap_sane();
}
