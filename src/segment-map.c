/* SPDX-License-Identifier: MIT */
/* The segment map: one byte per MI_SEGMENT_SIZE unit of the address
   space, holding the page shift of the live segment that starts there (0:
   none; every segment's shift is at least MI_SLICE_SHIFT). It lets free()
   tell mica's pointers from foreign or wild ones without touching their
   memory, and gives the fast path the shift that finds the block's page in
   the same load. A byte, not a bit: the bit cost a second shift, a bit test
   and two register copies on every free (doc/benchmarks.md). The array is
   static (zero pages cost nothing until a byte is set: 128 MiB of address
   space on 64-bit, 2 KiB on 32-bit); bytes are stored with release and read
   with relaxed loads (a pointer handed out by mica was published to the
   reader through its own synchronisation). */
#include "mica/internal.h"

_Alignas(MI_CACHE_LINE) mi_atomic(uint8_t) _mi_segment_map[MI_SEGMENT_MAP_SIZE];

static bool mi_segment_map_index(const mi_segment_t* segment, size_t* idx) {
  const uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit >= MI_SEGMENT_MAP_UNITS) return false;
  *idx = (size_t)unit;
  return true;
}

void _mi_segment_map_allocated_at(const mi_segment_t* segment, size_t page_shift) {
  size_t idx;
  if (!mi_segment_map_index(segment, &idx)) return;   /* outside the mapped range: segment.c refuses such memory */
  mi_assert_internal(page_shift != 0 && page_shift <= UINT8_MAX);
  mi_atomic_store_release(&_mi_segment_map[idx], (uint8_t)page_shift);
}

void _mi_segment_map_freed_at(const mi_segment_t* segment) {
  size_t idx;
  if (!mi_segment_map_index(segment, &idx)) return;
  mi_atomic_store_release(&_mi_segment_map[idx], (uint8_t)0);
}

bool mi_is_in_heap_region(const void* p) {
  return _mi_ptr_is_known(p);
}
