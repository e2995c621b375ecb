/* SPDX-License-Identifier: MIT */
/* A free of a pointer to the stack. */
#include "misuse.h"

int main(void)
{
  char buf[64];
  memset(buf, 1, sizeof buf);
  mi_free(misuse_opaque(buf + 16));
  misuse_done();
  MISUSE_EXPECT(buf[0] == 1 && buf[63] == 1);
  return misuse_heap_sane();
}
