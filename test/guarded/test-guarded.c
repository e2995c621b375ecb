/* SPDX-License-Identifier: MIT */
/* guarded: guarded sampling (src/guarded.c). A heap with a sample rate
   places one allocation in N right before an inaccessible guard page:
   - which allocations are sampled: exactly every N-th, within the size
     bounds; a sampled block ends at an OS page boundary (exactly with
     guarded_precise, within the fundamental alignment without);
   - an overflow off its end, or a use after free, kills the process with
     SIGSEGV after a one-line report naming the block (forked children);
   - a double free (EAGAIN) and an interior free (EINVAL) are reported and
     ignored; the quarantine lets 64 blocks wait, then frees them for good;
   - calloc, realloc, aligned allocation, heap visits, frees from another
     thread and mi_heap_destroy work on sampled blocks.
   Run against the release library, and the MI_DEBUG=3 variant (walkers). */
#include "../wrong/wrong.h"
#include "mimalloc-stats.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

static size_t os_page;
static bool padded;   /* the library has MI_PADDING (MI_DEBUG >= 2): seen in a usable size */

/* A sampled block: its usable size ends exactly at an OS page boundary,
   and is the request rounded to 16 (8 on 32-bit ARM) or, precise, exactly
   the request. The sizes used are not size classes' sizes. */
static bool is_guarded(const void* p, size_t size, bool precise)
{
  const size_t usable = mi_usable_size(p);
  const size_t align = _Alignof(max_align_t);
  if (padded) {
    /* MI_PADDING: the usable size is the request, and its canary (4 bytes)
       and record (a size_t) come before the guard */
    const size_t need = (size == 0 ? 1 : size) + 4 + sizeof(size_t);
    const size_t span = precise ? need : (need + align - 1) / align * align;
    return usable == size && ((uintptr_t)p + span) % os_page == 0;
  }
  const size_t expect = precise ? size : (size + align - 1) / align * align;
  return usable == (expect == 0 ? (precise ? 1 : align) : expect) && ((uintptr_t)p + usable) % os_page == 0;
}

/* Where the guard page starts, from p: right after the usable size, or
   (MI_PADDING) after the canary and its record too. */
static size_t guard_offset(const void* p, size_t size, bool precise)
{
  if (padded) {
    const size_t align = _Alignof(max_align_t);
    const size_t need = (size == 0 ? 1 : size) + 4 + sizeof(size_t);
    return precise ? need : (need + align - 1) / align * align;
  }
  return mi_usable_size(p);
}

/* Run `fn(p, n)` in a forked child, stderr captured: returns the signal it
   died of (0 if it exited) and what it printed. */
static int in_child(void (*fn)(unsigned char*, size_t), unsigned char* p, size_t n, char* out, size_t outsize)
{
  capture_begin();
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    fn(p, n);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  capture_end(out, outsize);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void write_past_end(unsigned char* p, size_t n) { ((volatile unsigned char*)p)[n] = 1; }
/* at offset 3, or (n == 70000) 8 bytes before the block: a negative offset in the report */
static ptrdiff_t uaf_offset(size_t n) { return (n == 70000 ? -8 : 3); }
static void read_after_free(unsigned char* p, size_t n) { (void)((volatile unsigned char*)p)[uaf_offset(n)]; }

/* mi_stats_get's count of sampled allocations so far */
static long long guarded_count(void)
{
  mi_stats_t_decl(st);
  CHECK(mi_stats_get(&st));
  return (long long)st.malloc_guarded_count.total;
}

static void test_sampling_rate(void)
{
  const long long count0 = guarded_count();
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 10, 0);   /* seed 0: the 1st, 11th, 21st, ... */
  void* blocks[100];
  int guarded = 0, first = -1;
  for (int i = 0; i < 100; i++) {
    blocks[i] = mi_heap_malloc(heap, 200);
    if (is_guarded(blocks[i], 200, false)) { guarded++; if (first < 0) first = i; }
  }
  CHECKF(guarded == 10 && first == 0, "rate 10, seed 0: %d of 100 sampled, the first at %d", guarded, first);
  CHECKF(guarded_count() == count0 + 10, "malloc_guarded_count: %lld, was %lld", guarded_count(), count0);
  for (int i = 0; i < 100; i++) mi_free(blocks[i]);

  /* size bounds: only [300, 5000] */
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  mi_heap_guarded_set_size_bound(heap, 300, 5000);
  void* small = mi_heap_malloc(heap, 200);
  void* mid = mi_heap_malloc(heap, 1000);
  void* big = mi_heap_malloc(heap, 6000);
  CHECK(!is_guarded(small, 200, false) && is_guarded(mid, 1000, false) && !is_guarded(big, 6000, false));
  mi_free(small); mi_free(mid); mi_free(big);

  /* rate 0: off again, and the fast path serves the heap */
  mi_heap_guarded_set_sample_rate(heap, 0, 0);
  void* q = mi_heap_malloc(heap, 1000);
  CHECK(!is_guarded(q, 1000, false));
  mi_free(q);
  mi_heap_delete(heap);
}

