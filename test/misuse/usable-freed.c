/* SPDX-License-Identifier: MIT */
/* mi_usable_size of a freed block. */
#include "misuse.h"

int main(void)
{
  void* p = mi_malloc(100);
  mi_free(p);
  volatile size_t n = mi_usable_size(misuse_opaque(p));
  (void)n;
  misuse_done();
  return misuse_heap_sane();
}
