/* SPDX-License-Identifier: MIT */
// test-new-delete: mimalloc-new-delete.h in a program linked statically with
// a libmica.a that exports no malloc and no operators (MI_OVERRIDE=0): every
// new/delete form of the program must still be mica's, through the header.
#include "mimalloc-new-delete.h"
#include "test-cxx.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

struct alignas(256) over_aligned { char c[256]; };

static volatile std::size_t huge_size = (SIZE_MAX / 4) * 3;

int main() {
  void* m = (std::calloc)(1, 32);   // libc's: this library serves no malloc
  CHECKF(!mi_is_in_heap_region(m), "malloc is mica's: the test cannot tell the header's operators from the library's");
  std::free(m);
  CHECK(!mi_is_redirected());

  int* i = new int(42);
  CHECK(mi_check_owned(i) && *i == 42);
  delete i;
  int* a = new int[1000];
  CHECK(mi_check_owned(a));
  delete[] a;
  over_aligned* o = new over_aligned;
  CHECK(mi_check_owned(o) && (reinterpret_cast<std::uintptr_t>(o) % 256) == 0);
  delete o;
  over_aligned* oa = new over_aligned[3];
  CHECK(mi_check_owned(oa) && (reinterpret_cast<std::uintptr_t>(oa) % 256) == 0);
  delete[] oa;
  void* n = ::operator new(100, std::nothrow);
  CHECK(n != nullptr && mi_check_owned(n));
  ::operator delete(n, std::nothrow);
  void* s = ::operator new(100);
  ::operator delete(s, 100);   // sized
  void* al = ::operator new(64, std::align_val_t(4096), std::nothrow);
  CHECK(al != nullptr && mi_check_owned(al) && (reinterpret_cast<std::uintptr_t>(al) % 4096) == 0);
  ::operator delete(al, std::align_val_t(4096));

  CHECK(::operator new(huge_size, std::nothrow) == nullptr);
  bool threw = false;
  try { s = ::operator new(huge_size); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw);

  std::vector<std::string> v;
  std::map<int, std::string> mp;
  for (int k = 0; k < 1000; k++) { v.push_back(std::string(40, 'v')); mp[k] = std::to_string(k) + std::string(30, 'm'); }
  CHECK(mi_check_owned(v.data()) && mi_check_owned(v[999].data()) && mi_check_owned(mp[500].data()));
  return test_report();
}
