/* SPDX-License-Identifier: MIT */
/* Byte patterns for blocks that cross a boundary (a dlopen'ed library, a
   thread, an exit handler): fill a block from a seed where it is allocated,
   check it where it is freed. Also compiled as C++ (early-late-tls.cpp). */
#ifndef MICA_TEST_PATTERN_H
#define MICA_TEST_PATTERN_H

#include <stddef.h>

static inline unsigned char pattern_byte(size_t i, unsigned seed) {
  return (unsigned char)(seed * 131u + (unsigned)i * 7u + (unsigned)(i >> 9));
}

static inline void pattern_fill(void* p, size_t n, unsigned seed) {
  unsigned char* b = (unsigned char*)p;
  for (size_t i = 0; i < n; i++) b[i] = pattern_byte(i, seed);
}

/* 1 if the first n bytes of p still hold the pattern of `seed` */
static inline int pattern_ok(const void* p, size_t n, unsigned seed) {
  if (p == NULL) return 0;
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) {
    if (b[i] != pattern_byte(i, seed)) return 0;
  }
  return 1;
}

/* the j-th size of a round: every size class from 8 B to 256 KiB */
static inline size_t pattern_size(size_t j) {
  return ((size_t)8 << (j % 16)) + (j % 3) * 8;
}

#endif
