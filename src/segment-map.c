/* SPDX-License-Identifier: MIT */
/* The segment map: one bit per MI_SEGMENT_SIZE unit of the address space,
   set while a live segment starts there. It lets free() tell mica's
   pointers from foreign or wild ones without touching their memory. The
   array is static (zero pages cost nothing until a bit is set) and aligned;
   bits are set and cleared with acq_rel and read with relaxed loads (a pointer handed
   out by mica was published to the reader through its own synchronisation). */
#include "mica/internal.h"

_Alignas(MI_CACHE_LINE) mi_atomic(uintptr_t) _mi_segment_map[MI_SEGMENT_MAP_WORDS];

static bool mi_segment_map_index(const mi_segment_t* segment, size_t* idx) {
  const uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit >= MI_SEGMENT_MAP_UNITS) return false;
  *idx = (size_t)unit;
  return true;
}

void _mi_segment_map_allocated_at(const mi_segment_t* segment) {
  size_t idx;
  if (!mi_segment_map_index(segment, &idx)) return;   /* outside the mapped range: segment.c refuses such memory */
  _mi_bitmap_set(_mi_segment_map, idx, 1);
}

void _mi_segment_map_freed_at(const mi_segment_t* segment) {
  size_t idx;
  if (!mi_segment_map_index(segment, &idx)) return;
  _mi_bitmap_clear(_mi_segment_map, idx, 1);
}

bool mi_is_in_heap_region(const void* p) {
  return _mi_ptr_is_known(p);
}
