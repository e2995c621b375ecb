/* SPDX-License-Identifier: MIT */
/* test-api-ext: the functions mimalloc v2.4 added to mica.h (the rest is
   test-api.c): the u-forms, mi_new and friends from C, wide and multibyte
   strings, environment copies, the Windows aligned recalloc names,
   mi_free_small, mi_is_redirected, mi_options_print, mi_stats_get(_json),
   the guarded and thread-pool hints, and mi_process_done (last). The tool
   test/api/api-coverage.cmake counts the calls here. */
#define _POSIX_C_SOURCE 200809L
#include "mimalloc.h"
#include "mimalloc-stats.h"
#include "test.h"
#include "output-capture.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int is_zero(const void* p, size_t n) {
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) if (b[i] != 0) return 0;
  return 1;
}

/* too large for any allocator, but no overflow in count * size */
static volatile size_t huge_size = (SIZE_MAX / 4) * 3;

static void test_u_forms(void) {
  size_t bs = 12345;
  void* p = mi_umalloc(100, &bs);
  CHECK(p != NULL && bs == mi_usable_size(p) && bs >= 100);
  size_t pre = 0, post = 0;
  p = mi_urealloc(p, 5000, &pre, &post);
  CHECK(p != NULL && pre == bs && post == mi_usable_size(p) && post >= 5000);
  size_t freed = 0;
  mi_ufree(p, &freed);
  CHECK(freed == post);

  p = mi_ucalloc(10, 30, &bs);
  CHECK(p != NULL && bs == mi_usable_size(p) && bs >= 300 && is_zero(p, 300));
  mi_ufree(p, NULL);

  p = mi_umalloc_small(64, &bs);
  CHECK(p != NULL && bs == mi_usable_size(p) && bs >= 64);
  mi_free_small(p);
  p = mi_uzalloc_small(64, &bs);
  CHECK(p != NULL && bs >= 64 && is_zero(p, bs));
  mi_free_small(p);

  p = mi_umalloc_aligned(200, 256, &bs);
  CHECK(p != NULL && ((uintptr_t)p % 256) == 0 && bs == mi_usable_size(p) && bs >= 200);
  mi_free(p);
  p = mi_uzalloc_aligned(200, 4096, &bs);
  CHECK(p != NULL && ((uintptr_t)p % 4096) == 0 && bs >= 200 && is_zero(p, bs));
  mi_free(p);

  /* failure: NULL and a block size of 0 */
  bs = 77;
  CHECK(mi_umalloc(huge_size, &bs) == NULL && bs == 0);
  bs = 77;
  CHECK(mi_umalloc_aligned(huge_size, 64, &bs) == NULL && bs == 0);
  p = mi_malloc(10);
  pre = post = 77;
  CHECK(mi_urealloc(p, huge_size, &pre, &post) == NULL && pre == mi_usable_size(p) && post == 0);
  mi_free(p);   /* still valid after the failed realloc */
}

static void test_new_from_c(void) {
  void* p = mi_new(100);
  CHECK(p != NULL && mi_check_owned(p));
  p = mi_new_realloc(p, 100000);
  CHECK(p != NULL && mi_usable_size(p) >= 100000);
  p = mi_new_reallocn(p, 10, 8);
  CHECK(p != NULL && mi_usable_size(p) >= 80);
  mi_free(p);
  p = mi_new_n(1000, 8);
  CHECK(p != NULL && mi_usable_size(p) >= 8000);
  mi_free(p);
  p = mi_new_aligned(100, 1024);
  CHECK(p != NULL && ((uintptr_t)p % 1024) == 0);
  mi_free(p);
  p = mi_new_nothrow(24);
  CHECK(p != NULL);
  mi_free(p);
  p = mi_new_aligned_nothrow(24, 64);
  CHECK(p != NULL && ((uintptr_t)p % 64) == 0);
  mi_free(p);
  /* no new-handler installed (C): the nothrow forms return NULL */
  CHECK(mi_new_nothrow(huge_size) == NULL);
  CHECK(mi_new_aligned_nothrow(huge_size, 4096) == NULL);

  mi_heap_t* heap = mi_heap_new();
  p = mi_heap_alloc_new(heap, 300);
  CHECK(p != NULL && mi_heap_contains_block(heap, p));
  void* q = mi_heap_alloc_new_n(heap, 30, 10);
  CHECK(q != NULL && mi_heap_contains_block(heap, q) && mi_usable_size(q) >= 300);
  mi_heap_destroy(heap);
}

static void test_strings(void) {
  const wchar_t* ws = L"wide \x263A string";
  wchar_t* w = mi_wcsdup(ws);
  CHECK(w != NULL && wcscmp(w, ws) == 0 && w != ws && mi_check_owned(w));
  mi_free(w);
  CHECK(mi_wcsdup(NULL) == NULL);

  const unsigned char mb[] = { 'm', 0xC3, 0xA9, 'b', 0 };
  unsigned char* m = mi_mbsdup(mb);
  CHECK(m != NULL && memcmp(m, mb, sizeof(mb)) == 0 && mi_check_owned(m));
  mi_free(m);
  CHECK(mi_mbsdup(NULL) == NULL);
}

