/* SPDX-License-Identifier: MIT */
/* The C++ allocation operators, every form, on mica (MI_OVERRIDE with
   MI_CXX_OPERATORS). Defined in C under their Itanium C++ ABI names, so
   libmica.so needs no C++ runtime: a C program under LD_PRELOAD no longer
   loads libstdc++, libm and libgcc_s with it (1.1 MiB of peak RSS,
   doc/benchmarks.md). Semantics per the C++ standard, through mi_new and
   friends (alloc-new.c): a failing throwing `new` calls the installed
   new-handler and retries, and throws std::bad_alloc when there is none;
   a failing nothrow `new` is passed to the C++ runtime's own nothrow
   operator, which calls the throwing one (mica's) and catches. */
#include "mica/internal.h"
#include "../alloc-new.h"

#if MI_OVERRIDE
#define mi_export __attribute__((visibility("default"), used))

mi_static_assert(_Generic((size_t)0, unsigned long: 1, unsigned int: 0) == MI_SIZE_T_IS_LONG,
                 "MI_SIZE_T_IS_LONG (arch.h) names size_t's type: the mangled names below depend on it");

/* The mangled names: MI_CXX_NEW(w, suffix) is _Znwm<suffix> (`new`) on
   LP64, _Znwj<suffix> on 32-bit; std::align_val_t is St11align_val_t,
   const std::nothrow_t& is RKSt9nothrow_t. */
#define MI_CXX_CAT_(a, b, c) a##b##c
#define MI_CXX_CAT(a, b, c)  MI_CXX_CAT_(a, b, c)
#if MI_SIZE_T_IS_LONG
#define MI_CXX_SIZE m
#else
#define MI_CXX_SIZE j
#endif
#define MI_CXX_NEW(op, suffix)           MI_CXX_CAT(_Zn##op, MI_CXX_SIZE, suffix)   /* op: w (new) or a (new[]) */
#define MI_CXX_DELETE_SIZED(op, suffix)  MI_CXX_CAT(_Zd##op##Pv, MI_CXX_SIZE, suffix)   /* op: l (delete) or a (delete[]) */

/* new and new[]: the same operators, twice */
#define MI_CXX_NEW_OPS(op) \
  mi_export void* MI_CXX_NEW(op, )(size_t n) { return mi_new(n); } \
  mi_export void* MI_CXX_NEW(op, RKSt9nothrow_t)(size_t n, const void* tag) { \
    void* p = mi_malloc(n); \
    return (mi_likely(p != NULL) ? p : _mi_alloc_new_nothrow_failed(MI_CXX_STR(MI_CXX_NEW(op, RKSt9nothrow_t)), n, 0, tag)); \
  } \
  mi_export void* MI_CXX_NEW(op, St11align_val_t)(size_t n, size_t al) { return mi_new_aligned(n, al); } \
  mi_export void* MI_CXX_NEW(op, St11align_val_tRKSt9nothrow_t)(size_t n, size_t al, const void* tag) { \
    void* p = mi_malloc_aligned(n, al); \
    return (mi_likely(p != NULL) ? p : _mi_alloc_new_nothrow_failed(MI_CXX_STR(MI_CXX_NEW(op, St11align_val_tRKSt9nothrow_t)), n, al, tag)); \
  }
#define MI_CXX_STR_(x) #x
#define MI_CXX_STR(x)  MI_CXX_STR_(x)

#define MI_CXX_DELETE_OPS(op) \
  mi_export void _Zd##op##Pv(void* p) { mi_free(p); } \
  mi_export void _Zd##op##PvRKSt9nothrow_t(void* p, const void* tag) { (void)tag; mi_free(p); } \
  mi_export void MI_CXX_DELETE_SIZED(op, )(void* p, size_t n) { mi_free_size(p, n); } \
  mi_export void _Zd##op##PvSt11align_val_t(void* p, size_t al) { mi_free_aligned(p, al); } \
  mi_export void MI_CXX_DELETE_SIZED(op, St11align_val_t)(void* p, size_t n, size_t al) { mi_free_size_aligned(p, n, al); } \
  mi_export void _Zd##op##PvSt11align_val_tRKSt9nothrow_t(void* p, size_t al, const void* tag) { (void)tag; mi_free_aligned(p, al); }

/* declared first (-Wmissing-prototypes): the names are the ABI's */
#define MI_CXX_DECLARE_NEW(op) \
  void* MI_CXX_NEW(op, )(size_t); void* MI_CXX_NEW(op, RKSt9nothrow_t)(size_t, const void*); \
  void* MI_CXX_NEW(op, St11align_val_t)(size_t, size_t); void* MI_CXX_NEW(op, St11align_val_tRKSt9nothrow_t)(size_t, size_t, const void*);
#define MI_CXX_DECLARE_DELETE(op) \
  void _Zd##op##Pv(void*); void _Zd##op##PvRKSt9nothrow_t(void*, const void*); void MI_CXX_DELETE_SIZED(op, )(void*, size_t); \
  void _Zd##op##PvSt11align_val_t(void*, size_t); void MI_CXX_DELETE_SIZED(op, St11align_val_t)(void*, size_t, size_t); \
  void _Zd##op##PvSt11align_val_tRKSt9nothrow_t(void*, size_t, const void*);
MI_CXX_DECLARE_NEW(w)
MI_CXX_DECLARE_NEW(a)
MI_CXX_DECLARE_DELETE(l)
MI_CXX_DECLARE_DELETE(a)

MI_CXX_NEW_OPS(w)
MI_CXX_NEW_OPS(a)
MI_CXX_DELETE_OPS(l)
MI_CXX_DELETE_OPS(a)
#endif
