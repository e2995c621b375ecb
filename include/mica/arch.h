/* SPDX-License-Identifier: MIT */
/* Architecture and compiler facts: pointer size, endianness, cache line,
   the spin-wait hint and the thread pointer. This header and src/prim/ are
   the only places with per-architecture #if chains; each chain ends in a
   portable fallback, never in an empty body. No OS headers here. */
#ifndef MICA_ARCH_H
#define MICA_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* ---- compiler ---------------------------------------------------------- */
#if defined(__clang__)
#define MI_CLANG_VERSION (__clang_major__ * 100 + __clang_minor__)
#define MI_GCC_VERSION   0
#elif defined(__GNUC__)
#define MI_CLANG_VERSION 0
#define MI_GCC_VERSION   (__GNUC__ * 100 + __GNUC_MINOR__)
#else
#define MI_CLANG_VERSION 0
#define MI_GCC_VERSION   0
#endif
#ifndef MI_GNUC_COMPATIBLE   /* GCC's extensions (builtins, attributes, asm); tests set 0 to check the fallbacks */
#define MI_GNUC_COMPATIBLE (MI_CLANG_VERSION > 0 || MI_GCC_VERSION > 0)
#endif

/* ---- language: C11, or C++11 and later --------------------------------- */
/* mica is C, but its headers are also read by C++ units: CPython 3.13's
   internal headers include them (inside `extern "C++"`) wherever a C++
   extension is built with Py_BUILD_CORE (doc/embedding.md). These name the
   few C11 keywords the headers use so both languages read them, with the
   same meaning and the same layout; C sees exactly the C11 keywords.
   MI_EXTERN_C_BEGIN/END give the declarations of mica's functions and
   variables C linkage, so a C++ unit links against the C library. A
   thread-local is GCC's `__thread` in C++, not `thread_local`: C++ reads an
   extern thread_local of another unit through a wrapper that calls its
   dynamic initialiser if one is linked in (a weak _ZTH symbol, which under
   MI_EMBED is hidden and fails to link into a PIE); `__thread` variables
   are constant-initialised by rule, so the read is a plain TLS access, as
   in C. The atomics are in atomic.h. */
#if defined(__cplusplus)
#define MI_LANG_CXX 1
#define mi_static_assert(c, msg)  static_assert(c, msg)
#define mi_alignof(T)             alignof(T)
#define mi_alignas(n)             alignas(n)
#if MI_GNUC_COMPATIBLE
#define mi_thread_local           __thread   /* see above */
#else
#define mi_thread_local           thread_local
#endif
#define MI_EXTERN_C_BEGIN         extern "C" {
#define MI_EXTERN_C_END           }
#else
#define MI_LANG_CXX 0
#define mi_static_assert(c, msg)  _Static_assert(c, msg)
#define mi_alignof(T)             _Alignof(T)
#define mi_alignas(n)             _Alignas(n)
#define mi_thread_local           _Thread_local
#define MI_EXTERN_C_BEGIN
#define MI_EXTERN_C_END
#endif

/* MI_EMBED: every mica declaration between MI_HIDDEN_BEGIN and
   MI_HIDDEN_END (internal.h, prim.h, hooks.h, atomic.h, src/alloc-new.h)
   has hidden visibility, so the object an embedder builds exports no _mi_
   symbol whatever its -fvisibility (doc/embedding.md). The markers come
   after each header's system includes: a libc function declared hidden
   would be called as a local one and fail to link in a shared object. */
#if MI_EMBED && (MI_CLANG_VERSION > 0 || MI_GCC_VERSION > 0)
#define MI_HIDDEN_BEGIN _Pragma("GCC visibility push(hidden)")
#define MI_HIDDEN_END   _Pragma("GCC visibility pop")
#else
#define MI_HIDDEN_BEGIN
#define MI_HIDDEN_END
#endif

/* ---- architecture: exactly one MI_ARCH_* is 1 ------------------------- */
#if defined(__x86_64__)
#define MI_ARCH_X86_64 1
#else
#define MI_ARCH_X86_64 0
#endif
#if defined(__i386__)
#define MI_ARCH_X86 1
#else
#define MI_ARCH_X86 0
#endif
#if defined(__aarch64__)
#define MI_ARCH_ARM64 1
#else
#define MI_ARCH_ARM64 0
#endif
#if defined(__arm__)
#define MI_ARCH_ARM32 1
#else
#define MI_ARCH_ARM32 0
#endif

/* ARM profile version, from the ACLE macro __ARM_ARCH (never __ARM_ARCH__,
   which no compiler defines: see doc/porting.md). */
#if MI_ARCH_ARM32 || MI_ARCH_ARM64
#if defined(__ARM_ARCH)
#define MI_ARM_ARCH __ARM_ARCH
#else
#define MI_ARM_ARCH 0
#endif
#else
#define MI_ARM_ARCH 0
#endif

/* ---- word size and byte order ----------------------------------------- */
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
#define MI_INTPTR_SHIFT 3
#elif UINTPTR_MAX == 0xFFFFFFFFu
#define MI_INTPTR_SHIFT 2
#else
#error "mica supports 32- and 64-bit pointers only"
#endif
#define MI_INTPTR_SIZE  (1 << MI_INTPTR_SHIFT)
#define MI_INTPTR_BITS  (MI_INTPTR_SIZE * 8)

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define MI_BIG_ENDIAN 1
#else
#define MI_BIG_ENDIAN 0
#endif

#define MI_CACHE_LINE 64

