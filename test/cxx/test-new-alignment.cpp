/* SPDX-License-Identifier: MIT */
// Every form of operator new returns memory aligned for any object of
// fundamental alignment that fits: __STDCPP_DEFAULT_NEW_ALIGNMENT__ for
// requests at least that large, else the largest power of two <= size.
// GCC vectorizes on this; clang++ crashed on 8-byte aligned 24-byte blocks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <string>
#include <vector>

static long passed, failed;
#define CHECKF(cond, ...) do { if (cond) passed++; else { failed++; if (failed < 50) { std::fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); std::fprintf(stderr, __VA_ARGS__); std::fputc('\n', stderr); } } } while (0)

static const std::size_t kNewAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

static std::size_t required(std::size_t n) {
  if (n >= kNewAlign) return kNewAlign;
  std::size_t a = 1;
  while (a * 2 <= n) a *= 2;
  return a;
}

static void check(const char* what, void* p, std::size_t n, std::size_t min = 1) {
  std::size_t need = required(n) > min ? required(n) : min;
  CHECKF(p != nullptr, "%s(%zu) returned null", what, n);
  CHECKF((reinterpret_cast<std::uintptr_t>(p) & (need - 1)) == 0, "%s(%zu) = %p is not %zu-byte aligned", what, n, p, need);
  if (p != nullptr && n > 0) { static_cast<volatile char*>(p)[0] = 1; static_cast<volatile char*>(p)[n - 1] = 2; }
}

struct alignas(32) Wide { char c[40]; };

int main() {
  for (std::size_t n = 1; n <= 4096; n++) {
    void* p = ::operator new(n);                 check("new", p, n); ::operator delete(p);
    p = ::operator new[](n);                     check("new[]", p, n); ::operator delete[](p);
    p = ::operator new(n, std::nothrow);         check("new(nothrow)", p, n); ::operator delete(p, std::nothrow);
    p = ::operator new[](n, std::nothrow);       check("new[](nothrow)", p, n); ::operator delete[](p, std::nothrow);
#if __cpp_sized_deallocation
    p = ::operator new(n);                       check("new/sized delete", p, n); ::operator delete(p, n);
#endif
#if __cpp_aligned_new
    for (std::size_t a = 1; a <= 64; a *= 2) {
      p = ::operator new(n, std::align_val_t(a));   check("new(align)", p, n, a); ::operator delete(p, std::align_val_t(a));
      p = ::operator new[](n, std::align_val_t(a)); check("new[](align)", p, n, a); ::operator delete[](p, std::align_val_t(a));
    }
#endif
  }
  // the containers clang's data structures look like
  std::map<std::string, std::vector<long double>> m;
  for (int i = 0; i < 2000; i++) {
    std::vector<long double>& v = m[std::to_string(i * 7919) + "-key"];
    for (int j = 0; j <= i % 7; j++) v.push_back((long double)j);
    CHECKF((reinterpret_cast<std::uintptr_t>(v.data()) & (alignof(long double) - 1)) == 0, "vector<long double> data %p", (void*)v.data());
  }
  for (int i = 0; i < 100; i++) {
    Wide* w = new Wide[1 + i % 5];
    CHECKF((reinterpret_cast<std::uintptr_t>(w) & 31) == 0, "new Wide[] = %p", (void*)w);
    delete[] w;
  }
  std::printf("%ld passed, %ld failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
