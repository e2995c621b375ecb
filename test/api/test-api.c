/* SPDX-License-Identifier: MIT */
/* test-api: every public function of mica.h, with edge cases.

   Each section is one function; all run in one process, in order, and every
   check continues on failure so one run shows every broken entry point.
   The tool test/api/api-coverage.cmake fails if a function declared in mica.h
   is never called here. */
#define _POSIX_C_SOURCE 200809L
#include "mica.h"
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
   Helpers
--------------------------------------------------------------------------- */

/* Hide a pointer's origin from the compiler, so writing the usable size of a
   block (which may exceed the requested size) is not diagnosed through the
   alloc_size attribute. */
static void* opaque(void* p)
{
  void* volatile v = p;
  return v;
}

/* Sizes passed through a volatile so the compiler does not warn about
   deliberately impossible requests. */
static volatile size_t vsize_max = SIZE_MAX;

static size_t page_size(void)
{
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? (size_t)ps : 4096;
}

static int is_aligned(const void* p, size_t align)
{
  return ((uintptr_t)p % align) == 0;
}

static int is_zero(const void* p, size_t n)
{
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) {
    if (b[i] != 0) return 0;
  }
  return 1;
}

static unsigned char pat(size_t i, unsigned seed)
{
  return (unsigned char)((i * 131u) ^ (i >> 8) ^ seed);
}

static void fill(void* p, size_t n, unsigned seed)
{
  unsigned char* b = (unsigned char*)p;
  for (size_t i = 0; i < n; i++) b[i] = pat(i, seed);
}

static int verify(const void* p, size_t n, unsigned seed)
{
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) {
    if (b[i] != pat(i, seed)) return 0;
  }
  return 1;
}

/* Usable size is at least the request and every usable byte is writable. */
static void check_usable(void* p, size_t request)
{
  size_t u = mi_usable_size(p);
  CHECKF(u >= request, "usable size %zu < request %zu", u, request);
  memset(opaque(p), 0xAB, u);
}

/* Errors reported through mi_register_error. */
#define MAX_ERRS 64
static int err_codes[MAX_ERRS];
static int err_count;
static int err_arg_ok;
static int err_marker;

static void on_error(int err, void* arg)
{
  if (arg == &err_marker) err_arg_ok++;
  if (err_count < MAX_ERRS) err_codes[err_count] = err;
  err_count++;
}

static void errors_reset(void)
{
  err_count = 0;
  err_arg_ok = 0;
}

static int errors_all(int code)
{
  int n = err_count < MAX_ERRS ? err_count : MAX_ERRS;
  for (int i = 0; i < n; i++) {
    if (err_codes[i] != code) return 0;
  }
  return 1;
}

/* Output captured through mi_register_output or a direct output function. */
static char out_buf[1 << 16];
static size_t out_len;
static int out_arg_ok;
static int out_marker;

static void on_output(const char* msg, void* arg)
{
  if (arg == &out_marker) out_arg_ok++;
  size_t n = strlen(msg);
  if (out_len + n >= sizeof out_buf) n = sizeof out_buf - 1 - out_len;
  memcpy(out_buf + out_len, msg, n);
  out_len += n;
  out_buf[out_len] = 0;
}

static void output_reset(void)
{
  out_len = 0;
  out_buf[0] = 0;
  out_arg_ok = 0;
}

/* ---------------------------------------------------------------------------
   Basic allocation
--------------------------------------------------------------------------- */
static void test_malloc_basic(void)
{
  void* a = mi_malloc(0);
  void* b = mi_malloc(0);
  CHECK(a != NULL);
  CHECK(b != NULL);
  CHECK(a != b);
  mi_free(a);
  mi_free(b);

  void* z = mi_zalloc(0);
  CHECK(z != NULL);
  mi_free(z);
  void* c0 = mi_calloc(0, 0);
  void* c1 = mi_calloc(0, 16);
  void* c2 = mi_calloc(16, 0);
  CHECK(c0 != NULL && c1 != NULL && c2 != NULL);
  CHECK(c0 != c1 && c1 != c2 && c0 != c2);
  mi_free(c0);
  mi_free(c1);
  mi_free(c2);

  mi_free(NULL);   /* must be a no-op */

  /* Many distinct live blocks of one size do not overlap. */
  enum { N = 1000 };
  static unsigned char* blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = (unsigned char*)mi_malloc(40);
    CHECK(blocks[i] != NULL);
    if (blocks[i]) memset(blocks[i], i & 0xFF, 40);
  }
  int ok = 1;
  for (int i = 0; i < N; i++) {
    if (!blocks[i]) continue;
    for (int j = 0; j < 40; j++) {
      if (blocks[i][j] != (unsigned char)(i & 0xFF)) ok = 0;
    }
  }
  CHECKF(ok, "1000 blocks of 40 bytes overlap");
  for (int i = 0; i < N; i++) mi_free(blocks[i]);

  /* Default alignment: at least that of max_align_t for blocks that large. */
  for (size_t n = 16; n <= 4096; n *= 2) {
    void* p = mi_malloc(n);
    CHECKF(is_aligned(p, n < _Alignof(max_align_t) ? n : _Alignof(max_align_t)),
           "mi_malloc(%zu) = %p is under-aligned", n, p);
    mi_free(p);
  }
}

