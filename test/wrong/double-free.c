/* wrong/double-free (debug build, MI_DEBUG=2): freeing a block twice is
   reported through mi_register_error as EAGAIN (and printed with "mica" in
   the message when MICA_SHOW_ERRORS=1), and the second free is ignored:
   the block is not handed out twice afterwards. */
#define _POSIX_C_SOURCE 200809L
#include "wrong.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static int cmp_ptr(const void* a, const void* b)
{
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

static void one_size(size_t size)
{
  enum { N = 64 };
  void* keep[N];
  /* some neighbours so the page is not empty after the free */
  for (int i = 0; i < N / 2; i++) keep[i] = mi_malloc(size);
  void* p = mi_malloc(size);
  CHECK(p != NULL);
  if (p == NULL) return;
  memset(p, 0x77, size);
  mi_free(p);
  wrong_reset();
  mi_free(p);
  CHECKF(wrong_count >= 1 && wrong_with(EAGAIN) == wrong_count,
         "double free of a %zu-byte block: %d errors, %d EAGAIN", size, wrong_count, wrong_with(EAGAIN));

  /* the next two allocations of that size are not the same block */
  void* a = mi_malloc(size);
  void* b = mi_malloc(size);
  CHECKF(a != NULL && b != NULL && a != b, "after a double free of %p, two allocations of %zu bytes both returned %p",
         p, size, a);
  /* nor are any of the next many */
  for (int i = N / 2; i < N; i++) keep[i] = mi_malloc(size);
  void* all[N + 2];
  memcpy(all, keep, sizeof keep);
  all[N] = a;
  all[N + 1] = b;
  qsort(all, N + 2, sizeof(void*), cmp_ptr);
  int dups = 0;
  for (int i = 1; i < N + 2; i++) dups += (all[i] == all[i - 1]);
  CHECKF(dups == 0, "size %zu: %d blocks handed out twice after a double free", size, dups);
  mi_free(a);
  mi_free(b);
  for (int i = 0; i < N; i++) mi_free(keep[i]);
}

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
  static char out[16384];
  capture_begin();
  static const size_t sizes[] = { 16, 64, 200, 1000, 5000, 40000 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) one_size(sizes[i]);
  size_t n = capture_end(out, sizeof out);
  CHECKF(n > 0 && strstr(out, "mica") != NULL, "no error message containing \"mica\" on stderr");

  /* normal use reports nothing */
  wrong_reset();
  for (int i = 0; i < 1000; i++) {
    void* p = mi_malloc((size_t)i + 1);
    CHECK(p != NULL);
    mi_free(p);
  }
  CHECKF(wrong_count == 0, "%d errors during normal use", wrong_count);
  mi_register_error(NULL, NULL);
  return test_report();
}
