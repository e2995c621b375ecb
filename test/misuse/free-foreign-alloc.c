/* SPDX-License-Identifier: MIT */
/* A free of a block another allocator handed out: glibc's own malloc
   (__libc_malloc; elsewhere a block of a private bump allocator). */
#include "misuse.h"

#if defined(__GLIBC__)
extern void* __libc_malloc(size_t size);
static void* other_malloc(size_t size) { return __libc_malloc(size); }
#else
static void* other_malloc(size_t size)
{
  static _Alignas(16) unsigned char arena[1 << 16];
  static size_t used;
  void* p = arena + used;
  used += (size + 15) & ~(size_t)15;
  return p;
}
#endif

int main(void)
{
  void* p = other_malloc(100);
  if (p == NULL) return 2;
  memset(p, 1, 100);
  mi_free(misuse_opaque(p));
  misuse_done();
  return misuse_heap_sane();
}