static void test_overflow(void)
{
  void* p;
  errno = 0;
  p = mi_calloc(vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_calloc overflow: errno %d", errno);

  errno = 0;
  p = mi_mallocn(vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_mallocn overflow: errno %d", errno);

  errno = 0;
  p = mi_malloc(vsize_max);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_malloc(SIZE_MAX): errno %d", errno);

  errno = 0;
  p = mi_malloc(vsize_max / 2 + 1);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_malloc(SIZE_MAX/2+1): errno %d", errno);

  errno = 0;
  p = mi_zalloc(vsize_max - 4096);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_zalloc(SIZE_MAX-4096): errno %d", errno);

  errno = 0;
  p = mi_malloc_aligned(vsize_max - 64, 64);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_malloc_aligned(SIZE_MAX-64): errno %d", errno);

  errno = 0;
  p = mi_calloc_aligned(vsize_max / 2, 3, 64);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_calloc_aligned overflow: errno %d", errno);

  /* Failed re-allocations leave the original block intact. */
  char* q = (char*)mi_malloc(100);
  CHECK(q != NULL);
  fill(q, 100, 7);

  errno = 0;
  p = mi_reallocn(q, vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_reallocn overflow: errno %d", errno);
  CHECK(verify(q, 100, 7));

  errno = 0;
  p = mi_reallocarray(q, vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_reallocarray overflow: errno %d", errno);
  CHECK(verify(q, 100, 7));

  errno = 0;
  p = mi_realloc(q, vsize_max);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_realloc(p, SIZE_MAX): errno %d", errno);
  CHECK(verify(q, 100, 7));

  errno = 0;
  p = mi_recalloc(q, vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_recalloc overflow: errno %d", errno);
  CHECK(verify(q, 100, 7));

  void* before = q;
  int rc = mi_reallocarr(&q, vsize_max / 2, 3);
  CHECKF(rc != 0, "mi_reallocarr overflow returned 0");
  CHECK(q == before);
  CHECK(verify(q, 100, 7));

  /* reallocf frees the original on failure (nothing to check but no crash). */
  errno = 0;
  p = mi_reallocf(q, vsize_max);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_reallocf(p, SIZE_MAX): errno %d", errno);

  errno = 0;
  mi_heap_t* h = mi_heap_get_default();
  p = mi_heap_calloc(h, vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_heap_calloc overflow: errno %d", errno);
  errno = 0;
  p = mi_heap_mallocn(h, vsize_max / 2, 3);
  CHECK(p == NULL);
  CHECKF(errno == ENOMEM, "mi_heap_mallocn overflow: errno %d", errno);

  void* r = NULL;
  void* sentinel = (void*)(uintptr_t)0x1234;
  r = sentinel;
  rc = mi_posix_memalign(&r, 64, vsize_max - 32);
  CHECKF(rc == ENOMEM, "mi_posix_memalign(SIZE_MAX-32): %d", rc);
  CHECK(r == sentinel);

  /* Allocation keeps working after all the failures. */
  p = mi_malloc(1000);
  CHECK(p != NULL);
  mi_free(p);
}

static void test_usable_and_good_size(void)
{
  static const size_t sizes[] = {
    1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 127, 128,
    129, 255, 256, 257, 500, 511, 512, 513, 1000, 1023, 1024, 1025, 2000, 4095,
    4096, 4097, 8000, 10000, 16384, 30000, 65536, 100000, 131072, 200000,
    524288, 1000000, 2097152, 3000000, 8388608 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    void* p = mi_malloc(n);
    CHECKF(p != NULL, "mi_malloc(%zu) failed", n);
    if (!p) continue;
    check_usable(p, n);
    CHECK(mi_malloc_usable_size(p) == mi_usable_size(p));
    CHECK(mi_malloc_size(p) == mi_usable_size(p));
    size_t g = mi_good_size(n);
    CHECKF(g >= n, "mi_good_size(%zu) = %zu", n, g);
    CHECKF(mi_malloc_good_size(n) >= n, "mi_malloc_good_size(%zu) = %zu", n, mi_malloc_good_size(n));
    mi_free(p);
    /* A request of exactly the good size fits in one block. */
    void* q = mi_malloc(g);
    CHECK(q != NULL);
    if (q) check_usable(q, g);
    mi_free(q);
  }
  CHECK(mi_usable_size(NULL) == 0);
  CHECK(mi_malloc_usable_size(NULL) == 0);
}

static void test_small(void)
{
  for (size_t n = 0; n <= MI_SMALL_SIZE_MAX; n += (n < 64 ? 1 : 37)) {
    void* p = mi_malloc_small(n);
    CHECKF(p != NULL, "mi_malloc_small(%zu)", n);
    if (p) check_usable(p, n);
    mi_free(p);
    unsigned char* z = (unsigned char*)mi_zalloc_small(n);
    CHECKF(z != NULL, "mi_zalloc_small(%zu)", n);
    if (z) {
      CHECKF(is_zero(z, n), "mi_zalloc_small(%zu) not zeroed", n);
      memset(z, 0xFF, n);
    }
    mi_free(z);
  }
  void* p = mi_malloc_small(MI_SMALL_SIZE_MAX);
  CHECK(p != NULL);
  if (p) check_usable(p, MI_SMALL_SIZE_MAX);
  mi_free(p);
}

/* calloc and every zeroing allocator return zeroed memory, including memory
   that was dirtied and freed just before (so recycled blocks are cleared). */
static void test_zeroing(void)
{
  static const size_t sizes[] = { 8, 24, 64, 200, 1000, 4096, 20000, 100000, 300000, 1048576, 3145728 };
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    int rounds = n >= 100000 ? 6 : 40;
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
      void* d = mi_malloc(n);
      if (!d) { bad++; continue; }
      memset(opaque(d), 0xFF, mi_usable_size(d));
      mi_free(d);
      void* c;
      switch (r % 6) {
        case 0: c = mi_calloc(1, n); break;
        case 1: c = mi_calloc(n / 8, 8); break;
        case 2: c = mi_zalloc(n); break;
        case 3: c = mi_zalloc_aligned(n, 64); break;
        case 4: c = mi_calloc_aligned(n, 1, 32); break;
        default: c = mi_heap_zalloc(mi_heap_get_default(), n); break;
      }
      if (!c || !is_zero(c, n)) bad++;
      mi_free(c);
    }
    CHECKF(bad == 0, "size %zu: %d of %d zeroing allocations failed or were not zero", n, bad, rounds);

    /* Same in a separate heap. */
    bad = 0;
    for (int r = 0; r < rounds; r++) {
      void* d = mi_heap_malloc(h, n);
      if (!d) { bad++; continue; }
      memset(opaque(d), 0xEE, mi_usable_size(d));
      mi_free(d);
      void* c = (r & 1) ? mi_heap_calloc(h, n, 1) : mi_heap_zalloc_aligned(h, n, 128);
      if (!c || !is_zero(c, n)) bad++;
      mi_free(c);
    }
    CHECKF(bad == 0, "heap size %zu: %d of %d zeroing allocations failed or were not zero", n, bad, rounds);
  }
  mi_heap_delete(h);
}

/* ---------------------------------------------------------------------------
   Aligned allocation
--------------------------------------------------------------------------- */
static void test_aligned(void)
{
  size_t aligns[32];
  int na = 0;
  for (size_t a = 1; a <= ((size_t)1 << 20); a *= 2) aligns[na++] = a;
  aligns[na++] = (size_t)2 << 20;
  aligns[na++] = (size_t)4 << 20;
  aligns[na++] = (size_t)16 << 20;

  static const size_t sizes[] = { 1, 8, 24, 100, 1000, 5000, 70000 };
  for (int i = 0; i < na; i++) {
    size_t a = aligns[i];
    for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
      size_t n = sizes[j];
      void* p = mi_malloc_aligned(n, a);
      CHECKF(p != NULL && is_aligned(p, a), "mi_malloc_aligned(%zu, %zu) = %p", n, a, p);
      if (p) check_usable(p, n);
      mi_free(p);
    }
    /* size equal to and larger than the alignment */
    void* p = mi_malloc_aligned(a, a);
    CHECKF(p != NULL && is_aligned(p, a), "mi_malloc_aligned(%zu, %zu) = %p", a, a, p);
    if (p) check_usable(p, a);
    mi_free_aligned(p, a);

    unsigned char* z = (unsigned char*)mi_zalloc_aligned(3000, a);
    CHECKF(z != NULL && is_aligned(z, a) && is_zero(z, 3000), "mi_zalloc_aligned(3000, %zu) = %p", a, (void*)z);
    mi_free_size_aligned(z, 3000, a);

    z = (unsigned char*)mi_calloc_aligned(100, 30, a);
    CHECKF(z != NULL && is_aligned(z, a) && is_zero(z, 3000), "mi_calloc_aligned(100, 30, %zu) = %p", a, (void*)z);
    if (z) fill(z, 3000, 3);
    /* re-allocation keeps alignment and contents */
    unsigned char* y = (unsigned char*)mi_realloc_aligned(z, 9000, a);
    CHECKF(y != NULL && is_aligned(y, a), "mi_realloc_aligned(9000, %zu) = %p", a, (void*)y);
    if (y) {
      CHECK(verify(y, 3000, 3));
      check_usable(y, 9000);
      z = y;
    }
    y = (unsigned char*)mi_realloc_aligned(z, 500, a);
    CHECKF(y != NULL && is_aligned(y, a), "mi_realloc_aligned(500, %zu) = %p", a, (void*)y);
    if (y) z = y;
    mi_free(z);

    void* m = mi_memalign(a, 200);
    CHECKF(m != NULL && is_aligned(m, a), "mi_memalign(%zu, 200) = %p", a, m);
    if (m) check_usable(m, 200);
    mi_free(m);

    size_t asize = a < 64 ? 64 : a;   /* C11: size a multiple of the alignment */
    m = mi_aligned_alloc(a, asize);
    CHECKF(m != NULL && is_aligned(m, a), "mi_aligned_alloc(%zu, %zu) = %p", a, asize, m);
    if (m) check_usable(m, asize);
    mi_free(m);

    if (a >= sizeof(void*)) {
      void* r = NULL;
      int rc = mi_posix_memalign(&r, a, 300);
      CHECKF(rc == 0 && r != NULL && is_aligned(r, a), "mi_posix_memalign(%zu) = %d, %p", a, rc, r);
      if (r) check_usable(r, 300);
      mi_free(r);
    }
  }

  /* Many live aligned blocks at once do not overlap. */
  enum { N = 200 };
  void* live[N];
  for (int i = 0; i < N; i++) {
    size_t a = (size_t)1 << (i % 13);
    live[i] = mi_malloc_aligned(48 + (size_t)i, a);
    CHECK(live[i] != NULL && is_aligned(live[i], a));
    if (live[i]) fill(live[i], 48 + (size_t)i, (unsigned)i);
  }
  int ok = 1;
  for (int i = 0; i < N; i++) {
    if (live[i] && !verify(live[i], 48 + (size_t)i, (unsigned)i)) ok = 0;
  }
  CHECKF(ok, "live aligned blocks overlap");
  for (int i = 0; i < N; i++) mi_free(live[i]);
}

static void test_aligned_invalid(void)
{
  static const size_t bad[] = { 0, 3, 6, 12, 24, 48, 100, 1000, ((size_t)1 << 20) + 1, ((size_t)3 << 20) };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t a = bad[i];
    void* p = mi_malloc_aligned(64, a);
    CHECKF(p == NULL, "mi_malloc_aligned(64, %zu) = %p, expected NULL", a, p);
    mi_free(p);
    p = mi_zalloc_aligned(64, a);
    CHECKF(p == NULL, "mi_zalloc_aligned(64, %zu) = %p, expected NULL", a, p);
    mi_free(p);
    p = mi_calloc_aligned(8, 8, a);
    CHECKF(p == NULL, "mi_calloc_aligned(8, 8, %zu) = %p, expected NULL", a, p);
    mi_free(p);
    p = mi_aligned_alloc(a, 64);
    CHECKF(p == NULL, "mi_aligned_alloc(%zu, 64) = %p, expected NULL", a, p);
    mi_free(p);

    void* sentinel = (void*)(uintptr_t)0xdead0;
    void* r = sentinel;
    int rc = mi_posix_memalign(&r, a, 64);
    CHECKF(rc == EINVAL, "mi_posix_memalign(%zu) returned %d, expected EINVAL", a, rc);
    CHECKF(r == sentinel, "mi_posix_memalign(%zu) changed *p on failure", a);
  }
  /* posix_memalign also requires a multiple of sizeof(void*) */
  for (size_t a = 1; a < sizeof(void*); a *= 2) {
    void* sentinel = (void*)(uintptr_t)0xdead0;
    void* r = sentinel;
    int rc = mi_posix_memalign(&r, a, 64);
    CHECKF(rc == EINVAL, "mi_posix_memalign(%zu) returned %d, expected EINVAL", a, rc);
    CHECK(r == sentinel);
  }
  /* still working */
  void* p = mi_malloc_aligned(64, 64);
  CHECK(p != NULL && is_aligned(p, 64));
  mi_free(p);
}

static void test_aligned_at(void)
{
  static const size_t aligns[] = { 8, 16, 32, 64, 256, 4096, 65536, (size_t)1 << 20 };
  static const size_t offsets[] = { 0, 8, 16, 24, 40, 100 };
  mi_heap_t* h = mi_heap_get_default();
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
      size_t a = aligns[i], off = offsets[j];
      if (off % sizeof(void*) != 0 && off > 0) continue;
      size_t n = off + 200;
      unsigned char* p = (unsigned char*)mi_malloc_aligned_at(n, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a), "mi_malloc_aligned_at(%zu, %zu, %zu) = %p", n, a, off, (void*)p);
      if (p) { check_usable(p, n); fill(p, n, 9); }
      unsigned char* q = (unsigned char*)mi_realloc_aligned_at(p, 3 * n, a, off);
      CHECKF(q != NULL && is_aligned(q + off, a), "mi_realloc_aligned_at(%zu, %zu, %zu) = %p", 3 * n, a, off, (void*)q);
      if (q) {
        CHECK(verify(q, n, 9));
        p = q;
      }
      mi_free(p);

      p = (unsigned char*)mi_zalloc_aligned_at(n, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a) && is_zero(p, n), "mi_zalloc_aligned_at(%zu, %zu, %zu)", n, a, off);
      mi_free(p);
      p = (unsigned char*)mi_calloc_aligned_at(n, 2, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a) && is_zero(p, 2 * n), "mi_calloc_aligned_at(%zu, 2, %zu, %zu)", n, a, off);
      mi_free(p);

      p = (unsigned char*)mi_heap_malloc_aligned_at(h, n, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a), "mi_heap_malloc_aligned_at(%zu, %zu, %zu)", n, a, off);
      mi_free(p);
      p = (unsigned char*)mi_heap_zalloc_aligned_at(h, n, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a) && is_zero(p, n), "mi_heap_zalloc_aligned_at(%zu, %zu, %zu)", n, a, off);
      mi_free(p);
      p = (unsigned char*)mi_heap_calloc_aligned_at(h, n, 3, a, off);
      CHECKF(p != NULL && is_aligned(p + off, a) && is_zero(p, 3 * n), "mi_heap_calloc_aligned_at(%zu, 3, %zu, %zu)", n, a, off);
      mi_free(p);
    }
  }
}