static void test_layout_and_faults(bool precise)
{
  mi_option_set(mi_option_guarded_precise, precise);
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  static const size_t sizes[] = { 1, 13, 100, 1000, 5000, 70000, 300000 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const size_t n = sizes[i];
    unsigned char* p = (unsigned char*)mi_heap_malloc(heap, n);
    CHECKF(p != NULL && is_guarded(p, n, precise), "%zu bytes (precise %d): sampled, at %p, usable %zu", n, precise, (void*)p, mi_usable_size(p));
    if (p == NULL) continue;
    memset(p, 0xab, mi_usable_size(p));
    if (i % 3 == 0 || n == 13) {
      char out[512], expect[200];
      const size_t usable = guard_offset(p, n, precise);
      const int sig = in_child(write_past_end, p, usable, out, sizeof out);
      snprintf(expect, sizeof expect, "buffer overflow of guarded block %p of %zu bytes (allocated), %zu bytes past its end", (void*)p, n, usable - n);
      CHECKF(sig == SIGSEGV && strstr(out, expect) != NULL, "%zu bytes: a write at p[%zu] died of signal %d, report \"%s\"", n, usable, sig, expect);
    }
    mi_free(p);
    if (n == 100 || n == 70000) {
      char out[512], expect[200];
      const int sig = in_child(read_after_free, p, n, out, sizeof out);
      /* s390x reports only the page of a fault (si_addr is rounded down:
         the translation-exception identification holds a page address) */
#if defined(__s390x__)
      snprintf(expect, sizeof expect, "use after free of guarded block %p of %zu bytes (freed), at offset %td", (void*)p, n,
               (unsigned char*)(((uintptr_t)p + uaf_offset(n)) & ~(uintptr_t)(os_page - 1)) - p);
#else
      snprintf(expect, sizeof expect, "use after free of guarded block %p of %zu bytes (freed), at offset %td", (void*)p, n, uaf_offset(n));
#endif
      CHECKF(sig == SIGSEGV && strstr(out, expect) != NULL, "%zu bytes: a read after free died of signal %d, report \"%s\"", n, sig, expect);
    }
  }
  mi_heap_delete(heap);
  mi_option_set(mi_option_guarded_precise, 0);
}

static void test_wrong_frees(void)
{
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  unsigned char* p = (unsigned char*)mi_heap_malloc(heap, 1000);
  CHECK(is_guarded(p, 1000, false));
  mi_option_enable(mi_option_show_errors);
  wrong_reset();
  char out[512];
  capture_begin();
  mi_free(p + 8);
  capture_end(out, sizeof out);
  CHECKF(wrong_with(EINVAL) == 1 && strstr(out, "not the start of guarded block") != NULL, "interior free: %d EINVAL", wrong_with(EINVAL));
  p[999] = 7;   /* still live and writable */
  mi_free(p);
  CHECK(wrong_count == 1);
  capture_begin();
  mi_free(p);
  capture_end(out, sizeof out);
  CHECKF(wrong_with(EAGAIN) == 1 && strstr(out, "double free detected of guarded block") != NULL, "double free: %d EAGAIN", wrong_with(EAGAIN));
  /* the quarantine: 64 more frees push p out; its page is freed and reused */
  void* more[200];
  for (int i = 0; i < 200; i++) more[i] = mi_heap_malloc(heap, 1000);
  for (int i = 0; i < 200; i++) mi_free(more[i]);
  wrong_reset();
  for (int i = 0; i < 200; i++) {
    unsigned char* q = (unsigned char*)mi_heap_malloc(heap, 1000);
    CHECK(q != NULL && is_guarded(q, 1000, false));
    memset(q, i, 1000);
    mi_free(q);
  }
  CHECKF(wrong_count == 0, "%d errors from frees of evicted blocks' pages", wrong_count);
  mi_heap_delete(heap);
}

