/* SPDX-License-Identifier: MIT */
/* Concurrent bitmaps of word-sized atomics. A claimed run of bits always
   lies inside one word, so a claim is a single compare-and-swap. */
#include "mica/internal.h"

static inline uintptr_t mi_bitmap_mask(size_t count, size_t shift) {
  mi_assert_internal(count > 0 && count + shift <= MI_INTPTR_BITS);
  const uintptr_t ones = (count == MI_INTPTR_BITS ? ~(uintptr_t)0 : (((uintptr_t)1 << count) - 1));
  return ones << shift;
}

/* Find and atomically set a run of `count` clear bits inside one word,
   only among runs whose bits are all set in `within` if it is not NULL
   (read relaxed: a hint, the claim itself is the compare-and-swap).
   Acquire on success: the claimer then owns the memory the bits describe. */
static bool mi_bitmap_try_claim_in(mi_atomic(uintptr_t)* map, mi_atomic(uintptr_t)* within, size_t words, size_t count, size_t* bit_idx) {
  if (count == 0 || count > MI_INTPTR_BITS) return false;
  for (size_t i = 0; i < words; i++) {
    const uintptr_t allowed = (within == NULL ? ~(uintptr_t)0 : mi_atomic_load_relaxed(&within[i]));
    if (allowed == 0) continue;
    uintptr_t word = mi_atomic_load_relaxed(&map[i]);
    size_t shift = 0;
    while (shift + count <= MI_INTPTR_BITS) {
      const uintptr_t mask = mi_bitmap_mask(count, shift);
      if ((word & mask) != 0 || (allowed & mask) != mask) { shift++; continue; }
      if (mi_atomic_cas_weak_acq_rel(&map[i], &word, word | mask)) {
        *bit_idx = i * MI_INTPTR_BITS + shift;
        return true;
      }
      /* `word` was refreshed by the failed CAS: look at this shift again */
    }
  }
  return false;
}

bool _mi_bitmap_try_claim(mi_atomic(uintptr_t)* map, size_t words, size_t count, size_t* bit_idx) {
  return mi_bitmap_try_claim_in(map, NULL, words, count, bit_idx);
}

bool _mi_bitmap_try_claim_within(mi_atomic(uintptr_t)* map, mi_atomic(uintptr_t)* within, size_t words, size_t count, size_t* bit_idx) {
  return mi_bitmap_try_claim_in(map, within, words, count, bit_idx);
}

/* Set or clear [idx, idx+count), which may span words (acq_rel: a release
   publishes what the setter wrote before; the acquire orders a purger's
   later reads after the bits it saw). */
void _mi_bitmap_set(mi_atomic(uintptr_t)* map, size_t idx, size_t count) {
  while (count > 0) {
    const size_t shift = idx % MI_INTPTR_BITS;
    const size_t n = (count < MI_INTPTR_BITS - shift ? count : MI_INTPTR_BITS - shift);
    mi_atomic_fetch_or_acq_rel(&map[idx / MI_INTPTR_BITS], mi_bitmap_mask(n, shift));
    idx += n; count -= n;
  }
}

void _mi_bitmap_clear(mi_atomic(uintptr_t)* map, size_t idx, size_t count) {
  while (count > 0) {
    const size_t shift = idx % MI_INTPTR_BITS;
    const size_t n = (count < MI_INTPTR_BITS - shift ? count : MI_INTPTR_BITS - shift);
    mi_atomic_fetch_and_acq_rel(&map[idx / MI_INTPTR_BITS], ~mi_bitmap_mask(n, shift));
    idx += n; count -= n;
  }
}

bool _mi_bitmap_is_any_set(mi_atomic(uintptr_t)* map, size_t idx, size_t count) {
  while (count > 0) {
    const size_t shift = idx % MI_INTPTR_BITS;
    const size_t n = (count < MI_INTPTR_BITS - shift ? count : MI_INTPTR_BITS - shift);
    if ((mi_atomic_load_relaxed(&map[idx / MI_INTPTR_BITS]) & mi_bitmap_mask(n, shift)) != 0) return true;
    idx += n; count -= n;
  }
  return false;
}