/* ---------------------------------------------------------------------------
   Re-allocation
--------------------------------------------------------------------------- */
static void test_realloc(void)
{
  /* realloc(NULL, n) is malloc(n) */
  void* p = mi_realloc(NULL, 300);
  CHECK(p != NULL);
  if (p) check_usable(p, 300);
  mi_free(p);
  p = mi_reallocn(NULL, 10, 30);
  CHECK(p != NULL);
  if (p) check_usable(p, 300);
  mi_free(p);
  p = mi_reallocf(NULL, 300);
  CHECK(p != NULL);
  mi_free(p);

  /* shrinking keeps the prefix */
  unsigned char* a = (unsigned char*)mi_malloc(10000);
  CHECK(a != NULL);
  fill(a, 10000, 1);
  unsigned char* b = (unsigned char*)mi_realloc(a, 100);
  CHECK(b != NULL);
  if (b) {
    CHECK(verify(b, 100, 1));
    check_usable(b, 100);
    a = b;
  }
  mi_free(a);

  /* growing within the usable size keeps the contents */
  a = (unsigned char*)mi_malloc(100);
  CHECK(a != NULL);
  size_t u = mi_usable_size(a);
  fill(a, 100, 2);
  b = (unsigned char*)mi_realloc(a, u);
  CHECK(b != NULL);
  if (b) {
    CHECK(verify(b, 100, 2));
    check_usable(b, u);
    a = b;
  }
  mi_free(a);

  /* a chain of growth through every size range up to 8 MiB and back */
  size_t n = 1;
  a = (unsigned char*)mi_malloc(n);
  fill(a, n, 5);
  for (size_t next = 2; next <= ((size_t)8 << 20); next = next * 3 / 2 + 1) {
    b = (unsigned char*)mi_realloc(a, next);
    CHECKF(b != NULL, "mi_realloc(%zu -> %zu)", n, next);
    if (!b) break;
    CHECKF(verify(b, n, 5), "mi_realloc(%zu -> %zu) lost contents", n, next);
    a = b;
    n = next;
    fill(a, n, 5);
  }
  while (n > 1) {
    size_t next = n / 3;
    b = (unsigned char*)mi_realloc(a, next);
    CHECKF(b != NULL, "mi_realloc(%zu -> %zu)", n, next);
    if (!b) break;
    CHECKF(verify(b, next, 5), "mi_realloc(%zu -> %zu) lost contents", n, next);
    a = b;
    n = next;
  }
  mi_free(a);

  /* a big move: small block to 4 MiB */
  a = (unsigned char*)mi_malloc(64);
  fill(a, 64, 6);
  b = (unsigned char*)mi_realloc(a, (size_t)4 << 20);
  CHECK(b != NULL);
  if (b) {
    CHECK(verify(b, 64, 6));
    check_usable(b, (size_t)4 << 20);
    a = b;
  }
  mi_free(a);

  /* realloc to 0: either NULL (freed) or a freeable block */
  a = (unsigned char*)mi_malloc(64);
  b = (unsigned char*)mi_realloc(a, 0);
  mi_free(b);

  /* reallocn / reallocf / reallocarray / reallocarr */
  a = (unsigned char*)mi_mallocn(10, 10);
  CHECK(a != NULL);
  fill(a, 100, 8);
  b = (unsigned char*)mi_reallocn(a, 100, 10);
  CHECK(b != NULL && verify(b, 100, 8));
  if (b) a = b;
  b = (unsigned char*)mi_reallocf(a, 5000);
  CHECK(b != NULL && verify(b, 100, 8));
  if (b) a = b;
  errno = 0;
  b = (unsigned char*)mi_reallocarray(a, 1000, 20);
  CHECK(b != NULL && verify(b, 100, 8));
  if (b) { a = b; check_usable(a, 20000); fill(a, 100, 8); }
  int rc = mi_reallocarr(&a, 3000, 20);
  CHECKF(rc == 0, "mi_reallocarr returned %d", rc);
  CHECK(a != NULL && verify(a, 100, 8));
  if (a) check_usable(a, 60000);
  void* nil = NULL;
  rc = mi_reallocarr(&nil, 10, 10);
  CHECKF(rc == 0 && nil != NULL, "mi_reallocarr(&NULL) = %d, %p", rc, nil);
  mi_free(nil);
  mi_free(a);
}