static void test_api_on_sampled(void)
{
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  /* calloc: zero, even where a freed block was */
  for (int round = 0; round < 100; round++) {
    unsigned char* z = (unsigned char*)mi_heap_calloc(heap, 1, 3000);
    bool zero = (z != NULL);
    for (size_t k = 0; zero && k < 3000; k++) zero = (z[k] == 0);
    CHECK(zero && is_guarded(z, 3000, false));
    memset(z, 0xff, 3000);
    mi_free(z);
  }
  /* realloc keeps the contents */
  unsigned char* r = (unsigned char*)mi_heap_malloc(heap, 100);
  for (int k = 0; k < 100; k++) r[k] = (unsigned char)k;
  r = (unsigned char*)mi_heap_realloc(heap, r, 5000);
  bool same = (r != NULL);
  for (int k = 0; same && k < 100; k++) same = (r[k] == (unsigned char)k);
  CHECK(same && is_guarded(r, 5000, false));
  mi_free(r);
  /* aligned: the pointer moved inside the block is the one free accepts */
  wrong_reset();
  for (size_t align = 32; align <= 4096; align *= 2) {
    void* a = mi_heap_malloc_aligned(heap, 200, align);
    CHECKF(a != NULL && (uintptr_t)a % align == 0 && mi_usable_size(a) >= 200, "aligned %zu: %p", align, a);
    memset(a, 1, 200);
    mi_free(a);
  }
  mi_option_set(mi_option_guarded_precise, 1);
  void* a16 = mi_heap_malloc_aligned(heap, 40, 16);   /* precise placement would not be aligned */
  CHECK(a16 != NULL && (uintptr_t)a16 % 16 == 0);
  mi_free(a16);
  mi_option_set(mi_option_guarded_precise, 0);
  CHECKF(wrong_count == 0, "%d errors from aligned blocks", wrong_count);
  mi_heap_delete(heap);
}

static int visit_count;
static void* visit_want;
static size_t visit_size;
static bool visit_fn(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg)
{
  (void)heap; (void)area; (void)arg;
  if (block == NULL) return true;
  visit_count++;
  if (block == visit_want) visit_size = size;
  return true;
}

static void test_visit_and_destroy(void)
{
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  void* live = mi_heap_malloc(heap, 1000);
  void* freed = mi_heap_malloc(heap, 1000);
  mi_free(freed);   /* quarantined: not shown */
  visit_count = 0; visit_want = live; visit_size = 0;
  mi_heap_visit_blocks(heap, true, visit_fn, NULL);
  CHECKF(visit_count == 1 && visit_size == mi_usable_size(live), "visit: %d blocks, the live one with %zu bytes", visit_count, visit_size);
  mi_heap_delete(heap);

  /* destroy with a live and a quarantined block: their memory comes back
     accessible, so what reuses it does not fault */
  mi_heap_t* d = mi_heap_new_ex(0, true, 0);
  mi_heap_guarded_set_sample_rate(d, 1, 0);
  void* dl = mi_heap_malloc(d, 1000);
  void* dq = mi_heap_malloc(d, 1000);
  CHECK(is_guarded(dl, 1000, false) && is_guarded(dq, 1000, false));
  mi_free(dq);
  mi_heap_destroy(d);
  for (int i = 0; i < 2000; i++) {
    unsigned char* q = (unsigned char*)mi_malloc(4000);
    memset(q, 1, 4000);
    mi_free(q);
  }
  CHECK(true);
}

/* a thread frees the sampled blocks of another */
static void* free_all(void* arg)
{
  void** blocks = (void**)arg;
  for (int i = 0; i < 100; i++) mi_free(blocks[i]);
  return NULL;
}

static void test_cross_thread(void)
{
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 3, 1);
  void* blocks[100];
  for (int i = 0; i < 100; i++) { blocks[i] = mi_heap_malloc(heap, 500 + (size_t)i); memset(blocks[i], 2, 500); }
  wrong_reset();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_all, blocks) == 0);
  pthread_join(t, NULL);
  for (int i = 0; i < 300; i++) mi_free(mi_heap_malloc(heap, 500));   /* evicts them all, collects */
  mi_heap_collect(heap, true);
  CHECKF(wrong_count == 0, "%d errors", wrong_count);
  mi_heap_delete(heap);
}

int main(void)
{
  os_page = (size_t)sysconf(_SC_PAGESIZE);
  void* probe = mi_malloc(1000);   /* a 1024-byte block without padding */
  padded = (mi_usable_size(probe) == 1000);
  mi_free(probe);
  mi_register_error(wrong_on_error, NULL);
#if defined(GUARDED_TRACKED)
  /* MI_TRACK_ASAN / MI_TRACK_VALGRIND: the checker watches every block,
     and mica never samples (doc/security.md) */
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);
  void* p = mi_heap_malloc(heap, 1000);
  const bool sampled = is_guarded(p, 1000, false);
  mi_free(p);
  mi_heap_delete(heap);
  if (sampled) CHECKF(!sampled, "a build with a memory checker sampled a block");
  else test_skip("a build with a memory checker (MI_TRACK_*) never samples (checked): the rest does not apply");
  return test_report();
#endif
  test_sampling_rate();
  test_layout_and_faults(false);
  test_layout_and_faults(true);
  test_wrong_frees();
  test_api_on_sampled();
  test_visit_and_destroy();
  test_cross_thread();
  return test_report();
}
