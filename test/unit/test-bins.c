/* SPDX-License-Identifier: MIT */
/* Size classes, checked against their definition for every size up to the
   largest one that has a class (MI_LARGE_OBJ_SIZE_MAX): `_mi_bin(size)` is a
   class whose block size holds `size` and the class below does not (the
   class is the tightest), classes grow with the size, each reached class
   maps its own block size back to itself, every block size keeps blocks
   fundamentally aligned (C17 7.22.3), and internal waste stays within what
   doc/design.md states: under one alignment step up to 128 bytes, under
   1/9 of the block up to MI_BIN_FINE_MAX, under 1/5 beyond.
   Linked with the static library (internal functions). */
#include <stdint.h>
#include <stdio.h>
#include "mica/internal.h"
#include "test.h"

/* The alignment a block of `size` bytes needs: MI_MAX_ALIGN_SIZE, or the
   largest power of two that is not larger than the size. */
static size_t needed_alignment(size_t size) {
  size_t a = 1;
  while (a * 2 <= size && a * 2 <= MI_MAX_ALIGN_SIZE) a *= 2;
  return a;
}

int main(void) {
  /* bins that some size maps to */
  static bool reached[MI_BIN_FULL + 1];

  CHECKF(_mi_bin(0) == 1, "_mi_bin(0) = %zu", _mi_bin(0));
  CHECKF(_mi_bin(MI_LARGE_OBJ_SIZE_MAX + 1) == MI_BIN_HUGE, "_mi_bin(MI_LARGE_OBJ_SIZE_MAX + 1) = %zu", _mi_bin(MI_LARGE_OBJ_SIZE_MAX + 1));
  /* every larger size, up to SIZE_MAX (whose granule count would wrap) */
  CHECK(_mi_bin(MI_MAX_ALLOC_SIZE) == MI_BIN_HUGE);
  for (size_t d = 0; d < 64; d++) CHECKF(_mi_bin(SIZE_MAX - d) == MI_BIN_HUGE, "_mi_bin(SIZE_MAX - %zu) = %zu", d, _mi_bin(SIZE_MAX - d));
  CHECK(_mi_bin(MI_MEDIUM_OBJ_SIZE_MAX + 1) < MI_BIN_HUGE);

  /* Per-size properties. Failures are counted per property (not per size)
     so that a wrong formula gives a few readable lines, not millions. */
  size_t prev_bin = 0;
  size_t lower = 0;   /* block size of the class below the current one */
  long bad_range = 0, bad_tight = 0, bad_monotone = 0, bad_waste = 0;
  size_t first_bad_range = 0, first_bad_tight = 0, first_bad_monotone = 0, first_bad_waste = 0;
  size_t checked = 0;
  for (size_t size = 0; size <= MI_LARGE_OBJ_SIZE_MAX; size++, checked++) {
    const size_t bin = _mi_bin(size);
    if (bin < 1 || bin >= MI_BIN_HUGE) {
      if (bad_range++ == 0) first_bad_range = size;
      continue;
    }
    reached[bin] = true;
    const size_t bsize = _mi_bin_size(bin);
    if (bin < prev_bin) {
      if (bad_monotone++ == 0) first_bad_monotone = size;
    }
    /* tight: the size does not fit the class below it that sizes reach
       (medium sizes skip every other class, see the class loop below) */
    if (bin != prev_bin && prev_bin != 0) lower = _mi_bin_size(prev_bin);
    if (bsize < size || (size > 0 && size <= lower)) {
      if (bad_tight++ == 0) first_bad_tight = size;
    }
    prev_bin = bin;
    /* waste: what the block holds beyond the request */
    if (size > 0) {
      const size_t waste = bsize - size;
      bool ok;
      if (size <= 128)                        ok = (waste < MI_BIN_STEP);
      else if (size <= MI_BIN_FINE_MAX)       ok = (waste * 9 < bsize);
      else                                    ok = (waste * 5 < bsize);
      if (!ok && bad_waste++ == 0) first_bad_waste = size;
    }
  }
  CHECKF(bad_range == 0, "%ld sizes map outside 1..MI_BIN_HUGE-1, first %zu -> bin %zu", bad_range, first_bad_range, _mi_bin(first_bad_range));
  CHECKF(bad_tight == 0, "%ld sizes get a class that is too small or not the tightest, first %zu -> bin %zu (%zu bytes)",
         bad_tight, first_bad_tight, _mi_bin(first_bad_tight), _mi_bin_size(_mi_bin(first_bad_tight)));
  CHECKF(bad_monotone == 0, "%ld sizes get a smaller bin than the size before them, first %zu", bad_monotone, first_bad_monotone);
  CHECKF(bad_waste == 0, "%ld sizes waste more than doc/design.md allows, first %zu -> %zu bytes",
         bad_waste, first_bad_waste, _mi_bin_size(_mi_bin(first_bad_waste)));
  CHECKF(checked == MI_LARGE_OBJ_SIZE_MAX + 1, "checked %zu sizes", checked);

  /* Per-class properties, over every class below the huge one. */
  size_t reached_count = 0;
  for (size_t bin = 1; bin < MI_BIN_HUGE; bin++) {
    const size_t bsize = _mi_bin_size(bin);
    CHECKF(bin == 1 || _mi_bin_size(bin - 1) < bsize, "class sizes grow: bin %zu is %zu bytes, bin %zu is %zu", bin - 1, _mi_bin_size(bin - 1), bin, bsize);
    CHECKF(bsize % MI_GRANULE_SIZE == 0, "bin %zu: %zu bytes is not whole granules", bin, bsize);
    CHECKF(bsize % needed_alignment(bsize) == 0, "bin %zu: %zu bytes is not a multiple of its alignment %zu", bin, bsize, needed_alignment(bsize));
    if (bsize > 128) CHECKF(bsize % 16 == 0, "bin %zu: %zu bytes above 128 is not a multiple of 16", bin, bsize);
    CHECKF(bsize <= MI_LARGE_OBJ_SIZE_MAX, "bin %zu: %zu bytes is above MI_LARGE_OBJ_SIZE_MAX", bin, bsize);
    if (reached[bin]) {
      reached_count++;
      CHECKF(_mi_bin(bsize) == bin, "round trip: bin %zu is %zu bytes, and _mi_bin of that is %zu", bin, bsize, _mi_bin(bsize));
    }
    else {
      /* a class no size maps to (sizes above MI_BIN_FINE_MAX use every
         other class): its block size belongs to the next class up */
      CHECKF(bsize > MI_BIN_FINE_MAX, "bin %zu (%zu bytes) is a fine class that no size reaches", bin, bsize);
      CHECKF(_mi_bin(bsize) > bin, "unreached bin %zu (%zu bytes): _mi_bin gives %zu", bin, bsize, _mi_bin(bsize));
    }
  }
  /* the exact classes: 8, then steps of MI_BIN_STEP up to 128 */
  CHECK(_mi_bin_size(1) == 8);
  CHECK(_mi_bin_size(MI_BIN_EXACT) == 128);
  CHECK(_mi_bin(128) == MI_BIN_EXACT && _mi_bin(129) == MI_BIN_EXACT + 1);
  CHECKF(_mi_bin_size(MI_BIN_EXACT + 1) == 144, "first class above 128: %zu bytes", _mi_bin_size(MI_BIN_EXACT + 1));
  /* the largest class holds the largest non-huge size, and is the last reached */
  CHECK(_mi_bin_size(_mi_bin(MI_LARGE_OBJ_SIZE_MAX)) == MI_LARGE_OBJ_SIZE_MAX);
  CHECKF(_mi_bin(MI_LARGE_OBJ_SIZE_MAX) == MI_BIN_HUGE - 1, "bin of MI_LARGE_OBJ_SIZE_MAX: %zu, MI_BIN_HUGE %d", _mi_bin(MI_LARGE_OBJ_SIZE_MAX), (int)MI_BIN_HUGE);
  /* the pseudo sizes of the huge and full queues lie above every class */
  CHECK(_mi_bin_size(MI_BIN_HUGE) > MI_LARGE_OBJ_SIZE_MAX);
  CHECK(MI_FULL_QUEUE_SIZE > _mi_bin_size(MI_BIN_HUGE));

  /* mi_good_size is the class size up to the largest class (less the
     padding of MI_DEBUG 2: not the program's) */
  for (size_t size = 1; size <= MI_LARGE_OBJ_SIZE_MAX - MI_PADDING_SIZE; size += 997) {
    CHECKF(mi_good_size(size) == _mi_bin_size(_mi_bin(size + MI_PADDING_SIZE)) - MI_PADDING_SIZE, "mi_good_size(%zu) = %zu", size, mi_good_size(size));
  }
  printf("%zu sizes, %zu of %d classes reached\n", checked, reached_count, (int)MI_BIN_HUGE - 1);
  return test_report();
}