/* mi_expand and mi__expand never move a block. mica never grows one in
   place either (src/alloc.c): a size up to the block's usable size returns
   p unchanged, a larger one NULL (mi__expand also sets ENOMEM), and in both
   cases the block keeps its usable size and contents and stays usable. */
static void test_expand(void)
{
  CHECK(mi_expand(NULL, 10) == NULL);
  static const size_t sizes[] = { 1, 10, 100, 1000, 20000, 300000, (size_t)3 << 20 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const size_t n = sizes[i];
    unsigned char* p = (unsigned char*)mi_malloc(n);
    CHECK(p != NULL);
    if (!p) continue;
    fill(p, n, 11);
    const size_t u = mi_usable_size(p);
    /* within the usable size: p itself */
    const size_t within[] = { 0, 1, n / 2, n, u - 1, u };
    for (size_t t = 0; t < sizeof within / sizeof within[0]; t++) {
      const size_t m = within[t];
      CHECKF(mi_expand(p, m) == p, "mi_expand(%zu-byte block, %zu) did not return the block", n, m);
      errno = 0;
      CHECKF(mi__expand(p, m) == p && errno == 0, "mi__expand(%zu-byte block, %zu) did not return the block", n, m);
      CHECKF(mi_usable_size(p) == u, "mi_expand(%zu) changed the usable size %zu to %zu", m, u, mi_usable_size(p));
    }
    /* beyond it: NULL, and the block is as it was */
    const size_t beyond[] = { u + 1, u + 64, 2 * u, u + ((size_t)1 << 20), SIZE_MAX };
    for (size_t t = 0; t < sizeof beyond / sizeof beyond[0]; t++) {
      const size_t m = beyond[t];
      CHECKF(mi_expand(p, m) == NULL, "mi_expand(%zu-byte block of usable size %zu, %zu) succeeded", n, u, m);
      errno = 0;
      CHECKF(mi__expand(p, m) == NULL && errno == ENOMEM, "mi__expand(%zu-byte block, %zu): errno %d", n, m, errno);
      CHECKF(mi_usable_size(p) == u, "a failed mi_expand(%zu) changed the usable size %zu to %zu", m, u, mi_usable_size(p));
    }
    CHECKF(verify(p, n, 11), "mi_expand changed the contents of a %zu-byte block", n);
    /* the whole usable size is still the caller's */
    memset(p, 0x5a, u);
    CHECK(p[u - 1] == 0x5a && mi_usable_size(p) == u);
    mi_free(p);
  }
}

/* rezalloc / recalloc: the part beyond the old size reads as zero. */
static void test_rezalloc(void)
{
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  for (int variant = 0; variant < 12; variant++) {
    size_t old_n = 40, new_n = 7000, big_n = 300000;
    size_t align = 64, off = 16;
    /* dirty recycled memory of the sizes involved, so a tail that is not
       zeroed shows (the slack of a 7000-byte block in particular) */
    for (int k = 0; k < 8; k++) {
      void* d1 = mi_malloc(new_n);
      void* d2 = mi_heap_malloc(h, new_n);
      if (d1) memset(opaque(d1), 0xFF, mi_usable_size(d1));
      if (d2) memset(opaque(d2), 0xFF, mi_usable_size(d2));
      mi_free(d1);
      mi_free(d2);
    }
    /* the _at variants start from a block aligned at the same offset, the
       others from a plainly aligned block */
    int at = (variant == 3 || variant == 5 || variant == 9 || variant == 11);
    size_t off0 = at ? off : 0;
    unsigned char* p = (unsigned char*)(variant < 6 ? mi_zalloc_aligned_at(old_n, align, off0)
                                                    : mi_heap_zalloc_aligned_at(h, old_n, align, off0));
    CHECK(p != NULL);
    if (!p) continue;
    fill(p, old_n, 13);
    unsigned char* q = NULL;
    int check_align = 0, check_at = 0;
    for (int step = 0; step < 2; step++) {
      size_t m = step == 0 ? new_n : big_n;
      switch (variant) {
        case 0: q = (unsigned char*)mi_rezalloc(p, m); break;
        case 1: q = (unsigned char*)mi_recalloc(p, m / 8, 8); break;
        case 2: q = (unsigned char*)mi_rezalloc_aligned(p, m, align); check_align = 1; break;
        case 3: q = (unsigned char*)mi_rezalloc_aligned_at(p, m, align, off); check_at = 1; break;
        case 4: q = (unsigned char*)mi_recalloc_aligned(p, m / 4, 4, align); check_align = 1; break;
        case 5: q = (unsigned char*)mi_recalloc_aligned_at(p, m / 4, 4, align, off); check_at = 1; break;
        case 6: q = (unsigned char*)mi_heap_rezalloc(h, p, m); break;
        case 7: q = (unsigned char*)mi_heap_recalloc(h, p, m / 8, 8); break;
        case 8: q = (unsigned char*)mi_heap_rezalloc_aligned(h, p, m, align); check_align = 1; break;
        case 9: q = (unsigned char*)mi_heap_rezalloc_aligned_at(h, p, m, align, off); check_at = 1; break;
        case 10: q = (unsigned char*)mi_heap_recalloc_aligned(h, p, m / 4, 4, align); check_align = 1; break;
        default: q = (unsigned char*)mi_heap_recalloc_aligned_at(h, p, m / 4, 4, align, off); check_at = 1; break;
      }
      CHECKF(q != NULL, "rezalloc variant %d step %d returned NULL", variant, step);
      if (!q) break;
      if (check_align) CHECKF(is_aligned(q, align), "rezalloc variant %d: %p not aligned", variant, (void*)q);
      if (check_at) CHECKF(is_aligned(q + off, align), "rezalloc variant %d: %p+%zu not aligned", variant, (void*)q, off);
      CHECKF(verify(q, old_n, 13), "rezalloc variant %d step %d lost the old contents", variant, step);
      /* step 1 re-allocates a block that itself came from rezalloc: all of
         it beyond the caller's data must still read as zero */
      CHECKF(is_zero(q + old_n, m - old_n), "rezalloc variant %d %s: new tail not zero", variant,
             step == 0 ? "(40 -> 7000)" : "(chained, 7000 -> 300000)");
      if (variant >= 6) CHECK(mi_heap_contains_block(h, q));
      p = q;
    }
    /* shrinking keeps the prefix */
    q = (unsigned char*)mi_rezalloc(p, 20);
    CHECK(q != NULL && verify(q, 20, 13));
    if (q) p = q;
    mi_free(p);
  }
  mi_heap_delete(h);
}

/* ---------------------------------------------------------------------------
   Strings
--------------------------------------------------------------------------- */
static void test_strings(void)
{
  const char* s = "mica allocates";
  char* d = mi_strdup(s);
  CHECK(d != NULL && d != s && strcmp(d, s) == 0);
  if (d) CHECK(mi_check_owned(d));
  mi_free(d);
  d = mi_strdup("");
  CHECK(d != NULL && d[0] == 0);
  mi_free(d);
  CHECK(mi_strdup(NULL) == NULL);

  d = mi_strndup(s, 4);
  CHECK(d != NULL && strcmp(d, "mica") == 0);
  mi_free(d);
  d = mi_strndup(s, 1000);
  CHECK(d != NULL && strcmp(d, s) == 0);
  mi_free(d);
  d = mi_strndup(s, 0);
  CHECK(d != NULL && d[0] == 0);
  mi_free(d);
  CHECK(mi_strndup(NULL, 3) == NULL);

  char cwd[4096];
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  char* rp = mi_realpath(".", NULL);
  CHECKF(rp != NULL && strcmp(rp, cwd) == 0, "mi_realpath(\".\") = %s, cwd %s", rp ? rp : "(null)", cwd);
  if (rp) CHECK(mi_check_owned(rp));
  mi_free(rp);
  char buf[4096 + 1];
  rp = mi_realpath("/", buf);
  /* (compared through opaque(): the malloc attribute on mi_realpath lets the
     compiler assume the result never equals buf) */
  CHECK(opaque(rp) == opaque(buf) && strcmp(buf, "/") == 0);
  errno = 0;
  rp = mi_realpath("/nonexistent-mica-dir/xyz", NULL);
  CHECK(rp == NULL);
  CHECKF(errno == ENOENT, "mi_realpath(nonexistent): errno %d", errno);

  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  d = mi_heap_strdup(h, s);
  CHECK(d != NULL && strcmp(d, s) == 0 && mi_heap_contains_block(h, d));
  char* e = mi_heap_strndup(h, s, 3);
  CHECK(e != NULL && strcmp(e, "mic") == 0 && mi_heap_contains_block(h, e));
  rp = mi_heap_realpath(h, "/", NULL);
  CHECK(rp != NULL && strcmp(rp, "/") == 0 && mi_heap_contains_block(h, rp));
  mi_free(d);
  mi_free(e);
  mi_free(rp);
  mi_heap_destroy(h);
}

