/* SPDX-License-Identifier: MIT */
/* wrong/debug-padding: MI_DEBUG >= 2's padding (MI_PADDING) and fill
   checks (doc/security.md, "Debug checks"). Built twice:
   - EXPECT_PADDING 1, linked with the MI_DEBUG=2 variant: a one-byte
     overflow past the request is reported on free (EFAULT, the block's
     address and size, the exact message); mi_usable_size is the requested
     size, for plain, zeroed, aligned, huge and reallocated blocks (and
     stays after mi_expand); a heap
     visit is told the requested size; a write to a freed block is reported
     when the block is handed out again;
   - EXPECT_PADDING 0, linked with the release library: the same misuses
     (kept inside the block, so they do no harm there) go unreported and
     nothing crashes: release builds have no padding. */
#include "wrong.h"

#include <errno.h>
#include <stdint.h>

static char out_buf[4096];   /* what mica printed on stderr meanwhile */

#ifndef EXPECT_PADDING
#error "build with EXPECT_PADDING 0 or 1"
#endif

/* one-byte overflow (a string's terminator) past `n` bytes at `p`, then free */
static void check_overflow(unsigned char* p, size_t n, const char* what)
{
  CHECKF(p != NULL, "%s: allocated", what);
  if (p == NULL) return;
  const size_t usable = mi_usable_size(p);
  if (EXPECT_PADDING) CHECKF(usable == n, "%s: usable size %zu == requested %zu", what, usable, n);
  else CHECKF(usable >= n, "%s: usable size %zu >= requested %zu", what, usable, n);
  memset(p, 0x5a, n);
  const bool room = (EXPECT_PADDING || usable > n);   /* release: only inside the block */
  wrong_reset();
  capture_begin();
  if (room) p[n] = 0;
  mi_free(p);
  capture_end(out_buf, sizeof out_buf);
  if (EXPECT_PADDING) {
    char expect[200];
    snprintf(expect, sizeof expect, "buffer overflow in heap block %p of size %zu: write after %zu bytes\n", (void*)p, n, n);
    CHECKF(wrong_with(EFAULT) == 1 && wrong_count == 1, "%s: one EFAULT report (%d reports)", what, wrong_count);
    CHECKF(strstr(out_buf, expect) != NULL, "%s: the report reads \"%s\": \"%s\"", what, expect, out_buf);
  } else {
    CHECKF(wrong_count == 0 && out_buf[0] == 0, "%s: release reports nothing (%d reports: \"%s\")", what, wrong_count, out_buf);
  }
}

/* correct use of `n` bytes: nothing reported */
static void check_clean(void* p, size_t n, const char* what)
{
  CHECKF(p != NULL, "%s: allocated", what);
  if (p == NULL) return;
  memset(p, 0x33, n);
  wrong_reset();
  mi_free(p);
  CHECKF(wrong_count == 0, "%s: a correct use reports nothing (%d reports)", what, wrong_count);
}

