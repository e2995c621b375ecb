/* SPDX-License-Identifier: MIT */
/* glibc's allocator introspection answered by mica (linked with the
   library, so these calls bind to mica's exports): mallinfo2 reports mica's
   segments and huge blocks; malloc_trim returns memory to the OS and says
   so (1), and says 0 when there was none to return; mallopt accepts glibc's
   parameters (ignored) and fails for a value glibc refuses and for a
   parameter glibc does not have. glibc's own figures would not move with
   mica's huge blocks. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mica.h"
#include "test.h"

#define MiB ((size_t)1 << 20)

static size_t rss(void) {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  unsigned long size = 0, resident = 0;
  const int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  const long ps = sysconf(_SC_PAGESIZE);
  return n == 2 ? (size_t)resident * (size_t)(ps > 0 ? ps : 4096) : 0;
}

/* malloc_trim after freeing 64 MiB that the purge delay would keep for a
   minute: 1, and the memory left; right again: 0 */
static void test_trim(void) {
  mi_option_set(mi_option_purge_delay, 60000);
  mi_collect(true);   /* nothing pending from before */
  enum { N = 128 };
  static char* blocks[N];
  const size_t total = 64 * MiB;
  const long ps = sysconf(_SC_PAGESIZE);
  const size_t base = rss();
  for (int i = 0; i < N; i++) {
    const size_t sz = total / N - (size_t)i * 1024;   /* about 512 KiB: medium and large pages */
    blocks[i] = malloc(sz);
    CHECK(blocks[i] != NULL);
    if (blocks[i] == NULL) return;
    for (size_t off = 0; off < sz; off += (size_t)(ps > 0 ? ps : 4096)) blocks[i][off] = 1;
  }
  const size_t high = rss();
  CHECKF(high >= base + total * 3 / 4, "touching 64 MiB raised rss by only %zu KiB", (high - base) / 1024);
  for (int i = 0; i < N; i++) free(blocks[i]);
  const size_t kept = rss();
  CHECKF(kept + total / 2 >= high, "the memory left before the trim (purge delay 60 s): rss %zu -> %zu KiB", high / 1024, kept / 1024);
  /* nothing may allocate between the trims (rss() does: fopen) */
  const int first = malloc_trim(0), second = malloc_trim(0), third = malloc_trim(4096);
  CHECKF(first == 1, "malloc_trim after freeing 64 MiB did not release memory");
  CHECKF(second == 0 && third == 0, "malloc_trim right again said memory was released (%d, %d)", second, third);
  const size_t low = rss();
  printf("rss: %zu KiB before, %zu KiB touched, %zu KiB freed, %zu KiB trimmed\n", base / 1024, high / 1024, kept / 1024, low / 1024);
  CHECKF(kept >= low + total * 3 / 4, "malloc_trim returned only %zu KiB of 64 MiB to the OS", kept > low ? (kept - low) / 1024 : 0);
  mi_option_set(mi_option_purge_delay, 10);
}

static void test_mallopt(void) {
  /* glibc's parameters: accepted */
  CHECK(mallopt(M_ARENA_MAX, 1) == 1);
  CHECK(mallopt(M_ARENA_TEST, 8) == 1);
  CHECK(mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1);
  CHECK(mallopt(M_TOP_PAD, 0) == 1);
  CHECK(mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1);
  CHECK(mallopt(M_MMAP_MAX, 65536) == 1);
  CHECK(mallopt(M_CHECK_ACTION, 3) == 1);
  CHECK(mallopt(M_PERTURB, 0) == 1);
  CHECK(mallopt(M_MXFAST, 64) == 1);
  /* a value glibc refuses: M_MXFAST above 80 * sizeof(size_t) / 4 */
  CHECK(mallopt(M_MXFAST, (int)(80 * sizeof(size_t) / 4) + 1) == 0);
  CHECK(mallopt(M_MXFAST, -1) == 0);
  /* no such parameter */
  CHECK(mallopt(12345, 1) == 0);
  CHECK(mallopt(-9, 1) == 0);
  CHECK(mallopt(0, 1) == 0);
  /* nothing of the above changed what mica does */
  void* p = malloc(100);
  CHECK(p != NULL && mi_usable_size(p) >= 100);
  free(p);
}

int main(void) {
  void* small = malloc(1000);
  if (small != NULL) memset(small, 0x5a, 1000);   /* written: gcc 12 warns of a read of uninitialised memory in mi_usable_size */
  /* observed, so clang may not elide it: then no segment would be in use
     (nothing else allocates before main since mica's C++ operators are C
     and no libstdc++ is loaded with it: the clang CI leg failed so) */
  CHECK(small != NULL && mi_usable_size(small) >= 1000);
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
  free(small);
  test_trim();
  test_mallopt();
  return test_report();
}