/* ---------------------------------------------------------------------------
   POSIX and C entry points under mi_ names
--------------------------------------------------------------------------- */
static void test_posix(void)
{
  size_t ps = page_size();

  void* p = mi_valloc(100);
  CHECKF(p != NULL && is_aligned(p, ps), "mi_valloc(100) = %p", p);
  if (p) check_usable(p, 100);
  mi_free(p);
  p = mi_valloc(3 * ps + 5);
  CHECK(p != NULL && is_aligned(p, ps));
  if (p) check_usable(p, 3 * ps + 5);
  mi_free(p);

  p = mi_pvalloc(100);
  CHECKF(p != NULL && is_aligned(p, ps), "mi_pvalloc(100) = %p", p);
  if (p) {
    CHECKF(mi_usable_size(p) >= ps, "mi_pvalloc(100): usable %zu < page %zu", mi_usable_size(p), ps);
    check_usable(p, ps);
  }
  mi_free(p);
  p = mi_pvalloc(ps + 1);
  CHECK(p != NULL && is_aligned(p, ps));
  if (p) {
    CHECKF(mi_usable_size(p) >= 2 * ps, "mi_pvalloc(page+1): usable %zu < 2 pages", mi_usable_size(p));
    check_usable(p, 2 * ps);
  }
  mi_free(p);

  p = mi_memalign(64, 1000);
  CHECK(p != NULL && is_aligned(p, 64));
  mi_cfree(p);

  p = mi_aligned_alloc(256, 1024);
  CHECK(p != NULL && is_aligned(p, 256));
  mi_free_aligned(p, 256);

  p = mi_malloc(333);
  CHECK(p != NULL && mi_malloc_usable_size(p) >= 333);
  mi_free_size(p, 333);

  p = mi_malloc_aligned(5000, 4096);
  CHECK(p != NULL && is_aligned(p, 4096));
  mi_free_size_aligned(p, 5000, 4096);

  mi_cfree(NULL);
  mi_free_size(NULL, 0);
  mi_free_aligned(NULL, 64);
}

/* ---------------------------------------------------------------------------
   Heaps
--------------------------------------------------------------------------- */
static size_t heap_size_for(int i)
{
  static const size_t sizes[] = { 1, 8, 16, 24, 40, 64, 100, 128, 250, 512, 777, 1024, 2048,
                                  4000, 9000, 17000, 40000, 70000, 130000, 300000 };
  return sizes[(size_t)i % (sizeof sizes / sizeof sizes[0])];
}

static void test_heap_basics(void)
{
  mi_heap_t* backing = mi_heap_get_backing();
  CHECK(backing != NULL);
  CHECK(mi_heap_get_default() == backing);

  mi_heap_t* h1 = mi_heap_new();
  mi_heap_t* h2 = mi_heap_new();
  CHECK(h1 != NULL && h2 != NULL && h1 != h2 && h1 != backing);
  if (!h1 || !h2) return;

  enum { N = 600 };
  static void* b1[N];
  static void* b2[N];
  for (int i = 0; i < N; i++) {
    size_t n = heap_size_for(i);
    b1[i] = mi_heap_malloc(h1, n);
    b2[i] = mi_heap_malloc(h2, n);
    CHECK(b1[i] != NULL && b2[i] != NULL);
    if (b1[i]) fill(b1[i], n, 21);
    if (b2[i]) fill(b2[i], n, 22);
  }
  /* two huge blocks too */
  void* huge1 = mi_heap_malloc(h1, (size_t)5 << 20);
  void* huge2 = mi_heap_malloc(h2, (size_t)5 << 20);
  CHECK(huge1 != NULL && huge2 != NULL);
  if (huge1) fill(huge1, 65536, 24);

  int in1 = 0, in2 = 0, cross = 0, owned1 = 0, owned_cross = 0, def_owned = 0;
  for (int i = 0; i < N; i++) {
    if (mi_heap_contains_block(h1, b1[i])) in1++;
    if (mi_heap_contains_block(h2, b2[i])) in2++;
    if (mi_heap_contains_block(h1, b2[i]) || mi_heap_contains_block(h2, b1[i])) cross++;
    if (mi_heap_check_owned(h1, b1[i])) owned1++;
    if (mi_heap_check_owned(h1, b2[i]) || mi_heap_check_owned(h2, b1[i])) owned_cross++;
    if (mi_check_owned(b1[i])) def_owned++;   /* default heap does not own h1's blocks */
  }
  CHECKF(in1 == N && in2 == N, "mi_heap_contains_block: %d and %d of %d", in1, in2, N);
  CHECKF(cross == 0, "mi_heap_contains_block true for %d blocks of another heap", cross);
  CHECKF(owned1 == N, "mi_heap_check_owned: %d of %d", owned1, N);
  CHECKF(owned_cross == 0, "mi_heap_check_owned true for %d blocks of another heap", owned_cross);
  CHECKF(def_owned == 0, "mi_check_owned (default heap) true for %d blocks of heap h1", def_owned);
  CHECK(mi_heap_contains_block(h1, huge1) && !mi_heap_contains_block(h2, huge1));
  CHECK(mi_heap_contains_block(h2, huge2) && !mi_heap_contains_block(h1, huge2));
  CHECK(mi_heap_check_owned(h1, huge1) && !mi_heap_check_owned(h2, huge1));
  /* interior pointers are owned too */
  CHECK(mi_heap_check_owned(h1, (char*)b1[N - 1] + 8));

  int intact = 1;
  for (int i = 0; i < N; i++) {
    size_t n = heap_size_for(i);
    if (!verify(b1[i], n, 21) || !verify(b2[i], n, 22)) intact = 0;
  }
  CHECKF(intact, "heap blocks overlap");

  mi_heap_collect(h1, false);
  mi_heap_collect(h2, true);

  /* free half of h1's blocks with mi_free, then delete h1: the rest stay valid
     and move to the backing heap. */
  for (int i = 0; i < N; i += 2) { mi_free(b1[i]); b1[i] = NULL; }
  mi_heap_delete(h1);
  intact = 1;
  int moved = 0;
  for (int i = 1; i < N; i += 2) {
    if (!verify(b1[i], heap_size_for(i), 21)) intact = 0;
    if (mi_heap_contains_block(backing, b1[i])) moved++;
  }
  CHECKF(intact, "blocks changed by mi_heap_delete");
  CHECKF(moved == N / 2, "after mi_heap_delete %d of %d blocks are in the backing heap", moved, N / 2);
  CHECK(huge1 != NULL && verify(huge1, 65536, 24));
  CHECK(mi_heap_contains_block(backing, huge1));
  for (int i = 1; i < N; i += 2) mi_free(b1[i]);
  mi_free(huge1);

  /* destroy h2 with all its blocks still live */
  mi_heap_destroy(h2);
  mi_heap_t* h3 = mi_heap_new();
  CHECK(h3 != NULL);
  int okall = 1;
  for (int i = 0; i < N; i++) {
    size_t n = heap_size_for(i);
    void* p = mi_heap_malloc(h3, n);
    if (!p || !mi_heap_contains_block(h3, p)) okall = 0;
    if (p) fill(p, n, 23);
    b2[i] = p;
  }
  CHECKF(okall, "allocation in a new heap after mi_heap_destroy failed");
  for (int i = 0; i < N; i++) {
    if (b2[i] && !verify(b2[i], heap_size_for(i), 23)) okall = 0;
  }
  CHECK(okall);
  mi_heap_destroy(h3);

  /* the default heap: set / get / restore */
  mi_heap_t* h4 = mi_heap_new();
  CHECK(h4 != NULL);
  mi_heap_t* prev = mi_heap_set_default(h4);
  CHECK(prev == backing);
  CHECK(mi_heap_get_default() == h4);
  CHECK(mi_heap_get_backing() == backing);
  void* p = mi_malloc(100);
  void* q = mi_zalloc(5000);
  CHECK(p && mi_heap_contains_block(h4, p) && !mi_heap_contains_block(backing, p));
  CHECK(q && mi_heap_contains_block(h4, q));
  CHECK(mi_check_owned(p));   /* h4 is now the default heap */
  prev = mi_heap_set_default(backing);
  CHECK(prev == h4);
  CHECK(mi_heap_get_default() == backing);
  CHECK(!mi_check_owned(p));
  mi_free(p);
  mi_free(q);
  mi_heap_delete(h4);

  /* deleting and destroying an empty heap */
  mi_heap_t* e1 = mi_heap_new();
  mi_heap_t* e2 = mi_heap_new();
  CHECK(e1 && e2);
  mi_heap_delete(e1);
  mi_heap_destroy(e2);
}

