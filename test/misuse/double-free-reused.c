/* SPDX-License-Identifier: MIT */
/* A double free after the block was handed out again: the second free of
   `a` frees `b`, the live block that now has its address. */
#include "misuse.h"

int main(void)
{
  void* a = mi_malloc(32);
  mi_free(a);
  void* b = mi_malloc(32);
  misuse_keep(b, 32, 2);
  mi_free(misuse_opaque(a));
  misuse_done();
  return misuse_heap_sane();
}