/* size_t is unsigned long on LP64 and on 31-bit s390, unsigned int on the
   other 32-bit targets: the C++ ABI's mangled names spell it `m` or `j`
   (src/override/override-new.c, which checks this with _Generic). */
#if MI_INTPTR_SIZE == 8 || defined(__s390__)
#define MI_SIZE_T_IS_LONG 1
#else
#define MI_SIZE_T_IS_LONG 0
#endif

/* ---- spin-wait hint --------------------------------------------------- */
/* Used only inside bounded waits (see _mi_wait_while in internal.h), which
   fall back to sched_yield, so the hint only needs to be cheap and legal.
   ARM: `yield` is the architecture's spin-wait hint (ARM ARM DDI 0406C,
   A8.8.424: a NOP where the core does not implement it) and exists from
   ARMv6K/ARMv7; older cores reject it ("selected processor does not
   support `yield'", solvespace/solvespace#893), hence `nop` there. Not
   `isb`: a full pipeline flush, which some aarch64 runtimes use to make
   spinning back off longer; the bounded wait does not need that. The test
   is the ACLE macro __ARM_ARCH, whatever the byte order: mimalloc tested
   __ARM_ARCH__ and __ARMEL__ and left big-endian ARM without a body
   (microsoft/mimalloc#1046, python/cpython#131675). */
static inline void _mi_arch_pause(void) {
#if MI_GNUC_COMPATIBLE && (MI_ARCH_X86_64 || MI_ARCH_X86)
  __asm__ __volatile__("pause" ::: "memory");
#elif MI_GNUC_COMPATIBLE && MI_ARCH_ARM64
  __asm__ __volatile__("yield" ::: "memory");
#elif MI_GNUC_COMPATIBLE && MI_ARCH_ARM32 && MI_ARM_ARCH >= 7
  __asm__ __volatile__("yield" ::: "memory");   /* any endianness */
#elif MI_GNUC_COMPATIBLE && MI_ARCH_ARM32
  __asm__ __volatile__("nop" ::: "memory");     /* ARMv6 and older have no yield */
#elif MI_GNUC_COMPATIBLE
  __asm__ __volatile__("" ::: "memory");        /* other targets: a compiler barrier */
#else
  /* no hint available: the caller's loop still yields to the OS */
#endif
}

/* ---- value barrier ----------------------------------------------------- */
/* `x` unchanged, but the compiler no longer knows how it was computed: it
   keeps a value it would otherwise recompute from its source (GCC turns
   (p >> k) << k back into p & mask, which needs a copy of p). Any target:
   an empty asm with a register operand; elsewhere the plain value. */
#if MI_GNUC_COMPATIBLE
#define mi_opaque(x)  __asm__("" : "+r"(x))
#else
#define mi_opaque(x)  ((void)0)
#endif

/* ---- thread pointer ---------------------------------------------------- */
/* The thread pointer is used as the thread id only where it is known to work
   for this compiler and target (an explicit list; __has_builtin is not
   trusted: GCC reports the builtin on targets that reject it). The value is
   the thread pointer itself, never a word read through it (on aarch64 glibc
   that word is the DTV pointer, which moves after dlopen). Elsewhere the id
   is the address of a thread-local variable (src/thread.c). GCC 7.5 reported
   __builtin_thread_pointer on aarch64 where it misbehaved (doc/porting.md). */
#if MI_THREAD_ID_TLS || !MI_GNUC_COMPATIBLE
#define MI_HAS_THREAD_POINTER 0
#elif MI_ARCH_ARM64
#define MI_HAS_THREAD_POINTER 1
static inline uintptr_t _mi_arch_thread_pointer(void) {
  uintptr_t tp; __asm__ ("mrs %0, tpidr_el0" : "=r"(tp)); return tp;
}
#elif MI_ARCH_ARM32 && MI_ARM_ARCH >= 7
#define MI_HAS_THREAD_POINTER 1
static inline uintptr_t _mi_arch_thread_pointer(void) {
  uintptr_t tp; __asm__ ("mrc p15, 0, %0, c13, c0, 3" : "=r"(tp)); return tp;  /* TPIDRURO */
}
#elif (MI_ARCH_X86_64 || MI_ARCH_X86) && (MI_GCC_VERSION >= 1200 || MI_CLANG_VERSION >= 1400)
#define MI_HAS_THREAD_POINTER 1
static inline uintptr_t _mi_arch_thread_pointer(void) {
  return (uintptr_t)__builtin_thread_pointer();   /* verified on these versions: doc/porting.md */
}
#else
#define MI_HAS_THREAD_POINTER 0
#endif

/* ---- bits ------------------------------------------------------------- */
/* Index of the highest set bit of x != 0 (a builtin where the compiler has it). */
static inline size_t mi_bsr(uintptr_t x) {
#if MI_GNUC_COMPATIBLE
  return (MI_INTPTR_BITS - 1) - (size_t)__builtin_clzl((unsigned long)x);
#else
  size_t i = 0;
  while (x >>= 1) i++;
  return i;
#endif
}

/* The number of set bits of x (a loop: __builtin_popcount is a libgcc
   call on targets without the instruction; this runs on slow paths only). */
static inline size_t mi_popcount(uintptr_t x) {
  size_t n = 0;
  for (; x != 0; x &= x - 1) n++;
  return n;
}

/* Index of the lowest set bit of x != 0. */
static inline size_t mi_bsf(uintptr_t x) {
#if MI_GNUC_COMPATIBLE
  return (size_t)__builtin_ctzl((unsigned long)x);
#else
  size_t i = 0;
  while ((x & 1) == 0) { x >>= 1; i++; }
  return i;
#endif
}

#endif