static int in_heap(mi_heap_t* h, const void* p)
{
  return p != NULL && mi_heap_contains_block(h, p);
}

/* Every mi_heap_* allocation function allocates in the given heap. */
static void test_heap_functions(void)
{
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  if (!h) return;
  void* p;

  p = mi_heap_malloc(h, 100);
  CHECK(in_heap(h, p));
  if (p) check_usable(p, 100);
  mi_free(p);
  p = mi_heap_malloc(h, 0);
  CHECK(in_heap(h, p));
  mi_free(p);

  p = mi_heap_zalloc(h, 1000);
  CHECK(in_heap(h, p) && is_zero(p, 1000));
  mi_free(p);

  p = mi_heap_calloc(h, 30, 10);
  CHECK(in_heap(h, p) && is_zero(p, 300));
  mi_free(p);

  p = mi_heap_mallocn(h, 30, 10);
  CHECK(in_heap(h, p));
  if (p) check_usable(p, 300);
  mi_free(p);

  p = mi_heap_malloc_small(h, 48);
  CHECK(in_heap(h, p));
  if (p) check_usable(p, 48);
  mi_free(p);

  p = mi_heap_zalloc_small(h, MI_SMALL_SIZE_MAX);
  CHECK(in_heap(h, p) && is_zero(p, MI_SMALL_SIZE_MAX));
  mi_free(p);

  p = mi_heap_malloc(h, 50);
  fill(p, 50, 31);
  void* q = mi_heap_realloc(h, p, 50000);
  CHECK(in_heap(h, q) && verify(q, 50, 31));
  if (q) p = q;
  q = mi_heap_reallocn(h, p, 100, 1000);
  CHECK(in_heap(h, q) && verify(q, 50, 31));
  if (q) p = q;
  q = mi_heap_reallocf(h, p, 200);
  CHECK(in_heap(h, q) && verify(q, 50, 31));
  mi_free(q);
  p = mi_heap_realloc(h, NULL, 10);
  CHECK(in_heap(h, p));
  mi_free(p);

  p = mi_heap_malloc_aligned(h, 100, 256);
  CHECK(in_heap(h, p) && is_aligned(p, 256));
  if (p) fill(p, 100, 32);
  q = mi_heap_realloc_aligned(h, p, 10000, 256);
  CHECK(in_heap(h, q) && is_aligned(q, 256) && verify(q, 100, 32));
  mi_free(q ? q : p);

  p = mi_heap_malloc_aligned_at(h, 100, 256, 16);
  CHECK(in_heap(h, p) && is_aligned((char*)p + 16, 256));
  if (p) fill(p, 100, 33);
  q = mi_heap_realloc_aligned_at(h, p, 20000, 256, 16);
  CHECK(in_heap(h, q) && is_aligned((char*)q + 16, 256) && verify(q, 100, 33));
  mi_free(q ? q : p);

  p = mi_heap_zalloc_aligned(h, 3000, 1024);
  CHECK(in_heap(h, p) && is_aligned(p, 1024) && is_zero(p, 3000));
  mi_free(p);
  p = mi_heap_zalloc_aligned_at(h, 3000, 1024, 8);
  CHECK(in_heap(h, p) && is_aligned((char*)p + 8, 1024) && is_zero(p, 3000));
  mi_free(p);
  p = mi_heap_calloc_aligned(h, 10, 300, 512);
  CHECK(in_heap(h, p) && is_aligned(p, 512) && is_zero(p, 3000));
  mi_free(p);
  p = mi_heap_calloc_aligned_at(h, 10, 300, 512, 32);
  CHECK(in_heap(h, p) && is_aligned((char*)p + 32, 512) && is_zero(p, 3000));
  mi_free(p);

  p = mi_heap_zalloc(h, 10);
  q = mi_heap_rezalloc(h, p, 4000);
  CHECK(in_heap(h, q) && is_zero(q, 4000));
  mi_free(q ? q : p);
  p = mi_heap_calloc(h, 1, 10);
  q = mi_heap_recalloc(h, p, 400, 10);
  CHECK(in_heap(h, q) && is_zero(q, 4000));
  mi_free(q ? q : p);

  /* a heap allocation overflow fails cleanly */
  errno = 0;
  p = mi_heap_malloc(h, vsize_max);
  CHECK(p == NULL && errno == ENOMEM);

  mi_heap_collect(h, true);
  mi_heap_destroy(h);
}

/* mi_check_owned / mi_is_in_heap_region on mica blocks and on other memory. */
static int static_var;
static char static_array[256];

static void test_owned(void)
{
  int local = 0;
  static const size_t sizes[] = { 8, 100, 1000, 40000, 400000, (size_t)6 << 20 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void* p = mi_malloc(sizes[i]);
    CHECK(p != NULL);
    CHECKF(mi_check_owned(p), "mi_check_owned(mi_malloc(%zu)) is false", sizes[i]);
    CHECKF(mi_is_in_heap_region(p), "mi_is_in_heap_region(mi_malloc(%zu)) is false", sizes[i]);
    CHECK(mi_heap_check_owned(mi_heap_get_default(), p));
    CHECK(mi_heap_contains_block(mi_heap_get_default(), p));
    mi_free(p);
  }
  CHECK(!mi_check_owned(&local));
  CHECK(!mi_check_owned(&static_var));
  CHECK(!mi_check_owned(static_array + 64));
  CHECK(!mi_check_owned(NULL));
  CHECK(!mi_is_in_heap_region(&local));
  CHECK(!mi_is_in_heap_region(&static_var));
  CHECK(!mi_is_in_heap_region(NULL));
  CHECK(!mi_heap_check_owned(mi_heap_get_default(), &local));
  CHECK(!mi_heap_check_owned(mi_heap_get_default(), static_array));
}

/* ---------------------------------------------------------------------------
   Visiting
--------------------------------------------------------------------------- */
typedef struct visit_state_s {
  void** live;       /* sorted */
  char*  seen;
  size_t nlive;
  size_t blocks;     /* block visits */
  size_t unknown;    /* blocks that are not live */
  size_t dups;       /* blocks seen twice */
  size_t areas;      /* area visits (block == NULL) */
  size_t area_used;  /* sum of area->used */
  size_t bad_area;   /* inconsistent area descriptions */
  const mi_heap_t* heap;
  size_t wrong_heap;
  size_t stop_after; /* return false after this many block visits (0: never) */
} visit_state_t;

