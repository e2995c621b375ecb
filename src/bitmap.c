/* SPDX-License-Identifier: MIT */
/* Concurrent bitmaps of word-sized atomics. A claimed run of bits always
   lies inside one word, so a claim is a single compare-and-swap. */
#include "mica/internal.h"

static inline uintptr_t mi_bitmap_mask(size_t count, size_t shift) {
  mi_assert_internal(count > 0 && count + shift <= MI_INTPTR_BITS);
  const uintptr_t ones = (count == MI_INTPTR_BITS ? ~(uintptr_t)0 : (((uintptr_t)1 << count) - 1));
  return ones << shift;
}

/* Find and atomically set a run of `count` clear bits inside one word:
   with `prefer` (read relaxed: a hint), the run with the most bits set in
   it, the lowest of equals; without, the first. The arena prefers dirty
   units: a huge block that cannot fit in freed resident memory still takes
   what it can of it, rather than fresh memory beside memory left resident
   until its purge (bench-huge, doc/benchmarks.md). The claim itself is the
   compare-and-swap; a lost race rescans. Acquire on success: the claimer
   then owns the memory the bits describe. */
static bool mi_bitmap_try_claim_in(mi_atomic(uintptr_t)* map, mi_atomic(uintptr_t)* prefer, size_t words, size_t count, size_t* bit_idx) {
  if (count == 0 || count > MI_INTPTR_BITS) return false;
  for (;;) {
    size_t best_word = words, best_shift = 0, best_score = 0;
    uintptr_t best_seen = 0;
    for (size_t i = 0; i < words && !(prefer == NULL && best_word < words); i++) {
      const uintptr_t word = mi_atomic_load_relaxed(&map[i]);
      if (word == ~(uintptr_t)0) continue;
      const uintptr_t liked = (prefer == NULL ? 0 : mi_atomic_load_relaxed(&prefer[i]));
      for (size_t shift = 0; shift + count <= MI_INTPTR_BITS; shift++) {
        const uintptr_t mask = mi_bitmap_mask(count, shift);
        if ((word & mask) != 0) continue;
        const size_t score = mi_popcount(liked & mask);
        if (best_word == words || score > best_score) {
          best_word = i; best_shift = shift; best_score = score; best_seen = word;
          if (prefer == NULL || score == count) break;   /* nothing can beat it in this word */
        }
      }
      if (prefer != NULL && best_word < words && best_score == count) break;
    }
    if (best_word == words) return false;
    uintptr_t expected = best_seen;
    if (mi_atomic_cas_strong_acq_rel(&map[best_word], &expected, best_seen | mi_bitmap_mask(count, best_shift))) {
      *bit_idx = best_word * MI_INTPTR_BITS + best_shift;
      return true;
    }
  }
}

bool _mi_bitmap_try_claim(mi_atomic(uintptr_t)* map, size_t words, size_t count, size_t* bit_idx) {
  return mi_bitmap_try_claim_in(map, NULL, words, count, bit_idx);
}

bool _mi_bitmap_try_claim_most(mi_atomic(uintptr_t)* map, mi_atomic(uintptr_t)* prefer, size_t words, size_t count, size_t* bit_idx) {
  return mi_bitmap_try_claim_in(map, prefer, words, count, bit_idx);
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
