/* SPDX-License-Identifier: MIT */
// CHECK / CHECKF / test_report for the single-threaded C++ tests of
// test/api (test.h is C: <stdatomic.h>). Same output: "N passed, N failed".
#ifndef MICA_TEST_CXX_H
#define MICA_TEST_CXX_H
#include <cstdio>

static int test_passed_, test_failed_;
#define CHECKF(cond, ...) \
  do { \
    if (cond) test_passed_++; \
    else { test_failed_++; std::fprintf(stderr, "%s:%d: check failed: ", __FILE__, __LINE__); \
           std::fprintf(stderr, __VA_ARGS__); std::fputc('\n', stderr); } \
  } while (0)
#define CHECK(cond)  CHECKF(cond, "%s", #cond)

static inline int test_report() {
  std::fflush(stderr);
  std::printf("%d passed, %d failed\n", test_passed_, test_failed_);
  return (test_failed_ == 0 ? 0 : 1);
}
#endif
