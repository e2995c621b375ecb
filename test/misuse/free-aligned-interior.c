/* SPDX-License-Identifier: MIT */
/* Frees of a pointer 64 bytes into each of three live blocks aligned to
   4 KiB. Their blocks are larger than 4 KiB and not all at a multiple of
   it, so at least one pointer lies inside its block, where free must tell
   the interior pointer from the aligned one (MI_DEBUG, MI_SECURE: the
   aligned mark), and the others are their blocks' starts. */
#include "misuse.h"

int main(void)
{
  unsigned char* p[3];
  for (int i = 0; i < 3; i++) {
    p[i] = (unsigned char*)mi_malloc_aligned(200, 4096);
    misuse_keep(p[i], 200, (size_t)i + 1);
  }
  for (int i = 0; i < 3; i++) mi_free(misuse_opaque(p[i] + 64));
  misuse_done();
  return misuse_heap_sane();
}
