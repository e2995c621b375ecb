/* SPDX-License-Identifier: MIT */
/* The segment map of src/segment-map.c: one byte per MI_SEGMENT_SIZE unit
   of the address space, the page shift of the segment there (0: none), which
   free() consults (through mi_is_in_heap_region's test) before it reads any
   memory of a pointer, and whose shift finds the block's page. A segment at S makes the
   pointers in (S, S + MI_SEGMENT_SIZE] known (a huge-aligned block may start
   right at the end of its segment's first unit) and no other. Checked at
   the lowest units, across a word of the map, at the highest unit the map
   covers and beyond it, for pointers at both ends and in the middle of a
   segment, and for real blocks. The units used are checked to be free of
   mica's own segments first; their bytes are cleared again afterwards.
   Linked with the static library (internal functions). */
#include <stdint.h>
#include <stdio.h>
#include "mica/internal.h"
#include "test.h"

#define S        ((uintptr_t)MI_SEGMENT_SIZE)
#define UNITS    ((uintptr_t)1 << (MI_SEGMENT_MAP_BITS_SHIFT - MI_SEGMENT_SHIFT))   /* units the map covers */
#define SHIFT    ((size_t)MI_SLICE_SHIFT)   /* the page shift the fake segments claim */

static bool known(uintptr_t p) { return mi_is_in_heap_region((const void*)p); }
static const mi_segment_t* seg_at(uintptr_t unit) { return (const mi_segment_t*)(unit * S); }

/* Does the map say so for the pointers of unit `unit` at its ends and middle? */
static void check_unit(uintptr_t unit, bool expect, const char* what) {
  const uintptr_t start = unit * S;
  CHECKF(known(start + 1) == expect, "%s: unit %#jx, segment start + 1", what, (uintmax_t)unit);
  CHECKF(known(start + S / 2) == expect, "%s: unit %#jx, middle", what, (uintmax_t)unit);
  CHECKF(known(start + S / 2 + 3) == expect, "%s: unit %#jx, middle, unaligned", what, (uintmax_t)unit);
  if (start + S != 0) {   /* the last unit of a 32-bit address space ends at 2^32, which wraps */
    CHECKF(known(start + S - 1) == expect, "%s: unit %#jx, last byte", what, (uintmax_t)unit);
    CHECKF(known(start + S) == expect, "%s: unit %#jx, end of the unit (a huge-aligned block)", what, (uintmax_t)unit);
  }
}

/* Set a unit, check it and its neighbours, clear it, check again. */
static void check_set_clear(uintptr_t unit, const char* what) {
  check_unit(unit, false, what);   /* precondition: not one of mica's segments */
  if (test_failures() > 0) return;  /* never clear a real segment's bit */
  _mi_segment_map_allocated_at(seg_at(unit), SHIFT);
  check_unit(unit, true, what);
  CHECKF(_mi_ptr_segment_shift((const void*)(unit * S + S / 2)) == SHIFT, "%s: unit %#jx, the map gives the page shift", what, (uintmax_t)unit);
  /* the segment's own first byte belongs to the unit below; the byte after
     its end to the unit above */
  if (unit > 0) CHECKF(!known(unit * S), "%s: unit %#jx, the segment's first byte is not known", what, (uintmax_t)unit);
  if (unit + 1 < UNITS) {
    CHECKF(!known((unit + 1) * S + 1), "%s: unit %#jx, first pointer past the segment", what, (uintmax_t)unit);
    CHECKF(!known((unit + 1) * S + S / 2), "%s: unit %#jx, the next unit", what, (uintmax_t)unit);
  }
  if (unit > 0) CHECKF(!known((unit - 1) * S + S / 2), "%s: unit %#jx, the unit below", what, (uintmax_t)unit);
  _mi_segment_map_allocated_at(seg_at(unit), SHIFT);   /* twice: still one entry */
  _mi_segment_map_freed_at(seg_at(unit));
  check_unit(unit, false, what);
}

