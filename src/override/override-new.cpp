/* SPDX-License-Identifier: MIT */
// The C++ allocation operators, every form, on mica (MI_OVERRIDE with a
// C++ compiler). Semantics per the C++ standard, from mi_new and friends:
// a failing throwing `new` calls the installed new-handler and retries, and
// throws std::bad_alloc when there is none; nothrow forms return nullptr.
#include <new>
#include <cstddef>
#include "mica.h"

#define mi_export __attribute__((visibility("default")))

// Plain `new` relies on malloc's fundamental alignment (types.h,
// MI_MAX_ALIGN_SIZE); GCC vectorizes on this value.
static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ <= alignof(std::max_align_t),
              "operator new's default alignment is at most malloc's");

// The new-handler loop and bad_alloc are mi_new's (src/alloc-new.c).
static inline std::size_t mi_align_of(std::align_val_t al) { return static_cast<std::size_t>(al); }

mi_export void* operator new(std::size_t n) { return mi_new(n); }
mi_export void* operator new[](std::size_t n) { return mi_new(n); }
mi_export void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return mi_new_nothrow(n); }
mi_export void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return mi_new_nothrow(n); }

mi_export void operator delete(void* p) noexcept { mi_free(p); }
mi_export void operator delete[](void* p) noexcept { mi_free(p); }
mi_export void operator delete(void* p, const std::nothrow_t&) noexcept { mi_free(p); }
mi_export void operator delete[](void* p, const std::nothrow_t&) noexcept { mi_free(p); }
mi_export void operator delete(void* p, std::size_t n) noexcept { mi_free_size(p, n); }
mi_export void operator delete[](void* p, std::size_t n) noexcept { mi_free_size(p, n); }

mi_export void* operator new(std::size_t n, std::align_val_t al) { return mi_new_aligned(n, mi_align_of(al)); }
mi_export void* operator new[](std::size_t n, std::align_val_t al) { return mi_new_aligned(n, mi_align_of(al)); }
mi_export void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_new_aligned_nothrow(n, mi_align_of(al)); }
mi_export void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_new_aligned_nothrow(n, mi_align_of(al)); }

mi_export void operator delete(void* p, std::align_val_t al) noexcept { mi_free_aligned(p, mi_align_of(al)); }
mi_export void operator delete[](void* p, std::align_val_t al) noexcept { mi_free_aligned(p, mi_align_of(al)); }
mi_export void operator delete(void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, mi_align_of(al)); }
mi_export void operator delete[](void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, mi_align_of(al)); }
mi_export void operator delete(void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, mi_align_of(al)); }
mi_export void operator delete[](void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, mi_align_of(al)); }
