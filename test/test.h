/* SPDX-License-Identifier: MIT */
/* mica test helpers: one header, no library.

   CHECK(cond) / CHECKF(cond, fmt, ...) record a failure (file:line and the
   condition or message on stderr) and continue. Every test program ends with
   `return test_report();`, which prints exactly one line "N passed, N failed"
   on stdout and returns non-zero if anything failed. The counters are atomic,
   so CHECK may be used from any thread.

   A program that checked nothing did not pass: test_report fails it, unless
   it called test_skip(why) (a path this machine cannot test); then it
   returns TEST_SKIP_CODE, which ctest shows as skipped (SKIP_RETURN_CODE,
   set for every test in test/CMakeLists.txt), never as passed.

   test_scale() reads MICA_TEST_SCALE (a positive float, default 1.0); stress
   tests multiply their iteration counts by it (test_scaled) so slow CI legs
   (qemu, sanitizers, valgrind) can run reduced. */
#ifndef MICA_TEST_H
#define MICA_TEST_H

#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(MICA_TEST_WITH_MIMALLOC)
/* Validation against an installed mimalloc (the tests are written against
   mica.h, which follows mimalloc v2): stand-ins for what mimalloc lacks. */
#include "mica.h"
#include <pthread.h>
static _Thread_local char test_tls_id_;
static inline uintptr_t test_mi_thread_id(void) { return (uintptr_t)&test_tls_id_; }
static inline int test_mi_thread_id_source(void) { return 0; }
static inline size_t test_mi_option_get_size(mi_option_t o) { long v = mi_option_get(o); return v < 0 ? 0 : (size_t)v * 1024; }
static inline void* test_mi_heap_zalloc_small(mi_heap_t* h, size_t n) { return mi_heap_zalloc(h, n); }
#define mi_thread_id           test_mi_thread_id
#define mi_thread_id_source    test_mi_thread_id_source
#define mi_option_get_size     test_mi_option_get_size
#define mi_heap_zalloc_small   test_mi_heap_zalloc_small
#endif

static atomic_long test_passed_;
static atomic_long test_failed_;
static atomic_long test_skipped_;

#define TEST_SKIP_CODE 77

/* The rest of this path cannot be tested here (say why). */
static inline void test_skip(const char* why)
{
  atomic_fetch_add(&test_skipped_, 1);
  printf("  skipped: %s\n", why);
  fflush(stdout);
}

static inline void test_fail_(const char* file, int line, const char* fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  long n = atomic_fetch_add(&test_failed_, 1) + 1;
  if (n <= 200) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, msg);
    fflush(stderr);
  }
  else if (n == 201) {
    fprintf(stderr, "(further failures are counted but not printed)\n");
  }
}

#define CHECKF(cond, ...) \
  do { \
    if (cond) atomic_fetch_add(&test_passed_, 1); \
    else test_fail_(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#define CHECK(cond)  CHECKF(cond, "%s", #cond)

/* Number of failures so far (for tests that stop early, e.g. a stress loop). */
static inline long test_failures(void) { return atomic_load(&test_failed_); }

static inline int test_report(void)
{
  long passed = atomic_load(&test_passed_);
  long failed = atomic_load(&test_failed_);
  long skipped = atomic_load(&test_skipped_);
  fflush(stderr);
  if (passed == 0 && failed == 0) {
    printf("0 passed, 0 failed: %s\n", skipped > 0 ? "skipped" : "nothing was checked, which is a failure");
    fflush(stdout);
    return skipped > 0 ? TEST_SKIP_CODE : 1;
  }
  printf("%ld passed, %ld failed\n", passed, failed);
  fflush(stdout);
  return failed == 0 ? 0 : 1;
}

static inline double test_scale(void)
{
  const char* s = getenv("MICA_TEST_SCALE");
  if (s == NULL || *s == 0) return 1.0;
  char* end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end != 0 || !(v > 0.0) || v > 1e6) {
    fprintf(stderr, "MICA_TEST_SCALE=%s is not a positive number; using 1\n", s);
    return 1.0;
  }
  return v;
}

/* n multiplied by test_scale(), at least 1. */
static inline long test_scaled(long n)
{
  double v = (double)n * test_scale();
  return v < 1.0 ? 1 : (long)v;
}

#endif /* MICA_TEST_H */
