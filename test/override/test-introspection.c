/* glibc's allocator introspection answered by mica (linked with the
   library, so these calls bind to mica's exports): mallinfo2 reports mica's
   segments and huge blocks, malloc_trim returns memory, mallopt is accepted.
   glibc's own figures would not move with mica's huge blocks. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "mica.h"
#include "test.h"

int main(void) {
  void* small = malloc(1000);
  CHECK(small != NULL);
  struct mallinfo2 before = mallinfo2();
  CHECKF(before.arena >= 2u << 20, "arena %zu: mica's segments are 4 MiB (2 MiB on 32-bit), at least one is in use", before.arena);

  const size_t huge_size = 64u << 20;
  char* huge = malloc(huge_size);
  CHECK(huge != NULL);
  memset(huge, 1, huge_size);
  /* observed, so a compiler may not elide the malloc/free pair (clang does) */
  CHECK(mi_usable_size(huge) >= huge_size);
  struct mallinfo2 with_huge = mallinfo2();
  CHECKF(with_huge.hblkhd >= before.hblkhd + huge_size, "hblkhd %zu -> %zu after a 64 MiB block", before.hblkhd, with_huge.hblkhd);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* the old call, on purpose */
  struct mallinfo old_style = mallinfo();
#pragma GCC diagnostic pop
  CHECK(old_style.hblkhd > 0 && old_style.arena > 0);

  free(huge);
  struct mallinfo2 after = mallinfo2();
  CHECKF(after.hblkhd <= with_huge.hblkhd - huge_size, "hblkhd %zu after the free (was %zu)", after.hblkhd, with_huge.hblkhd);
  CHECK(malloc_trim(0) == 1);
  CHECK(mallopt(M_ARENA_MAX, 1) == 1);
  free(small);
  return test_report();
}
