/* SPDX-License-Identifier: MIT */
/* A free of a block another allocator handed out: a minimal allocator on
   the program break (sbrk, where a brk-based malloc keeps its heap; musl
   refuses to grow the break, and then its blocks come from a static
   arena). Not glibc's __libc_malloc: mica exports that name too. */
#include "misuse.h"

#include <unistd.h>

static void* other_malloc(size_t size)
{
  static _Alignas(16) unsigned char arena[1 << 16];
  static size_t used;
  void* p = sbrk((intptr_t)((size + 15) & ~(size_t)15));
  if (p != (void*)-1) return p;
  p = arena + used;
  used += (size + 15) & ~(size_t)15;
  return p;
}

int main(void)
{
  void* p = other_malloc(100);
  memset(p, 1, 100);
  mi_free(misuse_opaque(p));
  misuse_done();
  return misuse_heap_sane();
}