static int cmp_ptr(const void* a, const void* b)
{
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

static bool visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg)
{
  visit_state_t* st = (visit_state_t*)arg;
  if (heap != st->heap) st->wrong_heap++;
  if (block == NULL) {
    st->areas++;
    st->area_used += area->used;
    if (area->block_size == 0 || area->used == 0 || area->blocks == NULL) st->bad_area++;
    return true;
  }
  st->blocks++;
  if (area->block_size == 0 || block_size < 1) st->bad_area++;
  void** f = (void**)bsearch(&block, st->live, st->nlive, sizeof(void*), cmp_ptr);
  if (f == NULL) st->unknown++;
  else {
    size_t idx = (size_t)(f - st->live);
    if (st->seen[idx]) st->dups++;
    st->seen[idx] = 1;
  }
  if (st->stop_after != 0 && st->blocks >= st->stop_after) return false;
  return true;
}

static void test_visit(void)
{
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  if (!h) return;
  enum { N = 900 };
  static void* all[N];
  static void* live[N];
  static char seen[N];
  size_t nlive = 0;
  for (int i = 0; i < N; i++) {
    size_t n = heap_size_for(i * 7);
    if (i == 100 || i == 500) n = (size_t)3 << 20;   /* huge */
    all[i] = mi_heap_malloc(h, n);
    CHECK(all[i] != NULL);
  }
  for (int i = 0; i < N; i++) {
    if (i % 3 == 1) mi_free(all[i]);
    else live[nlive++] = all[i];
  }
  qsort(live, nlive, sizeof(void*), cmp_ptr);

  visit_state_t st;
  memset(&st, 0, sizeof st);
  memset(seen, 0, sizeof seen);
  st.live = live; st.seen = seen; st.nlive = nlive; st.heap = h;
  bool done = mi_heap_visit_blocks(h, true, visitor, &st);
  CHECK(done);
  CHECKF(st.blocks == nlive, "visited %zu blocks, %zu are live", st.blocks, nlive);
  CHECKF(st.unknown == 0, "visited %zu blocks that are not live", st.unknown);
  CHECKF(st.dups == 0, "visited %zu blocks twice", st.dups);
  size_t nseen = 0;
  for (size_t i = 0; i < nlive; i++) nseen += seen[i];
  CHECKF(nseen == nlive, "saw %zu of %zu live blocks", nseen, nlive);
  CHECKF(st.area_used == nlive, "areas report %zu used blocks, %zu are live", st.area_used, nlive);
  CHECK(st.areas > 0 && st.bad_area == 0);
  CHECK(st.wrong_heap == 0);

  /* areas only */
  memset(&st, 0, sizeof st);
  memset(seen, 0, sizeof seen);
  st.live = live; st.seen = seen; st.nlive = nlive; st.heap = h;
  done = mi_heap_visit_blocks(h, false, visitor, &st);
  CHECK(done);
  CHECKF(st.blocks == 0, "visit_all_blocks=false visited %zu blocks", st.blocks);
  CHECKF(st.area_used == nlive, "areas report %zu used blocks, %zu are live", st.area_used, nlive);

  /* the visitor can stop the walk */
  memset(&st, 0, sizeof st);
  memset(seen, 0, sizeof seen);
  st.live = live; st.seen = seen; st.nlive = nlive; st.heap = h; st.stop_after = 10;
  done = mi_heap_visit_blocks(h, true, visitor, &st);
  CHECK(!done);
  CHECKF(st.blocks == 10, "visitor returning false: %zu blocks visited", st.blocks);

  /* an empty heap has nothing to visit */
  mi_heap_t* e = mi_heap_new();
  memset(&st, 0, sizeof st);
  st.live = live; st.seen = seen; st.nlive = 0; st.heap = e;
  (void)mi_heap_visit_blocks(e, true, visitor, &st);   /* result unspecified for an empty heap */
  CHECK(st.blocks == 0 && st.areas == 0);
  mi_heap_delete(e);

  mi_heap_destroy(h);
}

/* ---------------------------------------------------------------------------
   Options
--------------------------------------------------------------------------- */
static void test_options(void)
{
  long saved = mi_option_get(mi_option_max_errors);
  mi_option_set(mi_option_max_errors, 7);
  CHECK(mi_option_get(mi_option_max_errors) == 7);
  CHECK(mi_option_get_clamp(mi_option_max_errors, 0, 5) == 5);
  CHECK(mi_option_get_clamp(mi_option_max_errors, 10, 20) == 10);
  CHECK(mi_option_get_clamp(mi_option_max_errors, 0, 100) == 7);
  /* a default does not override an explicitly set value */
  mi_option_set_default(mi_option_max_errors, 99);
  CHECK(mi_option_get(mi_option_max_errors) == 7);
  mi_option_set(mi_option_max_errors, saved);
  CHECK(mi_option_get(mi_option_max_errors) == saved);

  long saved_res = mi_option_get(mi_option_reserve_os_memory);
  mi_option_set(mi_option_reserve_os_memory, 12345);
  CHECKF(mi_option_get_size(mi_option_reserve_os_memory) == (size_t)12345 * 1024,
         "mi_option_get_size = %zu", mi_option_get_size(mi_option_reserve_os_memory));
  mi_option_set(mi_option_reserve_os_memory, saved_res);

  mi_option_t bopt = mi_option_abandoned_page_purge;
  bool was = mi_option_is_enabled(bopt);
  mi_option_enable(bopt);
  CHECK(mi_option_is_enabled(bopt));
  CHECK(mi_option_get(bopt) != 0);
  mi_option_disable(bopt);
  CHECK(!mi_option_is_enabled(bopt));
  CHECK(mi_option_get(bopt) == 0);
  mi_option_set_enabled(bopt, true);
  CHECK(mi_option_is_enabled(bopt));
  mi_option_set_enabled(bopt, false);
  CHECK(!mi_option_is_enabled(bopt));
  mi_option_set_enabled_default(bopt, true);   /* explicitly set: no effect */
  CHECK(!mi_option_is_enabled(bopt));
  mi_option_set_enabled(bopt, was);
  CHECK(mi_option_is_enabled(bopt) == was);

  /* legacy names are the same options (their environment names:
     test-options-env.c) */
  _Static_assert(mi_option_reset_delay == mi_option_purge_delay, "legacy name of purge_delay");
  long pd = mi_option_get(mi_option_purge_delay);
  mi_option_set(mi_option_purge_delay, pd + 5);
  CHECK(mi_option_get(mi_option_purge_delay) == pd + 5);
  mi_option_set(mi_option_purge_delay, pd);
}

/* ---------------------------------------------------------------------------
   Output, statistics, errors, process
--------------------------------------------------------------------------- */
static void test_output(void)
{
  void* p = mi_malloc(1000);   /* something to report */
  mi_register_output(on_output, &out_marker);
  output_reset();
  mi_stats_print_out(NULL, NULL);
  CHECKF(out_len > 0, "mi_stats_print_out(NULL) wrote nothing to the registered output");
  CHECK(out_arg_ok > 0);

  output_reset();
  mi_stats_print(NULL);
  CHECKF(out_len > 0, "mi_stats_print wrote nothing to the registered output");
  mi_register_output(NULL, NULL);

  output_reset();
  mi_stats_print_out(on_output, &out_marker);
  CHECKF(out_len > 0 && out_arg_ok > 0, "mi_stats_print_out(fun) wrote nothing");

  output_reset();
  mi_thread_stats_print_out(on_output, &out_marker);
  CHECKF(out_len > 0, "mi_thread_stats_print_out wrote nothing");

  mi_stats_merge();
  mi_stats_reset();
  output_reset();
  mi_stats_print_out(on_output, &out_marker);
  CHECK(out_len > 0);
  mi_free(p);
}

