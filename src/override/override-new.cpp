// The C++ allocation operators, every form, on mica (MI_OVERRIDE with a
// C++ compiler). Semantics per the C++ standard: a failing throwing `new`
// calls the installed new-handler and retries, and throws std::bad_alloc
// when there is none; nothrow forms return nullptr instead of throwing.
// C cannot express this (exceptions, std::align_val_t), hence this one C++
// translation unit; the library builds without it where there is no C++.
#include <new>
#include <cstddef>
#include "mica.h"

#define mi_export __attribute__((visibility("default")))

namespace {

// The slow path of every throwing/nothrow form: call the new-handler until
// the allocation succeeds or there is no handler left.
void* mi_cxx_new_retry(std::size_t size, std::size_t alignment, bool nothrow) {
  for (;;) {
    void* p = (alignment == 0 ? mi_malloc(size) : mi_malloc_aligned(size, alignment));
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try { handler(); } catch (...) { return nullptr; }   // a handler may throw bad_alloc
    } else {
      handler();
    }
  }
}

inline void* mi_cxx_new(std::size_t size) {
  void* p = mi_malloc(size);
  return (p != nullptr ? p : mi_cxx_new_retry(size, 0, false));
}

inline void* mi_cxx_new_nothrow(std::size_t size) noexcept {
  void* p = mi_malloc(size);
  return (p != nullptr ? p : mi_cxx_new_retry(size, 0, true));
}

inline void* mi_cxx_new_aligned(std::size_t size, std::align_val_t al) {
  void* p = mi_malloc_aligned(size, static_cast<std::size_t>(al));
  return (p != nullptr ? p : mi_cxx_new_retry(size, static_cast<std::size_t>(al), false));
}

inline void* mi_cxx_new_aligned_nothrow(std::size_t size, std::align_val_t al) noexcept {
  void* p = mi_malloc_aligned(size, static_cast<std::size_t>(al));
  return (p != nullptr ? p : mi_cxx_new_retry(size, static_cast<std::size_t>(al), true));
}

}  // namespace

mi_export void* operator new(std::size_t n) { return mi_cxx_new(n); }
mi_export void* operator new[](std::size_t n) { return mi_cxx_new(n); }
mi_export void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return mi_cxx_new_nothrow(n); }
mi_export void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return mi_cxx_new_nothrow(n); }

mi_export void operator delete(void* p) noexcept { mi_free(p); }
mi_export void operator delete[](void* p) noexcept { mi_free(p); }
mi_export void operator delete(void* p, const std::nothrow_t&) noexcept { mi_free(p); }
mi_export void operator delete[](void* p, const std::nothrow_t&) noexcept { mi_free(p); }
mi_export void operator delete(void* p, std::size_t n) noexcept { mi_free_size(p, n); }
mi_export void operator delete[](void* p, std::size_t n) noexcept { mi_free_size(p, n); }

mi_export void* operator new(std::size_t n, std::align_val_t al) { return mi_cxx_new_aligned(n, al); }
mi_export void* operator new[](std::size_t n, std::align_val_t al) { return mi_cxx_new_aligned(n, al); }
mi_export void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_cxx_new_aligned_nothrow(n, al); }
mi_export void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_cxx_new_aligned_nothrow(n, al); }

mi_export void operator delete(void* p, std::align_val_t al) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }
mi_export void operator delete[](void* p, std::align_val_t al) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }
mi_export void operator delete(void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
mi_export void operator delete[](void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
mi_export void operator delete(void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }
mi_export void operator delete[](void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }
