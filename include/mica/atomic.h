/* SPDX-License-Identifier: MIT */
/* Atomics: C11 <stdatomic.h> behind wrappers whose names carry the memory
   order, so every ordering in use can be audited with grep. Only word-sized
   (uintptr_t, pointers) and 32-bit atomics are used: mica needs no 64-bit
   atomic on a 32-bit target. Every atomic must be naturally aligned (ARM
   faults on misaligned exclusive/ordered accesses); debug builds assert it
   on every access, since UBSan does not check atomics. No locks, no OS. */
#ifndef MICA_ATOMIC_H
#define MICA_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>
#include "arch.h"

#define mi_atomic(T)  _Atomic(T)

#if MI_DEBUG > 0
MI_HIDDEN_BEGIN
void _mi_message_assert_fail(const char* assertion, const char* fname, unsigned line, const char* func);
MI_HIDDEN_END
#define mi_atomic_checked(p) \
  ((((uintptr_t)(p) & (sizeof(*(p)) - 1)) == 0) ? (p) : (_mi_message_assert_fail("atomic is naturally aligned", __FILE__, __LINE__, __func__), (p)))
#else
#define mi_atomic_checked(p) (p)
#endif

#define mi_atomic_load_relaxed(p)          atomic_load_explicit(mi_atomic_checked(p), memory_order_relaxed)
#define mi_atomic_load_acquire(p)          atomic_load_explicit(mi_atomic_checked(p), memory_order_acquire)
#define mi_atomic_store_relaxed(p,x)       atomic_store_explicit(mi_atomic_checked(p), x, memory_order_relaxed)
#define mi_atomic_store_release(p,x)       atomic_store_explicit(mi_atomic_checked(p), x, memory_order_release)
#define mi_atomic_exchange_acq_rel(p,x)    atomic_exchange_explicit(mi_atomic_checked(p), x, memory_order_acq_rel)
#define mi_atomic_fetch_add_relaxed(p,x)   atomic_fetch_add_explicit(mi_atomic_checked(p), x, memory_order_relaxed)
#define mi_atomic_fetch_sub_relaxed(p,x)   atomic_fetch_sub_explicit(mi_atomic_checked(p), x, memory_order_relaxed)
#define mi_atomic_fetch_add_acq_rel(p,x)   atomic_fetch_add_explicit(mi_atomic_checked(p), x, memory_order_acq_rel)
#define mi_atomic_fetch_or_acq_rel(p,x)    atomic_fetch_or_explicit(mi_atomic_checked(p), x, memory_order_acq_rel)
#define mi_atomic_fetch_and_acq_rel(p,x)   atomic_fetch_and_explicit(mi_atomic_checked(p), x, memory_order_acq_rel)
/* compare-and-swap: `*expected` is updated with the current value on failure */
#define mi_atomic_cas_weak_relaxed(p,expected,desired) \
  atomic_compare_exchange_weak_explicit(mi_atomic_checked(p), expected, desired, memory_order_relaxed, memory_order_relaxed)
#define mi_atomic_cas_weak_release(p,expected,desired) \
  atomic_compare_exchange_weak_explicit(mi_atomic_checked(p), expected, desired, memory_order_release, memory_order_relaxed)
#define mi_atomic_cas_weak_acq_rel(p,expected,desired) \
  atomic_compare_exchange_weak_explicit(mi_atomic_checked(p), expected, desired, memory_order_acq_rel, memory_order_acquire)
#define mi_atomic_cas_strong_acq_rel(p,expected,desired) \
  atomic_compare_exchange_strong_explicit(mi_atomic_checked(p), expected, desired, memory_order_acq_rel, memory_order_acquire)

/* Static proof that an atomic type is lock-free and naturally aligned. */
#define mi_static_assert_atomic(T) \
  _Static_assert(sizeof(mi_atomic(T)) == sizeof(T) && _Alignof(mi_atomic(T)) == sizeof(T), "atomic " #T " is natural")

#endif
