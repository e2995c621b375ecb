/* SPDX-License-Identifier: MIT */
/* The portable fallbacks of the compiler builtins mica uses: this file is
   compiled with MI_GNUC_COMPATIBLE=0, so internal.h's mi_mul_overflow and
   arch.h's mi_bsr take their plain-C paths, and they are checked against
   exact arithmetic on edge cases and a sweep of values.
   Prints "N passed, N failed". */
#include <stdint.h>
#include "mica/internal.h"
#include "test.h"

#if MI_GNUC_COMPATIBLE
#error "this test must be compiled with -DMI_GNUC_COMPATIBLE=0"
#endif

static size_t bsr_ref(uintptr_t x) {
  size_t i = MI_INTPTR_BITS - 1;
  while (((x >> i) & 1) == 0) i--;
  return i;
}

/* overflow by long division: does a*b fit in size_t? */
static bool mul_overflows_ref(size_t a, size_t b) {
  return (a != 0 && b > SIZE_MAX / a);
}

int main(void) {
  /* mi_bsr: every single bit, and every bit with noise below it */
  for (size_t i = 0; i < MI_INTPTR_BITS; i++) {
    const uintptr_t bit = (uintptr_t)1 << i;
    CHECKF(mi_bsr(bit) == i, "mi_bsr(1 << %zu) = %zu", i, mi_bsr(bit));
    CHECKF(mi_bsr(bit | (bit - 1)) == i, "mi_bsr(2^%zu - 1 + 2^%zu) = %zu", i, i, mi_bsr(bit | (bit - 1)));
  }
  uintptr_t x = 0x9e3779b9u;
  for (int n = 0; n < 100000; n++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const uintptr_t v = (x >> (n % MI_INTPTR_BITS)) | 1;
    if (mi_bsr(v) != bsr_ref(v)) { CHECKF(false, "mi_bsr(%#zx)", (size_t)v); break; }
  }
  CHECK(mi_bsr(UINTPTR_MAX) == MI_INTPTR_BITS - 1);

  /* mi_mul_overflow: the boundaries of size_t and a sweep */
  const size_t half = (size_t)1 << (sizeof(size_t) * 4);
  const size_t edges[] = { 0, 1, 2, 3, 7, 8, 255, half - 1, half, half + 1, SIZE_MAX / 3, SIZE_MAX / 2,
                           SIZE_MAX / 2 + 1, SIZE_MAX - 1, SIZE_MAX };
  const size_t n_edges = sizeof(edges) / sizeof(edges[0]);
  for (size_t i = 0; i < n_edges; i++) {
    for (size_t j = 0; j < n_edges; j++) {
      size_t total = 0;
      const bool ovf = mi_mul_overflow(edges[i], edges[j], &total);
      const bool ref = mul_overflows_ref(edges[i], edges[j]);
      CHECKF(ovf == ref, "mi_mul_overflow(%zu, %zu) says %d", edges[i], edges[j], (int)ovf);
      if (!ref) CHECKF(total == edges[i] * edges[j], "mi_mul_overflow(%zu, %zu) = %zu", edges[i], edges[j], total);
    }
  }
  for (int n = 0; n < 100000; n++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const size_t a = (size_t)(x >> (n % 40)), b = (size_t)(x >> (20 + n % 40)) + 1;
    size_t total;
    if (mi_mul_overflow(a, b, &total) != mul_overflows_ref(a, b)) { CHECKF(false, "mi_mul_overflow(%zu, %zu)", a, b); break; }
  }
  return test_report();
}