static void test_dupenv(void) {
  char* buf = (char*)1;
  size_t size = 99;
  setenv("MICA_TEST_DUPENV", "some value", 1);
  CHECK(mi_dupenv_s(&buf, &size, "MICA_TEST_DUPENV") == 0);
  CHECK(buf != NULL && strcmp(buf, "some value") == 0 && size == strlen("some value") && mi_check_owned(buf));
  mi_free(buf);

  /* longer than any fixed buffer inside mica */
  char longv[3000];
  memset(longv, 'x', sizeof(longv) - 1);
  longv[sizeof(longv) - 1] = 0;
  setenv("MICA_TEST_DUPENV", longv, 1);
  CHECK(mi_dupenv_s(&buf, &size, "MICA_TEST_DUPENV") == 0 && buf != NULL && strcmp(buf, longv) == 0 && size == sizeof(longv) - 1);
  mi_free(buf);

  unsetenv("MICA_TEST_DUPENV");
  buf = (char*)1; size = 99;
  CHECK(mi_dupenv_s(&buf, &size, "MICA_TEST_DUPENV") == 0 && buf == NULL && size == 0);
  CHECK(mi_dupenv_s(NULL, &size, "PATH") == EINVAL);
  CHECK(mi_dupenv_s(&buf, &size, NULL) == EINVAL);

  setenv("MICA_TEST_WDUPENV", "wide value", 1);
  wchar_t* w = NULL;
  CHECK(mi_wdupenv_s(&w, &size, L"MICA_TEST_WDUPENV") == 0);
  CHECK(w != NULL && wcscmp(w, L"wide value") == 0 && size == wcslen(L"wide value"));
  mi_free(w);
  w = (wchar_t*)1;
  CHECK(mi_wdupenv_s(&w, &size, L"MICA_TEST_NOT_SET_AT_ALL") == 0 && w == NULL && size == 0);
  CHECK(mi_wdupenv_s(&w, &size, L"NON_ASCII_\x263A") == EINVAL);
  CHECK(mi_wdupenv_s(NULL, &size, L"PATH") == EINVAL);
}

static void test_aligned_recalloc(void) {
  unsigned char* p = (unsigned char*)mi_zalloc_aligned(100, 64);
  CHECK(p != NULL);
  memset(p, 0xAB, 100);
  p = (unsigned char*)mi_aligned_recalloc(p, 50, 20, 64);   /* 1000 bytes */
  CHECK(p != NULL && ((uintptr_t)p % 64) == 0 && p[0] == 0xAB && p[99] == 0xAB && is_zero(p + 100, 900));
  mi_free(p);

  p = (unsigned char*)mi_zalloc_aligned_at(100, 128, 16);
  CHECK(p != NULL && ((uintptr_t)(p + 16) % 128) == 0);
  memset(p, 0xCD, 100);
  p = (unsigned char*)mi_aligned_offset_recalloc(p, 4, 500, 128, 16);
  CHECK(p != NULL && ((uintptr_t)(p + 16) % 128) == 0 && p[99] == 0xCD && is_zero(p + 100, 1900));
  mi_free(p);
  CHECK(mi_aligned_recalloc(NULL, SIZE_MAX / 2, 4, 16) == NULL);   /* count * size overflows */
}

/* mica serves malloc exactly when a block from malloc is mica's. The name
   is parenthesized so mimalloc-override.h style macros cannot interfere. */
static void test_redirected(void) {
  void* p = (calloc)(1, 40);
  const bool owned = mi_is_in_heap_region(p);
  CHECKF(mi_is_redirected() == owned, "mi_is_redirected() = %d but malloc's block is %smica's",
         (int)mi_is_redirected(), owned ? "" : "not ");
  (free)(p);
}

static void test_options_print(void) {
  mi_option_set(mi_option_generic_collect, 5000);
  output_capture();
  mi_options_print();
  output_release();
  static const char* const names[] = {
    "show_errors", "show_stats", "verbose", "eager_commit", "arena_eager_commit", "purge_decommits",
    "allow_large_os_pages", "reserve_huge_os_pages", "reserve_huge_os_pages_at", "reserve_os_memory",
    "deprecated_segment_cache", "deprecated_page_reset", "abandoned_page_purge", "deprecated_segment_reset",
    "eager_commit_delay", "purge_delay", "use_numa_nodes", "disallow_os_alloc", "os_tag", "max_errors",
    "max_warnings", "max_segment_reclaim", "destroy_on_exit", "arena_reserve", "arena_purge_mult",
    "purge_extend_delay", "abandoned_reclaim_on_free", "disallow_arena_alloc", "retry_on_oom",
    "visit_abandoned", "guarded_min", "guarded_max", "guarded_precise", "guarded_sample_rate",
    "guarded_sample_seed", "target_segments_per_thread", "generic_collect", "allow_thp" };
  CHECK(sizeof(names) / sizeof(names[0]) == (size_t)_mi_option_last);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char key[64];
    snprintf(key, sizeof(key), " %s ", names[i]);
    CHECKF(strstr(out_buf, key) != NULL, "mi_options_print does not list %s", names[i]);
  }
  CHECKF(strstr(out_buf, "generic_collect") != NULL && strstr(strstr(out_buf, "generic_collect"), "5000 (program)") != NULL,
         "generic_collect set by the program not shown as such:\n%s", out_buf);
  CHECKF(strstr(out_buf, "(default)") != NULL, "no option shown with its default source");
  mi_option_set(mi_option_generic_collect, 10000);
}

