// SPDX-License-Identifier: MIT
// ctest headers-cxx: mica's headers read by a C++ compiler, as CPython 3.13's
// internal headers make every C++ unit built with Py_BUILD_CORE read them
// (doc/embedding.md). check-headers-cxx.sh compiles this file with
// -std=c++11/17/20, MI_DEBUG 0 and 2, with and without MI_EMBED, bare and
// inside `extern "C++" { }` (HEADERS_EXTERN_CXX, CPython's way), links it
// with layout-c.c (the same headers as C) and libmica, and runs it:
//   1. every value of layout.h (sizes, alignments and offsets of the types
//      and their atomic fields, bit-field placement, inline helpers, every
//      atomic wrapper) is what the C unit computed;
//   2. the atomics are lock-free std::atomic<T> of their T's size;
//   3. the inline helpers and the extern declarations (C linkage) work
//      against the C library: an allocation's page, heap and size class read
//      through the C++ view of the types, and the malloc and free fast paths
//      (_mi_malloc_inline, _mi_free_inline) run from C++.
#ifndef HEADERS_EXTERN_CXX
#define HEADERS_EXTERN_CXX 0
#endif
#if HEADERS_EXTERN_CXX
extern "C++" {
#endif
#include "mica.h"
#include "mica/arch.h"
#include "mica/config.h"
#include "mica/atomic.h"
#include "mica/types.h"
#include "mica/track.h"
#include "mica/prim.h"
#include "mica/hooks.h"
#include "mica/internal.h"
#if HEADERS_EXTERN_CXX
}
#endif
#include "layout.h"
#include "test-cxx.h"
#include <cstring>

// The headers put no name into the global namespace by a using-declaration:
// had they, these would clash with it.
typedef int atomic;
typedef int memory_order;
typedef int memory_order_relaxed;
typedef int atomic_load_explicit;
typedef int atomic_compare_exchange_weak_explicit;

extern "C" size_t headers_layout_c(uint64_t* values);

static void check_layout() {
  static uint64_t c[LAYOUT_MAX], cxx[LAYOUT_MAX];
  const size_t nc = headers_layout_c(c);
  const size_t ncxx = layout_values(cxx);
  CHECKF(nc == ncxx && nc > 100 && nc <= LAYOUT_MAX, "C has %zu values, C++ %zu", nc, ncxx);
  for (size_t i = 0; i < nc && i < ncxx; i++) {
    CHECKF(c[i] == cxx[i], "%s: C %llu (0x%llx), C++ %llu (0x%llx)", layout_name(i),
           (unsigned long long)c[i], (unsigned long long)c[i], (unsigned long long)cxx[i], (unsigned long long)cxx[i]);
  }
}

template <typename T> static void check_atomic(const char* name) {
  mi_atomic(T) a(0);
  CHECKF(__atomic_always_lock_free(sizeof(a), nullptr), "mi_atomic(%s) is lock-free", name);
  CHECKF(sizeof(a) == sizeof(T) && alignof(mi_atomic(T)) == sizeof(T), "mi_atomic(%s) is naturally aligned", name);
}

static void check_library() {
  void* p = mi_malloc(100);
  CHECK(p != nullptr);
  CHECK(_mi_ptr_is_known(p));                     // _mi_segment_map: an extern "C" array of atomics
  mi_page_t* page = _mi_ptr_page(p);
  CHECK(mi_page_block_size(page) >= 100);
  CHECK(mi_page_block_size(page) == _mi_bin_size(_mi_bin(100 + MI_PADDING_SIZE)));
  CHECK(page->used >= 1 && page->used <= page->reserved && page->capacity <= page->reserved);
  mi_heap_t* heap = mi_get_default_heap();        // _mi_heap_default: an extern "C" thread_local
  CHECK(mi_heap_is_initialized(heap));
  CHECK(heap == mi_heap_get_default());
  CHECK(mi_page_heap(page) == heap);
  CHECK(_mi_page_segment(page)->page_kind == MI_PAGE_SLICED);
  CHECK(mi_usable_size(p) == (MI_PADDING ? 100 : mi_page_block_size(page)));   // padded: the size asked for
  mi_free(p);

  // the fast paths, inlined into C++
  enum { N = 1000 };
  static void* blocks[N];
  size_t fails = 0;
  for (size_t i = 0; i < N; i++) {
    const size_t size = 8 + (i % 64) * 8;
    blocks[i] = _mi_malloc_inline(size);
    if (blocks[i] == nullptr || !_mi_ptr_is_known(blocks[i]) || mi_usable_size(blocks[i]) < size) fails++;
    else std::memset(blocks[i], (int)i, size);
  }
  for (size_t i = 0; i < N; i++) _mi_free_inline(blocks[i]);
  CHECKF(fails == 0, "%zu of %d blocks from _mi_malloc_inline were wrong", fails, (int)N);
  void* q = _mi_malloc_inline(64);
  CHECK(q != nullptr && mi_page_heap(_mi_ptr_page(q)) == heap);
  _mi_free_inline(q);
}

int main() {
  check_layout();
  check_atomic<uintptr_t>("uintptr_t");
  check_atomic<intptr_t>("intptr_t");
  check_atomic<uint32_t>("uint32_t");
  check_atomic<uint8_t>("uint8_t");
  check_library();
  return test_report();
}
