/* SPDX-License-Identifier: MIT */
/* test-populate: a size being built up gets its fresh pages faulted in at
   once; a size used once keeps lazy carving, which touches only what it
   hands out (page.c, MI_PAGE_POPULATE_RUN).

   One size (256 B) is allocated until its pages have filled up 6 times in
   a row, and one block more: the page that block opened was taken after a
   run of fills, so all its memory must be resident, up to the last OS page
   of its slice, though only its first blocks were carved. A block of
   another size (1008 B), allocated once, opens a page whose last OS page
   must not be resident. Residency is read with mincore(2).

   The kernel decides whether pages can be faulted in ahead (Linux 5.14's
   MADV_POPULATE_WRITE; qemu-user may accept the call and do nothing): the
   test asks it first on a mapping of its own, and expects the built-up
   size's page resident exactly when the kernel could do it. The rare
   size's page must stay lazy either way. */
#include "mica.h"
#include "mica/geometry.h"
#include "test.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* asm-generic/mman-common.h */
#endif

#define BUILT_SIZE 256
#define RARE_SIZE  1008
#define FILLS      6
#define MAX_BLOCKS (FILLS + 2) * (MI_SMALL_PAGE_SIZE / BUILT_SIZE)

static void* blocks[MAX_BLOCKS];

static size_t os_page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* Is the OS page holding `p` resident? */
static int resident(const void* p)
{
  unsigned char vec = 0;
  void* page = (void*)((uintptr_t)p & ~(uintptr_t)(os_page() - 1));
  if (mincore(page, os_page(), &vec) != 0) return -1;
  return vec & 1;
}

/* The last byte of the slice holding p: the page's far end. */
static const char* slice_end(const void* p)
{
  return (const char*)(((uintptr_t)p | (MI_SLICE_SIZE - 1)));
}

/* Can this kernel fault anonymous memory in ahead of use? */
static int kernel_populates(void)
{
  const size_t size = 16 * os_page();
  char* m = (char*)mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 0;
  int ok = (madvise(m, size, MADV_POPULATE_WRITE) == 0 && resident(m + size - 1) == 1);
  munmap(m, size);
  return ok;
}

int main(void)
{
  const int populates = kernel_populates();
  printf("the kernel %s fault memory in ahead of use\n", populates ? "can" : "cannot");

  /* the built-up size: count the pages it opens */
  size_t n = 0, fills = 0;
  uintptr_t slice = 0;
  while (n < MAX_BLOCKS) {
    void* p = mi_malloc(BUILT_SIZE);
    CHECKF(p != NULL, "allocation %zu failed", n);
    if (p == NULL) break;
    blocks[n++] = p;
    const uintptr_t s = (uintptr_t)p / MI_SLICE_SIZE;
    if (slice != 0 && s != slice && ++fills == FILLS) break;   /* p opened the page after the 6th fill */
    slice = s;
  }
  CHECKF(fills == FILLS, "only %zu pages of %d-byte blocks filled in %zu blocks", fills, BUILT_SIZE, n);
  const void* last = blocks[n - 1];
  const int built = resident(slice_end(last));
  CHECKF(built == populates, "the far end of a page opened after %d fills is %sresident (expected %sresident)",
         FILLS, built == 1 ? "" : "not ", populates ? "" : "not ");

  /* a size allocated once */
  void* rare = mi_malloc(RARE_SIZE);
  CHECK(rare != NULL);
  if (rare != NULL) {
    CHECKF(resident(slice_end(rare)) == 0, "the far end of a %d-byte block's fresh page is resident: a size used once was faulted in",
           RARE_SIZE);
  }
  mi_free(rare);
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  return test_report();
}
