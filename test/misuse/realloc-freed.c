/* SPDX-License-Identifier: MIT */
/* A realloc of a freed block. */
#include "misuse.h"

int main(void)
{
  unsigned char* p = (unsigned char*)mi_malloc(32);
  mi_free(p);
  void* r = mi_realloc(misuse_opaque(p), 64);
  printf("realloc returned %s\n", r == NULL ? "NULL" : (r == p ? "the same block" : "a block"));
  misuse_done();
  if (r != NULL) mi_free(r);
  return misuse_heap_sane();
}
