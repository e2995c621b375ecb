/* SPDX-License-Identifier: MIT */
/* A block of a heap that mi_heap_destroy freed, freed again. */
#include "misuse.h"

int main(void)
{
  mi_heap_t* heap = mi_heap_new();
  void* p = mi_heap_malloc(heap, 64);
  misuse_fill(p, 64, 1);
  mi_heap_destroy(heap);
  mi_free(misuse_opaque(p));
  misuse_done();
  return misuse_heap_sane();
}
