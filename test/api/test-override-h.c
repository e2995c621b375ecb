/* SPDX-License-Identifier: MIT */
/* test-override-h: mimalloc-override.h in a program linked with a
   libmica.a that exports no malloc (MI_OVERRIDE=0): the macros must send
   every allocation of this file to mica, while the same names called
   without the macro (parenthesized) still reach libc. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "mimalloc-override.h"   /* after every system header */

int main(void) {
  void* libc = (calloc)(1, 32);
  CHECKF(!mi_is_in_heap_region(libc), "libc's malloc is mica's: the test cannot tell the macros from an override");
  (free)(libc);
  CHECK(!mi_is_redirected());

  char* p = malloc(100);
  CHECK(p != NULL && mi_check_owned(p));
  p = realloc(p, 10000);
  CHECK(p != NULL && mi_check_owned(p) && malloc_usable_size(p) >= 10000);
  free(p);
  int* c = calloc(10, sizeof(int));
  CHECK(c != NULL && mi_check_owned(c) && c[9] == 0);
  free(c);
  char* s = strdup("override");
  CHECK(s != NULL && mi_check_owned(s) && strcmp(s, "override") == 0);
  free(s);
  s = strndup("override", 4);
  CHECK(s != NULL && mi_check_owned(s) && strcmp(s, "over") == 0);
  free(s);
  void* a = NULL;
  CHECK(posix_memalign(&a, 256, 100) == 0 && mi_check_owned(a) && ((uintptr_t)a % 256) == 0);
  free(a);
  a = aligned_alloc(64, 128);
  CHECK(a != NULL && mi_check_owned(a) && ((uintptr_t)a % 64) == 0);
  free(a);
  a = memalign(128, 10);
  CHECK(a != NULL && mi_check_owned(a) && ((uintptr_t)a % 128) == 0);
  free(a);
  a = valloc(10);
  CHECK(a != NULL && mi_check_owned(a));
  free(a);
  a = reallocarray(NULL, 10, 10);
  CHECK(a != NULL && mi_check_owned(a));
  a = reallocf(a, 1000);
  CHECK(a != NULL && mi_check_owned(a));
  free(a);
  a = _aligned_malloc(100, 512);
  CHECK(a != NULL && mi_check_owned(a) && ((uintptr_t)a % 512) == 0 && _msize(a) >= 100);
  _aligned_free(a);
  return test_report();
}
