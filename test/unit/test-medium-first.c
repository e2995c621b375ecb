/* SPDX-License-Identifier: MIT */
/* test-medium-first: a heap's first page of a medium size is a span for 2
   blocks, not a whole medium page; once it has filled, the size's next
   page is a whole medium page (segment.c, _mi_segment_page_alloc `few`).
   A thread that holds one or two blocks of a rare medium size then holds
   a slice or two, not 128 KiB (bench-mstress, doc/benchmarks.md).

   Pages are seen through mi_heap_visit_blocks: each area is one page, and
   `reserved` is what the page holds (its blocks times the block size). */
#include "mica.h"
#include "mica/geometry.h"
#include "test.h"

#include <stdint.h>

/* a medium size: the largest class of its slice pair holds 2 per span of
   2 slices, so the first page is smaller than a medium page */
#define REQUEST (2 * MI_SMALL_OBJ_SIZE_MAX - 256)
#define MAX_AREAS 8

typedef struct areas_s {
  size_t count;
  mi_heap_area_t area[MAX_AREAS];
} areas_t;

static bool collect_area(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg)
{
  (void)heap; (void)block; (void)block_size;
  areas_t* a = (areas_t*)arg;
  if (a->count < MAX_AREAS) a->area[a->count] = *area;
  a->count++;
  return true;
}

static areas_t visit(mi_heap_t* heap)
{
  areas_t a = { 0 };
  CHECK(mi_heap_visit_blocks(heap, false, collect_area, &a));
  return a;
}

int main(void)
{
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return test_report();
  void* blocks[MI_MEDIUM_PAGE_SIZE / MI_SMALL_OBJ_SIZE_MAX + 8];
  size_t n = 0;
  blocks[n++] = mi_heap_malloc(heap, REQUEST);
  CHECK(blocks[0] != NULL);
  areas_t a = visit(heap);
  CHECKF(a.count == 1, "one page after the first block: %zu", a.count);
  if (a.count != 1) return test_report();
  const mi_heap_area_t first = a.area[0];
  CHECKF(first.reserved < MI_MEDIUM_PAGE_SIZE, "the first page of a medium size holds %zu bytes, less than a medium page (%zu)",
         first.reserved, (size_t)MI_MEDIUM_PAGE_SIZE);
  CHECKF(first.reserved >= 2 * first.full_block_size, "the first page holds 2 blocks of %zu (%zu bytes)",
         first.full_block_size, first.reserved);

  /* fill it: the block after its last one opens the size's second page */
  const size_t first_blocks = first.reserved / first.full_block_size;
  while (n < first_blocks + 1 && n < sizeof blocks / sizeof blocks[0]) {
    blocks[n] = mi_heap_malloc(heap, REQUEST);
    CHECK(blocks[n] != NULL);
    n++;
  }
  a = visit(heap);
  CHECKF(a.count == 2, "two pages after %zu blocks: %zu", n, a.count);
  if (a.count == 2) {
    const mi_heap_area_t* second = (a.area[0].blocks == first.blocks ? &a.area[1] : &a.area[0]);
    CHECKF(second->reserved > MI_MEDIUM_PAGE_SIZE - second->full_block_size && second->reserved <= MI_MEDIUM_PAGE_SIZE,
           "the second page is a whole medium page: %zu bytes (%zu)", second->reserved, (size_t)MI_MEDIUM_PAGE_SIZE);
    CHECKF(second->used == 1, "the second page holds the one block that opened it: %zu", second->used);
  }
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  mi_heap_delete(heap);
  return test_report();
}
