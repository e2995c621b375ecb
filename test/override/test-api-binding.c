/* SPDX-License-Identifier: MIT */
/* override/api-binding: mica's exports call mica's own mi_ functions, even
   when the program (or another library before libmica.so) exports mi_
   names too, as a program with mimalloc linked in does. This program
   exports its own mi_malloc, mi_calloc, mi_realloc, mi_free and
   mi_usable_size (linked with -rdynamic), which only count their calls and
   give wrong answers; the C names it calls must never reach them. */
#define _GNU_SOURCE
#include "mica.h"
#include "test.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int trap_calls;

void* mi_malloc(size_t size) { (void)size; trap_calls++; return NULL; }
void* mi_calloc(size_t count, size_t size) { (void)count; (void)size; trap_calls++; return NULL; }
void* mi_realloc(void* p, size_t newsize) { (void)p; (void)newsize; trap_calls++; return NULL; }
void mi_free(void* p) { (void)p; trap_calls++; }
size_t mi_usable_size(const void* p) { (void)p; trap_calls++; return 1; }

int main(void)
{
  for (int i = 0; i < 100; i++) {
    size_t size = 16 + (size_t)i * 40;
    char* p = malloc(size);
    CHECK(p != NULL);
    if (p == NULL) continue;
    memset(p, 0x5a, size);
    CHECKF(malloc_usable_size(p) >= size, "malloc_usable_size %zu < %zu", malloc_usable_size(p), size);
    CHECKF(mi_is_in_heap_region(p), "malloc's block %p is not mica's", (void*)p);
    char* q = realloc(p, size * 3);
    CHECK(q != NULL && q[size - 1] == 0x5a);
    int* z = calloc(size, sizeof(int));
    CHECK(z != NULL && z[size - 1] == 0);
    void* a = NULL;
    CHECK(posix_memalign(&a, 64, size) == 0 && a != NULL && ((uintptr_t)a & 63) == 0);
    void* r = reallocarray(NULL, 4, size);
    CHECK(r != NULL);
    free(r);
    free(a);
    free(z);
    free(q);
  }
  CHECKF(trap_calls == 0, "%d calls of the C allocator reached the program's own mi_ functions", trap_calls);
  return test_report();
}
