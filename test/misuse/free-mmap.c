/* SPDX-License-Identifier: MIT */
/* A free of memory the program mapped itself, at an address aligned as
   mica's segments are (32 MiB), and 4 KiB further. */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS */
#include "misuse.h"

#include <sys/mman.h>

int main(void)
{
  const size_t size = 64u << 20;
  unsigned char* m = (unsigned char*)mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { printf("mmap failed\n"); return 1; }
  unsigned char* p = (unsigned char*)(((uintptr_t)m + (32u << 20) - 1) & ~(uintptr_t)((32u << 20) - 1));
  misuse_fill(p, 4096, 1);
  mi_free(misuse_opaque(p));
  mi_free(misuse_opaque(p + 4096));
  misuse_done();
  MISUSE_EXPECT(misuse_intact(p, 4096, 1));
  munmap(m, size);
  return misuse_heap_sane();
}
