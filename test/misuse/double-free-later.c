/* SPDX-License-Identifier: MIT */
/* free(a), free(b), free(c), then free(a) again: a is no longer the head
   of its page's free list. */
#include "misuse.h"

int main(void)
{
  void* a = mi_malloc(48);
  void* b = mi_malloc(48);
  void* c = mi_malloc(48);
  misuse_fill(a, 48, 1);
  mi_free(a);
  mi_free(b);
  mi_free(c);
  mi_free(misuse_opaque(a));
  misuse_done();
  return misuse_heap_sane();
}
