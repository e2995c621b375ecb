/* SPDX-License-Identifier: MIT */
/* A read of a freed block. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(32);
  misuse_fill(p, 32, 1);
  mi_free(p);
  const unsigned char* q = (const unsigned char*)misuse_opaque(p);
  unsigned sum = 0;
  for (int i = 0; i < 32; i++) sum += q[i];
  misuse_sink_ = (void*)(uintptr_t)sum;
  misuse_done();
  return misuse_heap_sane();
}