static void test_errors(void)
{
  mi_register_error(on_error, &err_marker);

  /* freeing memory mica does not own is reported as EINVAL and ignored */
  int local[16];
  memset(local, 0x5A, sizeof local);
  memset(static_array, 0x3C, sizeof static_array);
#if !defined(MICA_TEST_WITH_MIMALLOC)   /* mimalloc release builds do not check */
  errors_reset();
  mi_free(&local[4]);
  CHECKF(err_count >= 1 && errors_all(EINVAL), "free(stack): %d errors, first %d", err_count, err_codes[0]);
  CHECK(err_arg_ok == err_count);
  errors_reset();
  mi_free(static_array + 32);
  CHECKF(err_count >= 1 && errors_all(EINVAL), "free(static): %d errors, first %d", err_count, err_codes[0]);
  errors_reset();
  mi_free(&static_var);
  CHECKF(err_count >= 1 && errors_all(EINVAL), "free(static var): %d errors, first %d", err_count, err_codes[0]);
#else
  (void)errors_all;
#endif
  int intact = 1;
  for (size_t i = 0; i < sizeof local; i++) {
    if (((unsigned char*)local)[i] != 0x5A) intact = 0;
  }
  for (size_t i = 0; i < sizeof static_array; i++) {
    if ((unsigned char)static_array[i] != 0x3C) intact = 0;
  }
  CHECKF(intact, "freeing foreign memory modified it");

  /* not harmed: allocation keeps working */
  errors_reset();
  void* ps[100];
  int ok = 1;
  for (int i = 0; i < 100; i++) {
    ps[i] = mi_malloc((size_t)(i + 1) * 24);
    if (!ps[i]) ok = 0;
    else fill(ps[i], (size_t)(i + 1) * 24, (unsigned)i);
  }
  for (int i = 0; i < 100; i++) {
    if (ps[i] && !verify(ps[i], (size_t)(i + 1) * 24, (unsigned)i)) ok = 0;
    mi_free(ps[i]);
  }
  CHECK(ok);
  CHECKF(err_count == 0, "%d errors reported during normal allocation", err_count);

  mi_register_error(NULL, NULL);
}

static void test_process(void)
{
  mi_process_init();   /* idempotent */
  CHECKF(mi_version() >= 200, "mi_version() = %d", mi_version());

  /* touch some memory so there is resident memory to report */
  size_t n = (size_t)4 << 20;
  void* p = mi_malloc(n);
  CHECK(p != NULL);
  if (p) memset(p, 1, n);
  size_t elapsed = 0, user = 0, sys = 0, rss = 0, peak_rss = 0, commit = 0, peak_commit = 0, faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  CHECKF(rss > 0, "mi_process_info: current_rss %zu", rss);
  CHECKF(peak_rss > 0 && peak_rss >= rss / 2, "mi_process_info: peak_rss %zu (current %zu)", peak_rss, rss);
  CHECKF(rss >= n / 2, "mi_process_info: current_rss %zu after touching %zu bytes", rss, n);
  mi_process_info(NULL, NULL, NULL, &rss, NULL, NULL, NULL, NULL);   /* NULL outputs are allowed */
  CHECK(rss > 0);
  mi_free(p);

  mi_collect(false);
  mi_collect(true);
  mi_heap_collect(mi_heap_get_default(), true);

  /* the thread id: non-zero, and the same through allocation, collection,
     another default heap and a repeated mi_thread_init */
  const uintptr_t id = mi_thread_id();
  CHECK(id != 0);
  void* q = mi_malloc(5000);
  mi_free(q);
  mi_collect(true);
  CHECK(mi_thread_id() == id);
  mi_heap_t* h = mi_heap_new();
  mi_heap_t* old = mi_heap_set_default(h);
  q = mi_malloc(64);
  CHECK(mi_thread_id() == id);
  mi_free(q);
  mi_heap_set_default(old);
  mi_heap_delete(h);
  mi_thread_init();
  CHECK(mi_thread_id() == id);
  int src = mi_thread_id_source();
  CHECKF(src >= 0 && src <= 2, "mi_thread_id_source() = %d", src);
  CHECK(mi_thread_id_source() == src);
}

/* mi_thread_init / mi_thread_done around a thread's allocations. */
typedef struct thread_arg_s {
  uintptr_t id;
  int ok;
} thread_arg_t;

static void* thread_main(void* arg)
{
  thread_arg_t* t = (thread_arg_t*)arg;
  mi_thread_init();
  t->id = mi_thread_id();
  void* ps[64];
  t->ok = 1;
  for (int i = 0; i < 64; i++) {
    ps[i] = mi_malloc((size_t)i * 100 + 1);
    if (!ps[i]) t->ok = 0;
  }
  for (int i = 0; i < 64; i++) mi_free(ps[i]);
  mi_heap_t* h = mi_heap_new();
  void* q = h ? mi_heap_malloc(h, 100) : NULL;
  if (!q) t->ok = 0;
  mi_heap_destroy(h);
  mi_thread_done();
  return NULL;
}

static void test_threads(void)
{
  thread_arg_t t[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    memset(&t[i], 0, sizeof t[i]);
    CHECK(pthread_create(&th[i], NULL, thread_main, &t[i]) == 0);
    CHECK(pthread_join(th[i], NULL) == 0);   /* one at a time: ids may be reused */
    CHECK(t[i].ok);
    CHECK(t[i].id != 0 && t[i].id != mi_thread_id());
  }
  /* the main thread still allocates normally */
  void* p = mi_malloc(123);
  CHECK(p != NULL);
  mi_free(p);
}

/* Threads alive at the same time have distinct ids, each stable for its
   whole life (up to mi_thread_done and after it), none the main thread's. */
#define LIVE_THREADS 6
static pthread_barrier_t live_barrier;

static void* live_thread_main(void* arg)
{
  uintptr_t* ids = (uintptr_t*)arg;   /* [0] at start, [1] at the barrier, [2] after mi_thread_done */
  ids[0] = mi_thread_id();
  void* p = mi_malloc(300);
  pthread_barrier_wait(&live_barrier);   /* every thread is alive here */
  ids[1] = mi_thread_id();
  mi_free(p);
  pthread_barrier_wait(&live_barrier);
  mi_thread_done();
  ids[2] = mi_thread_id();
  return NULL;
}

static void test_thread_ids_live(void)
{
  static uintptr_t ids[LIVE_THREADS][3];
  pthread_t th[LIVE_THREADS];
  CHECK(pthread_barrier_init(&live_barrier, NULL, LIVE_THREADS) == 0);
  for (int i = 0; i < LIVE_THREADS; i++) CHECK(pthread_create(&th[i], NULL, live_thread_main, ids[i]) == 0);
  for (int i = 0; i < LIVE_THREADS; i++) CHECK(pthread_join(th[i], NULL) == 0);
  pthread_barrier_destroy(&live_barrier);
  const uintptr_t main_id = mi_thread_id();
  for (int i = 0; i < LIVE_THREADS; i++) {
    CHECKF(ids[i][0] != 0 && ids[i][0] != main_id, "thread %d: id %#jx (main %#jx)", i, (uintmax_t)ids[i][0], (uintmax_t)main_id);
    CHECKF(ids[i][1] == ids[i][0] && ids[i][2] == ids[i][0], "thread %d: id changed during its life", i);
    for (int j = 0; j < i; j++) CHECKF(ids[i][0] != ids[j][0], "live threads %d and %d share the id %#jx", i, j, (uintmax_t)ids[i][0]);
  }
}

/* mi_register_deferred_free: called on collection with force=true. */
static int deferred_calls;
static int deferred_forced;
static int deferred_arg_ok;
static int deferred_marker;

static void on_deferred(bool force, unsigned long long heartbeat, void* arg)
{
  (void)heartbeat;
  deferred_calls++;
  if (force) deferred_forced++;
  if (arg == &deferred_marker) deferred_arg_ok++;
}

static void test_deferred(void)
{
  mi_register_deferred_free(on_deferred, &deferred_marker);
  mi_collect(true);
  for (int i = 0; i < 20000; i++) {
    void* p = mi_malloc((size_t)(i % 500) * 16 + 1);
    mi_free(p);
  }
  CHECKF(deferred_calls > 0, "deferred free callback never called");
  CHECKF(deferred_forced > 0, "deferred free callback not called with force by mi_collect(true)");
  CHECK(deferred_arg_ok == deferred_calls);
  mi_register_deferred_free(NULL, NULL);
  int before = deferred_calls;
  mi_collect(true);
  CHECK(deferred_calls == before);
}

int main(void)
{
  test_malloc_basic();
  test_overflow();
  test_usable_and_good_size();
  test_small();
  test_zeroing();
  test_aligned();
  test_aligned_invalid();
  test_aligned_at();
  test_realloc();
  test_expand();
  test_rezalloc();
  test_strings();
  test_posix();
  test_heap_basics();
  test_heap_functions();
  test_owned();
  test_visit();
  test_options();
  test_output();
  test_errors();
  test_process();
  test_threads();
  test_thread_ids_live();
  test_deferred();
  return test_report();
}
