/* SPDX-License-Identifier: MIT */
/* Size classes ("bins"): which class a size falls in, and the block size of
   each class. Pure functions of the size; see doc/design.md for the steps. */
#include "mica/internal.h"

/* Bin of a size: exact classes up to 128 bytes (bins 1..MI_BIN_EXACT; see
   types.h), then 8 classes per power of two up to MI_BIN_FINE_MAX and 4
   beyond (the odd ones of the 8: bins stay numbered alike). Sizes above
   MI_LARGE_OBJ_SIZE_MAX: MI_BIN_HUGE. */
size_t _mi_bin(size_t size) {
  if (size > MI_LARGE_OBJ_SIZE_MAX) return MI_BIN_HUGE;   /* first: the granule count of sizes near SIZE_MAX wraps */
  size_t g = (size + MI_GRANULE_SIZE - 1) >> MI_GRANULE_SHIFT;
  if (g <= 16) {
    if (g <= MI_BIN_STEP_GRANULES) return (g == 0 ? 1 : g);
    return MI_BIN_STEP_GRANULES - 1 + (g + MI_BIN_STEP_GRANULES - 1) / MI_BIN_STEP_GRANULES;
  }
  g--;
  const size_t b = mi_bsr(g);   /* >= 4 */
  size_t k = (g >> (b - 3)) & 7;
  if (size > MI_BIN_FINE_MAX) k |= 1;   /* 4 classes per doubling (see doc/design.md) */
  return ((b - 4) << 3) + k + MI_BIN_EXACT + 1;
}

/* Largest size in a bin (the block size of its pages). */
size_t _mi_bin_size(size_t bin) {
  if (bin <= MI_BIN_STEP_GRANULES) return bin * MI_GRANULE_SIZE;
  if (bin <= MI_BIN_EXACT) return (bin + 1 - MI_BIN_STEP_GRANULES) * MI_BIN_STEP;
  if (bin >= MI_BIN_HUGE) return MI_LARGE_OBJ_SIZE_MAX + MI_GRANULE_SIZE;
  const size_t i = bin - (MI_BIN_EXACT + 1);
  const size_t b = (i >> 3) + 4;
  const size_t k = i & 7;
  return (((size_t)1 << b) + ((k + 1) << (b - 3))) * MI_GRANULE_SIZE;
}

/* the largest request that takes the same block (MI_PADDING: the block's
   padding is not the program's) */
size_t mi_good_size(size_t size) {
  if (size <= MI_LARGE_OBJ_SIZE_MAX - MI_PADDING_SIZE) return _mi_bin_size(_mi_bin(size + MI_PADDING_SIZE)) - MI_PADDING_SIZE;
  return _mi_align_up(size, _mi_os_page_size());
}
