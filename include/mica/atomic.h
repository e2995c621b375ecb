/* SPDX-License-Identifier: MIT */
/* Atomics: C11 <stdatomic.h> behind wrappers whose names carry the memory
   order, so every ordering in use can be audited with grep. Only word-sized
   (uintptr_t, pointers) and 32-bit atomics are used: mica needs no 64-bit
   atomic on a 32-bit target. Every atomic must be naturally aligned (ARM
   faults on misaligned exclusive/ordered accesses); debug builds assert it
   on every access, since UBSan does not check atomics. No locks, no OS.

   In C++ (arch.h: MI_LANG_CXX) an atomic T is std::atomic<T> and the
   wrappers call the std:: free functions of <atomic> with std::memory_order
   values: the same operations with the same orderings, and, for the
   lock-free word and 32-bit types mica uses, the same size and alignment
   as C's _Atomic(T) (asserted below; ctest headers-cxx compares the
   layouts of a C and a C++ unit). Nothing is added to the includer's
   namespaces. */
#ifndef MICA_ATOMIC_H
#define MICA_ATOMIC_H

#include <stdint.h>
#include <stdbool.h>
#include "arch.h"
#if MI_LANG_CXX
#include <atomic>
#define mi_atomic(T)            std::atomic<T>
#define mi_atomic_std(op)       std::atomic_##op##_explicit
#define mi_memory_order(order)  std::memory_order_##order
#else
#include <stdatomic.h>
#define mi_atomic(T)            _Atomic(T)
#define mi_atomic_std(op)       atomic_##op##_explicit
#define mi_memory_order(order)  memory_order_##order
#endif

#if MI_DEBUG > 0
MI_HIDDEN_BEGIN
MI_EXTERN_C_BEGIN
void _mi_message_assert_fail(const char* assertion, const char* fname, unsigned line, const char* func);
MI_EXTERN_C_END
MI_HIDDEN_END
#define mi_atomic_checked(p) \
  ((((uintptr_t)(p) & (sizeof(*(p)) - 1)) == 0) ? (p) : (_mi_message_assert_fail("atomic is naturally aligned", __FILE__, __LINE__, __func__), (p)))
#else
#define mi_atomic_checked(p) (p)
#endif

#define mi_atomic_load_relaxed(p)          mi_atomic_std(load)(mi_atomic_checked(p), mi_memory_order(relaxed))
#define mi_atomic_load_acquire(p)          mi_atomic_std(load)(mi_atomic_checked(p), mi_memory_order(acquire))
#define mi_atomic_store_relaxed(p,x)       mi_atomic_std(store)(mi_atomic_checked(p), x, mi_memory_order(relaxed))
#define mi_atomic_store_release(p,x)       mi_atomic_std(store)(mi_atomic_checked(p), x, mi_memory_order(release))
#define mi_atomic_exchange_acq_rel(p,x)    mi_atomic_std(exchange)(mi_atomic_checked(p), x, mi_memory_order(acq_rel))
#define mi_atomic_fetch_add_relaxed(p,x)   mi_atomic_std(fetch_add)(mi_atomic_checked(p), x, mi_memory_order(relaxed))
#define mi_atomic_fetch_sub_relaxed(p,x)   mi_atomic_std(fetch_sub)(mi_atomic_checked(p), x, mi_memory_order(relaxed))
#define mi_atomic_fetch_add_acq_rel(p,x)   mi_atomic_std(fetch_add)(mi_atomic_checked(p), x, mi_memory_order(acq_rel))
#define mi_atomic_fetch_or_acq_rel(p,x)    mi_atomic_std(fetch_or)(mi_atomic_checked(p), x, mi_memory_order(acq_rel))
#define mi_atomic_fetch_and_acq_rel(p,x)   mi_atomic_std(fetch_and)(mi_atomic_checked(p), x, mi_memory_order(acq_rel))
/* compare-and-swap: `*expected` is updated with the current value on failure */
#define mi_atomic_cas_weak_relaxed(p,expected,desired) \
  mi_atomic_std(compare_exchange_weak)(mi_atomic_checked(p), expected, desired, mi_memory_order(relaxed), mi_memory_order(relaxed))
#define mi_atomic_cas_weak_release(p,expected,desired) \
  mi_atomic_std(compare_exchange_weak)(mi_atomic_checked(p), expected, desired, mi_memory_order(release), mi_memory_order(relaxed))
#define mi_atomic_cas_weak_acq_rel(p,expected,desired) \
  mi_atomic_std(compare_exchange_weak)(mi_atomic_checked(p), expected, desired, mi_memory_order(acq_rel), mi_memory_order(acquire))
#define mi_atomic_cas_strong_acq_rel(p,expected,desired) \
  mi_atomic_std(compare_exchange_strong)(mi_atomic_checked(p), expected, desired, mi_memory_order(acq_rel), mi_memory_order(acquire))

/* Static proof that an atomic type is naturally aligned, and in C++17 and
   later (is_always_lock_free) that it is lock-free. */
#if MI_LANG_CXX && defined(__cpp_lib_atomic_is_always_lock_free)
#define mi_static_assert_atomic(T) \
  mi_static_assert(sizeof(mi_atomic(T)) == sizeof(T) && mi_alignof(mi_atomic(T)) == sizeof(T) && \
                   mi_atomic(T)::is_always_lock_free, "atomic " #T " is natural and lock-free")
#else
#define mi_static_assert_atomic(T) \
  mi_static_assert(sizeof(mi_atomic(T)) == sizeof(T) && mi_alignof(mi_atomic(T)) == sizeof(T), "atomic " #T " is natural")
#endif

#endif
