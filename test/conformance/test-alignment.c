/* SPDX-License-Identifier: MIT */
/* Fundamental alignment of every block (C17 7.22.3): a request of n bytes
   is aligned for any object of fundamental alignment that fits in n bytes,
   that is to alignof(max_align_t) when n >= alignof(max_align_t), else to
   the largest power of two <= n. Checked for every size 1..8192 and powers
   of two +-1 up to 64 MiB, through every allocation entry point of the C
   library names and of the mi_ API (regression: classes of 24, 40, 56 ...
   bytes were only 8-byte aligned, and clang++ crashed on it). */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include "mica.h"
#include "test.h"

#define MAX_ALIGN  ((size_t)_Alignof(max_align_t))

static size_t required(size_t n) {
  if (n >= MAX_ALIGN) return MAX_ALIGN;
  size_t a = 1;
  while (a * 2 <= n) a *= 2;
  return a;
}

/* what: entry point; n: requested size; min: extra alignment asked for */
static void check_block(const char* what, void* p, size_t n, size_t min) {
  size_t need = required(n);
  if (min > need) need = min;
  CHECKF(p != NULL, "%s(%zu) returned NULL", what, n);
  if (p == NULL) return;
  CHECKF(((uintptr_t)p & (need - 1)) == 0, "%s(%zu) = %p is not %zu-byte aligned", what, n, p, need);
  /* usable: first and last byte */
  ((volatile char*)p)[0] = 1;
  ((volatile char*)p)[n - 1] = 2;
}

static void check_size(mi_heap_t* heap, size_t n) {
  void* p;
  /* C library names (mica's when it overrides; always a conforming malloc) */
  p = malloc(n);              check_block("malloc", p, n, 0); free(p);
  p = calloc(1, n);           check_block("calloc", p, n, 0); free(p);
  p = calloc(n, 1);           check_block("calloc(n,1)", p, n, 0); free(p);
  p = realloc(NULL, n);       check_block("realloc(NULL)", p, n, 0); free(p);
  p = realloc(malloc(1), n);  check_block("realloc(1->n)", p, n, 0); free(p);
  p = realloc(malloc(n + n / 2 + 1), n); check_block("realloc(shrink)", p, n, 0); free(p);
  p = reallocarray(NULL, 1, n); check_block("reallocarray", p, n, 0); free(p);
  /* mi_ API */
  p = mi_malloc(n);           check_block("mi_malloc", p, n, 0); mi_free(p);
  p = mi_zalloc(n);           check_block("mi_zalloc", p, n, 0); mi_free(p);
  p = mi_calloc(1, n);        check_block("mi_calloc", p, n, 0); mi_free(p);
  p = mi_mallocn(1, n);       check_block("mi_mallocn", p, n, 0); mi_free(p);
  p = mi_realloc(NULL, n);    check_block("mi_realloc(NULL)", p, n, 0); mi_free(p);
  p = mi_realloc(mi_malloc(1), n); check_block("mi_realloc(1->n)", p, n, 0); mi_free(p);
  p = mi_reallocf(mi_malloc(3), n); check_block("mi_reallocf", p, n, 0); mi_free(p);
  p = mi_reallocn(NULL, 1, n); check_block("mi_reallocn", p, n, 0); mi_free(p);
  p = mi_rezalloc(mi_zalloc(2), n); check_block("mi_rezalloc", p, n, 0); mi_free(p);
  p = mi_recalloc(NULL, 1, n); check_block("mi_recalloc", p, n, 0); mi_free(p);
  p = mi_reallocarray(NULL, n, 1); check_block("mi_reallocarray", p, n, 0); mi_free(p);
  p = mi_heap_malloc(heap, n); check_block("mi_heap_malloc", p, n, 0); mi_free(p);
  p = mi_heap_zalloc(heap, n); check_block("mi_heap_zalloc", p, n, 0); mi_free(p);
  p = mi_heap_calloc(heap, n, 1); check_block("mi_heap_calloc", p, n, 0); mi_free(p);
  p = mi_heap_realloc(heap, NULL, n); check_block("mi_heap_realloc", p, n, 0); mi_free(p);
  if (n <= MI_SMALL_SIZE_MAX) {
    p = mi_malloc_small(n);   check_block("mi_malloc_small", p, n, 0); mi_free(p);
    p = mi_zalloc_small(n);   check_block("mi_zalloc_small", p, n, 0); mi_free(p);
    p = mi_heap_malloc_small(heap, n); check_block("mi_heap_malloc_small", p, n, 0); mi_free(p);
  }
  /* aligned entry points asked for less than the fundamental alignment */
  /* every alignment for the small sizes; 1 and the largest for big ones,
     whose zeroing and copying dominate the run time under emulation */
  for (size_t a = 1; a <= MAX_ALIGN; a = (n > 8192 && a < MAX_ALIGN ? MAX_ALIGN : a * 2)) {
    p = mi_malloc_aligned(n, a); check_block("mi_malloc_aligned", p, n, a); mi_free(p);
    p = mi_zalloc_aligned(n, a); check_block("mi_zalloc_aligned", p, n, a); mi_free(p);
    p = mi_heap_malloc_aligned(heap, n, a); check_block("mi_heap_malloc_aligned", p, n, a); mi_free(p);
    p = mi_realloc_aligned(NULL, n, a); check_block("mi_realloc_aligned", p, n, a); mi_free(p);
    p = NULL;
    if (a >= sizeof(void*)) {
      CHECKF(posix_memalign(&p, a, n) == 0, "posix_memalign(%zu, %zu) failed", a, n);
      check_block("posix_memalign", p, n, a); free(p);
      CHECKF(mi_posix_memalign(&p, a, n) == 0, "mi_posix_memalign(%zu, %zu) failed", a, n);
      check_block("mi_posix_memalign", p, n, a); mi_free(p);
    }
    p = memalign(a, n);       check_block("memalign", p, n, a); free(p);
    p = mi_memalign(a, n);    check_block("mi_memalign", p, n, a); mi_free(p);
  }
  /* strings of n bytes (with the terminator) */
  if (n <= 8192) {
    static char text[8193];
    if (text[0] == 0) memset(text, 'x', sizeof(text) - 1);
    char* s = mi_strndup(text, n - 1); check_block("mi_strndup", s, n, 0); mi_free(s);
    s = mi_heap_strndup(heap, text, n - 1); check_block("mi_heap_strndup", s, n, 0); mi_free(s);
  }
}

