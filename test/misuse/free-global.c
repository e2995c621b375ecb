/* SPDX-License-Identifier: MIT */
/* A free of a pointer to a static object. */
#include "misuse.h"

static char misuse_global[64] = { 1 };

int main(void)
{
  mi_free(misuse_opaque(misuse_global));
  misuse_done();
  MISUSE_EXPECT(misuse_global[0] == 1);
  return misuse_heap_sane();
}
