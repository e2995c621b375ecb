/* SPDX-License-Identifier: MIT */
/* A block freed twice in a row. */
#include "misuse.h"

int main(void)
{
  void* p = mi_malloc(32);
  misuse_fill(p, 32, 1);
  mi_free(p);
  mi_free(misuse_opaque(p));
  misuse_done();
  return misuse_heap_sane();
}
