/* SPDX-License-Identifier: MIT */
/* A write of 64 bytes past the end of the last block of a page (1 KiB
   blocks of a fresh heap; the highest one in the first block's 64 KiB
   page), past its usable size. */
#include "misuse.h"

int main(void)
{
  mi_heap_t* heap = mi_heap_new();
  unsigned char* p[64];
  for (int i = 0; i < 64; i++) p[i] = (unsigned char*)mi_heap_malloc(heap, 1024);
  const uintptr_t page = (uintptr_t)p[0] & ~(uintptr_t)0xffff;
  unsigned char* last = p[0];
  for (int i = 1; i < 64; i++) {
    if (((uintptr_t)p[i] & ~(uintptr_t)0xffff) == page && p[i] > last) last = p[i];
  }
  unsigned char* q = (unsigned char*)misuse_opaque(last);
  memset(q + mi_usable_size(q), 0xa5, 64);
  for (int i = 0; i < 64; i++) mi_free(p[i]);
  mi_heap_delete(heap);
  misuse_done();
  return misuse_heap_sane();
}