static void test_stats(void) {
  void* big = mi_malloc(8u << 20);   /* a huge block */
  CHECK(big != NULL);
  mi_stats_t_decl(st);
  CHECK(mi_stats_get(&st));
  CHECK(st.version == MI_STAT_VERSION && st.size == sizeof(mi_stats_t));
  CHECK(st.reserved.current > 0 && st.reserved.peak >= st.reserved.current);
  CHECK(st.committed.current > 0 && st.committed.current <= st.reserved.current);
  CHECK(st.threads.current >= 1);
  CHECK(st.pages.current >= 1 && st.segments.current >= 1);
  CHECK(st.malloc_huge.current >= (int64_t)(8u << 20));
  CHECK(st.mmap_calls.total >= 1);
  mi_free(big);

  mi_stats_t_decl(bad);
  bad.version = MI_STAT_VERSION + 1;
  CHECK(!mi_stats_get(&bad));
  bad.version = MI_STAT_VERSION;
  bad.size = sizeof(mi_stats_t) + 8;
  CHECK(!mi_stats_get(&bad));
  CHECK(!mi_stats_get(NULL));

  char* json = mi_stats_get_json(0, NULL);
  CHECK(json != NULL && json[0] == '{' && strstr(json, "\"reserved\"") != NULL && mi_check_owned(json));
  const size_t len = (json != NULL ? strlen(json) : 0);
  char* buf = (char*)mi_malloc(len + 4096);
  CHECK(mi_stats_get_json(len + 4096, buf) == buf && buf[0] == '{');
  char small[64];
  CHECK(mi_stats_get_json(sizeof(small), small) == NULL);   /* does not fit: no truncated JSON */
  CHECK(mi_stats_get_json(0, small) == NULL);
  mi_free(buf);
  mi_free(json);
}

/* guarded sampling (its own tests: test/guarded/) and the thread-pool hint,
   without effect on mica's policy: allocation and free go on as before */
static void test_hints(void) {
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 42);
  mi_heap_guarded_set_size_bound(heap, 0, 1024);
  void* p = mi_heap_malloc(heap, 100);
  CHECK(p != NULL && mi_heap_contains_block(heap, p));
  mi_heap_delete(heap);
  mi_free(p);
  mi_thread_set_in_threadpool();
  p = mi_malloc(10);
  CHECK(p != NULL);
  mi_free(p);
}

/* The arena functions are tested in test/arena/; these two are called
   there only through their _ex and interleave forms. Each adds one arena
   (for the huge page, where the kernel has none reserved, a normal arena
   of 1 GiB), or fails with ENOMEM. */
static int64_t arena_count(void) {
  mi_stats_t_decl(st);
  CHECK(mi_stats_get(&st));
  return st.arena_count.total;
}

static void test_reserve(void) {
  int64_t before = arena_count();
  int err = mi_reserve_os_memory((size_t)8 << 20, false, false);
  CHECKF(err == 0 && arena_count() == before + 1, "mi_reserve_os_memory: error %d", err);
  before = arena_count();
  err = mi_reserve_huge_os_pages_at(1, 0, 1000);
  /* 1 GiB takes one arena descriptor on 64-bit, several (64 MiB each) on 32-bit */
  CHECKF(err == 0 ? arena_count() > before : err == ENOMEM, "mi_reserve_huge_os_pages_at: error %d, arenas %lld -> %lld",
         err, (long long)before, (long long)arena_count());
}

/* last: statistics are printed once, however often it is called */
static void test_process_done(void) {
  mi_option_enable(mi_option_show_stats);
  output_capture();
  mi_process_done();
  const bool printed = (strstr(out_buf, "statistics") != NULL);
  output_capture();
  mi_process_done();
  const bool again = (strstr(out_buf, "statistics") != NULL);
  output_release();
  mi_option_disable(mi_option_show_stats);
  CHECKF(printed, "mi_process_done with show_stats printed no statistics");
  CHECKF(!again, "a second mi_process_done printed the statistics again");
  void* p = mi_malloc(32);   /* still usable */
  CHECK(p != NULL);
  mi_free(p);
}

int main(void) {
  CHECK(mi_version() == MI_MALLOC_VERSION && MI_MALLOC_VERSION == 20401);
  test_u_forms();
  test_new_from_c();
  test_strings();
  test_dupenv();
  test_aligned_recalloc();
  test_redirected();
  test_options_print();
  test_stats();
  test_hints();
  test_reserve();
  test_process_done();
  return test_report();
}