/* Blocks that stay live while others are allocated: alignment must not
   depend on the order in which a page's blocks are handed out. */
static void check_live_runs(void) {
  enum { RUN = 200 };
  void* run[RUN];
  for (size_t n = 17; n <= 1024; n += 7) {
    /* the C names and the mi_ names apart: without the override (under
       ASan) free() is not mi_free() */
    for (int i = 0; i < RUN; i++) { run[i] = malloc(n); check_block("malloc(run)", run[i], n, 0); }
    for (int i = 0; i < RUN; i += 2) free(run[i]);
    for (int i = 0; i < RUN; i += 2) { run[i] = malloc(n); check_block("malloc(run, again)", run[i], n, 0); }
    for (int i = 0; i < RUN; i++) free(run[i]);
    for (int i = 0; i < RUN; i++) { run[i] = mi_malloc(n); check_block("mi_malloc(run)", run[i], n, 0); }
    for (int i = 0; i < RUN; i += 2) mi_free(run[i]);
    for (int i = 0; i < RUN; i += 2) { run[i] = mi_malloc(n); check_block("mi_malloc(run, again)", run[i], n, 0); }
    for (int i = 0; i < RUN; i++) mi_free(run[i]);
  }
}

int main(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  for (size_t n = 1; n <= 8192; n++) check_size(heap, n);
  for (size_t k = 13; k <= 26; k++) {
    const size_t pow = (size_t)1 << k;
    check_size(heap, pow - 1);
    check_size(heap, pow);
    check_size(heap, pow + 1);
  }
  check_live_runs();
  mi_heap_delete(heap);
  return test_report();
}