static size_t visit_seen_size;
static const void* visit_target;
static bool on_visit(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg)
{
  (void)heap; (void)area; (void)arg;
  if (block == visit_target) visit_seen_size = size;
  return true;
}

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
  mi_option_enable(mi_option_show_errors);
  mi_option_set(mi_option_max_errors, 1000000);

  /* small, medium, large and huge blocks */
  static const size_t sizes[] = { 1, 13, 24, 100, 1000, 1016, 40000, 300000, 5u << 20 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char what[64];
    snprintf(what, sizeof what, "mi_malloc(%zu)", sizes[i]);
    check_overflow((unsigned char*)mi_malloc(sizes[i]), sizes[i], what);
    snprintf(what, sizeof what, "mi_calloc(1, %zu)", sizes[i]);
    unsigned char* z = (unsigned char*)mi_calloc(1, sizes[i]);
    bool zeroed = (z != NULL);
    for (size_t k = 0; z != NULL && k < sizes[i]; k++) zeroed = zeroed && (z[k] == 0);
    CHECKF(zeroed, "%s: zeroed", what);
    check_overflow(z, sizes[i], what);
    snprintf(what, sizeof what, "malloc(%zu), used fully", sizes[i]);
    check_clean(mi_malloc(sizes[i]), sizes[i], what);
  }

  /* aligned: within the class, over-allocated inside a block, huge */
  static const size_t aligns[] = { 16, 64, 4096, 1u << 16, 4u << 20 };
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    char what[64];
    snprintf(what, sizeof what, "mi_malloc_aligned(100, %zu)", aligns[i]);
    unsigned char* p = (unsigned char*)mi_malloc_aligned(100, aligns[i]);
    CHECKF(p != NULL && ((uintptr_t)p & (aligns[i] - 1)) == 0, "%s: aligned", what);
    check_overflow(p, 100, what);
    snprintf(what, sizeof what, "mi_malloc_aligned(8, %zu)", aligns[i]);
    check_overflow((unsigned char*)mi_malloc_aligned(8, aligns[i]), 8, what);
  }

  /* realloc: shrunk in place, grown into a new block, aligned */
  {
    unsigned char* p = (unsigned char*)mi_malloc(100);
    memset(p, 7, 100);
    unsigned char* q = (unsigned char*)mi_realloc(p, 70);
    CHECK(q != NULL && q[69] == 7);
    check_overflow(q, 70, "mi_realloc(100 -> 70)");
    p = (unsigned char*)mi_malloc(100);
    memset(p, 7, 100);
    q = (unsigned char*)mi_realloc(p, 3000);
    CHECK(q != NULL && q[99] == 7);
    check_overflow(q, 3000, "mi_realloc(100 -> 3000)");
    p = (unsigned char*)mi_malloc_aligned(200, 256);
    q = (unsigned char*)mi_realloc_aligned(p, 150, 256);
    CHECK(q != NULL && ((uintptr_t)q & 255) == 0);
    check_overflow(q, 150, "mi_realloc_aligned(200 -> 150, 256)");
    p = (unsigned char*)mi_rezalloc(NULL, 40);
    q = (unsigned char*)mi_rezalloc(p, 400);
    bool zeroed = (q != NULL);
    for (size_t k = 0; q != NULL && k < 400; k++) zeroed = zeroed && (q[k] == 0);
    CHECK(zeroed);
    check_overflow(q, 400, "mi_rezalloc(40 -> 400)");
    p = (unsigned char*)mi_malloc(100);
    CHECK(mi_expand(p, 60) == p);   /* the usable size stays 100 (test-api) */
    check_overflow(p, 100, "mi_expand(100 -> 60)");
  }

  /* a heap visit is told the requested size */
  {
    mi_heap_t* heap = mi_heap_new();
    void* p = mi_heap_malloc(heap, 100);
    visit_target = p;
    visit_seen_size = 0;
    CHECK(mi_heap_visit_blocks(heap, true, on_visit, NULL));
    if (EXPECT_PADDING) CHECKF(visit_seen_size == 100, "the visitor saw size %zu for a 100-byte request", visit_seen_size);
    else CHECKF(visit_seen_size >= 100, "the visitor saw size %zu for a 100-byte request", visit_seen_size);
    mi_free(p);
    mi_heap_delete(heap);
  }

  /* a write after free, seen when the block is handed out again (the most
     recently freed block of a size class is the next one handed out) */
  {
    unsigned char* p = (unsigned char*)mi_malloc(64);
    mi_free(p);
    p[20] = 'x';
    wrong_reset();
    capture_begin();
    unsigned char* q = (unsigned char*)mi_malloc(64);
    capture_end(out_buf, sizeof out_buf);
    CHECKF(q == p, "the freed block is handed out again (%p, %p)", (void*)p, (void*)q);
    if (EXPECT_PADDING) {
      char expect[120];
      snprintf(expect, sizeof expect, "use after free: block %p of size ", (void*)p);
      CHECKF(wrong_with(EFAULT) == 1 && wrong_count == 1, "write after free: one EFAULT report (%d reports)", wrong_count);
      CHECKF(strstr(out_buf, expect) != NULL && strstr(out_buf, " was written after it was freed (at offset 20)\n") != NULL,
             "the report names the block and the offset: \"%s\"", out_buf);
    } else {
      CHECKF(wrong_count == 0, "release reports no write after free (%d reports)", wrong_count);
    }
    wrong_reset();
    mi_free(q);
    void* r = mi_malloc(64);   /* freed and handed out again untouched: no report */
    CHECKF(wrong_count == 0, "an untouched freed block is handed out silently (%d reports)", wrong_count);
    mi_free(r);
  }

  /* a freed block's memory used again by a block of another size, whose
     heap is destroyed (its blocks never freed, never filled), then carved
     again as a fresh block of the first size: not a block freed since it
     was carved, so whatever the other block wrote there is not reported
     (a stale stamp once made `as` report "written after it was freed") */
  {
    mi_option_set(mi_option_purge_delay, -1);   /* freed memory keeps its bytes */
    mi_heap_t* h1 = mi_heap_new();
    unsigned char* p = (unsigned char*)mi_heap_malloc(h1, 288);
    memset(p, 'a', 288);
    mi_free(p);   /* filled and stamped */
    mi_heap_destroy(h1);   /* its page goes back at once */
    mi_heap_t* h2 = mi_heap_new();
    unsigned char* q = (unsigned char*)mi_heap_malloc(h2, 256);   /* filled up to 256 only */
    CHECKF(q == p, "the other size's first block is where the freed one was (%p, %p)", (void*)p, (void*)q);
    memset(q + 16, 'b', 48);
    mi_heap_destroy(h2);
    mi_heap_t* h3 = mi_heap_new();
    wrong_reset();
    unsigned char* r = (unsigned char*)mi_heap_malloc(h3, 288);
    CHECKF(r == p, "the first size's fresh block is where the freed one was (%p, %p)", (void*)p, (void*)r);
    CHECKF(wrong_count == 0, "a fresh block over a stale stamp is handed out silently (%d reports)", wrong_count);
    mi_free(r);
    mi_heap_delete(h3);
    mi_option_set(mi_option_purge_delay, 10);
  }
  return test_report();
}
