/* SPDX-License-Identifier: MIT */
// test-stl: mica.h's C++ allocators in the standard containers, and mi_new
// and friends with C++ semantics (new-handler, std::bad_alloc) as mica.h
// documents them.
#include "mimalloc.h"
#include "test-cxx.h"

#include <cstdint>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

typedef std::basic_string<char, std::char_traits<char>, mi_stl_allocator<char>> mi_string;
struct mi_string_hash {   // std::hash knows only std::allocator strings
  std::size_t operator()(const mi_string& s) const { return std::hash<std::string_view>()(std::string_view(s.data(), s.size())); }
};

static volatile std::size_t huge_size = (SIZE_MAX / 4) * 3;
static volatile std::size_t half_max = SIZE_MAX / 2;   // times 4: overflows
static void* volatile sink;                            // results of calls that must throw

static void test_stl_allocator() {
  std::vector<int, mi_stl_allocator<int>> v;
  for (int i = 0; i < 10000; i++) v.push_back(i);
  CHECK(mi_check_owned(v.data()));
  long sum = 0;
  for (int x : v) sum += x;
  CHECK(sum == 10000L * 9999 / 2);

  std::map<int, mi_string, std::less<int>, mi_stl_allocator<std::pair<const int, mi_string>>> m;
  for (int i = 0; i < 500; i++) m[i] = mi_string(100, char('a' + i % 26));   // long: heap-allocated
  CHECK(m.size() == 500 && m[25] == mi_string(100, 'z'));
  CHECK(mi_check_owned(&*m.begin()) && mi_check_owned(m[7].data()));

  std::unordered_map<mi_string, int, mi_string_hash, std::equal_to<mi_string>,
                     mi_stl_allocator<std::pair<const mi_string, int>>> u;
  for (int i = 0; i < 1000; i++) u[mi_string("key-that-is-long-enough-") + std::to_string(i).c_str()] = i;
  CHECK(u.size() == 1000 && u[mi_string("key-that-is-long-enough-999")] == 999);
  CHECK(mi_check_owned(&*u.begin()));

  mi_stl_allocator<int> a, b;
  CHECK(a == b && !(a != b));
  CHECK(a.max_size() == (std::size_t)PTRDIFF_MAX / sizeof(int));
}

static void test_heap_allocator() {
  mi_heap_t* heap = mi_heap_new();
  {
    mi_heap_stl_allocator<int> in_heap(heap);   // the caller's heap: not deleted by the allocator
    std::vector<int, mi_heap_stl_allocator<int>> v(in_heap);
    for (int i = 0; i < 5000; i++) v.push_back(i);
    CHECK(mi_heap_contains_block(heap, v.data()));
    std::map<int, int, std::less<int>, mi_heap_stl_allocator<std::pair<const int, int>>> m(in_heap);
    for (int i = 0; i < 100; i++) m[i] = i;
    CHECK(mi_heap_contains_block(heap, &*m.begin()));
    CHECK(mi_heap_stl_allocator<long>(in_heap) == in_heap);
  }
  void* p = mi_heap_malloc(heap, 10);   // the heap lives on
  CHECK(p != nullptr && mi_heap_contains_block(heap, p));
  mi_heap_delete(heap);
  mi_free(p);

  // a fresh heap per allocator: two of them differ, copies are equal
  mi_heap_stl_allocator<int> h1, h2;
  CHECK(h1 != h2 && h1 == mi_heap_stl_allocator<int>(h1));
  std::vector<int, mi_heap_stl_allocator<int>> v1(h1), v2(h2);
  v1.push_back(1);
  v2.push_back(2);
  CHECK(mi_heap_contains_block(mi_heap_get_default(), v1.data()) == false && mi_is_in_heap_region(v1.data()) &&
        mi_is_in_heap_region(v2.data()) && v1[0] == 1 && v2[0] == 2);
  std::unordered_map<int, std::string, std::hash<int>, std::equal_to<int>,
                     mi_heap_stl_allocator<std::pair<const int, std::string>>> u(h1);
  for (int i = 0; i < 300; i++) u[i] = std::to_string(i);
  CHECK(u.size() == 300 && u[299] == "299");

  // destroy allocator: deallocate is a no-op, the heap goes with the last copy
  {
    mi_heap_destroy_stl_allocator<int> d;
    std::vector<int, mi_heap_destroy_stl_allocator<int>> v(d);
    for (int i = 0; i < 20000; i++) v.push_back(i);
    CHECK(v[19999] == 19999 && mi_is_in_heap_region(v.data()) && !mi_check_owned(v.data()));
    std::map<int, int, std::less<int>, mi_heap_destroy_stl_allocator<std::pair<const int, int>>> m(d);
    for (int i = 0; i < 1000; i++) m[i] = -i;
    CHECK(m[999] == -999);
  }
}

static int handler_calls;
static void release_reserve() {   // frees memory, then gives up
  handler_calls++;
  if (handler_calls >= 3) std::set_new_handler(nullptr);
}

static void test_new_semantics() {
  bool threw = false;
  try { sink = mi_new(huge_size); } catch (const std::bad_alloc&) { threw = true; }
  CHECKF(threw, "mi_new without a handler must throw std::bad_alloc");
  threw = false;
  try { sink = mi_new_n(half_max, 4); } catch (const std::bad_alloc&) { threw = true; }
  CHECKF(threw, "mi_new_n with an overflowing count must throw std::bad_alloc");
  threw = false;
  try { sink = mi_new_aligned(huge_size, 64); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw);

  // the handler is called until it uninstalls itself, then bad_alloc
  handler_calls = 0;
  std::set_new_handler(release_reserve);
  threw = false;
  try { sink = mi_new(huge_size); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw && handler_calls == 3);

  // nothrow: the handler is called as well, then NULL
  handler_calls = 0;
  std::set_new_handler(release_reserve);
  CHECK(mi_new_nothrow(huge_size) == nullptr && handler_calls == 3);
  std::set_new_handler(nullptr);
  CHECK(mi_new_aligned_nothrow(huge_size, 128) == nullptr);

  // realloc: on failure `p` is left as it was
  char* p = static_cast<char*>(mi_new(16));
  p[0] = 'x';
  threw = false;
  try { sink = mi_new_realloc(p, huge_size); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw && p[0] == 'x' && mi_usable_size(p) >= 16);
  threw = false;
  try { sink = mi_new_reallocn(p, half_max, 8); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw);
  mi_free(p);

  mi_heap_t* heap = mi_heap_new();
  threw = false;
  try { sink = mi_heap_alloc_new(heap, huge_size); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw);
  threw = false;
  try { sink = mi_heap_alloc_new_n(heap, half_max, 16); } catch (const std::bad_alloc&) { threw = true; }
  CHECK(threw);
  mi_heap_delete(heap);
}

int main() {
  test_stl_allocator();
  test_heap_allocator();
  test_new_semantics();
  return test_report();
}