int main(void) {
  CHECK(!known(0));

  /* lowest units; unit 0 (no OS maps it) still answers, and NULL stays unknown */
  check_set_clear(1, "second unit");
  check_unit(0, false, "first unit");
  _mi_segment_map_allocated_at(seg_at(0), SHIFT);
  CHECK(known(1) && known(S / 2) && known(S));
  CHECKF(!known(0), "NULL is not known while the first unit is set");
  _mi_segment_map_freed_at(seg_at(0));
  CHECK(!known(1) && !known(S));

  /* two neighbouring units (the two ends of a word when the map was a bitmap) */
  const uintptr_t w = MI_INTPTR_BITS;
  check_set_clear(w - 1, "last unit of a map word");
  check_set_clear(w, "first unit of a map word");
  _mi_segment_map_allocated_at(seg_at(w - 1), SHIFT);
  _mi_segment_map_allocated_at(seg_at(w), SHIFT);
  check_unit(w - 1, true, "two units across a map word");
  check_unit(w, true, "two units across a map word");
  CHECK(known(w * S) && known(w * S + 1));   /* the boundary between them: both sides known */
  CHECK(!known((w - 1) * S) && !known((w + 1) * S + 1));
  _mi_segment_map_freed_at(seg_at(w - 1));
  check_unit(w - 1, false, "after clearing the lower of two");
  check_unit(w, true, "after clearing the lower of two");
  _mi_segment_map_freed_at(seg_at(w));
  check_unit(w, false, "after clearing both");

  /* the highest unit the map holds (32-bit: one below the last, see below) */
  check_set_clear(MI_SEGMENT_MAP_UNITS - 1, "highest unit");
#if MI_SEGMENT_MAP_BITS_SHIFT < MI_INTPTR_BITS
  /* beyond the map (64-bit: above the 48-bit user address space): never
     known, and allocated_at leaves the map alone */
  const uintptr_t beyond = UNITS;
  _mi_segment_map_allocated_at(seg_at(beyond), SHIFT);
  check_unit(beyond, false, "beyond the map");
  _mi_segment_map_allocated_at(seg_at(UINTPTR_MAX / S), SHIFT);
  CHECK(!known(UINTPTR_MAX) && !known(UINTPTR_MAX - S / 2));
  _mi_segment_map_freed_at(seg_at(beyond));
  _mi_segment_map_freed_at(seg_at(UINTPTR_MAX / S));
  /* with the highest unit set, NULL is still unknown */
  _mi_segment_map_allocated_at(seg_at(UNITS - 1), SHIFT);
  CHECK(!known(0));
  _mi_segment_map_freed_at(seg_at(UNITS - 1));
#else
  /* 32-bit: the map covers the whole address space, and NULL - 1 falls in
     the highest unit. A 32-bit program on a 64-bit kernel may map memory
     there, so the map never holds that unit (segment.c refuses memory it
     cannot describe): NULL stays unknown. */
  CHECK(!_mi_segment_map_covers(UINTPTR_MAX));
  CHECK(!_mi_segment_map_covers((UNITS - 1) * S));
  CHECK(_mi_segment_map_covers((UNITS - 1) * S - 1));
  _mi_segment_map_allocated_at(seg_at(UNITS - 1), SHIFT);
  CHECK(!known(0));
  _mi_segment_map_freed_at(seg_at(UNITS - 1));
#endif

  /* real blocks: small, medium, large and huge, at their first, middle and last bytes */
  static const size_t sizes[] = { 8, 1000, 40000, 600000, 8u << 20 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = (unsigned char*)mi_malloc(sizes[i]);
    CHECK(p != NULL);
    if (p == NULL) continue;
    const size_t usable = mi_usable_size(p);
    CHECKF(known((uintptr_t)p), "a block of %zu bytes is known", sizes[i]);
    /* the map has a bit for a segment's first unit only: a huge block's
       later units are not (free() needs only the block's start) */
    if (usable <= MI_LARGE_OBJ_SIZE_MAX) {
      CHECKF(known((uintptr_t)p + usable / 2) && known((uintptr_t)p + usable - 1),
             "a block of %zu bytes is known at its middle and end", sizes[i]);
    }
    CHECK(_mi_segment_is_known(_mi_ptr_segment(p)));
    mi_free(p);
  }
  /* foreign memory */
  int local = 0;
  static int in_data = 0;
  CHECK(!known((uintptr_t)&local) && !known((uintptr_t)&in_data) && !known((uintptr_t)&main));

  return test_report();
}
