/* SPDX-License-Identifier: MIT */
/* Telling memory checkers about mica's blocks. No-ops unless a checker is
   selected at build time: MI_TRACK_VALGRIND (memcheck) or MI_TRACK_ASAN
   (AddressSanitizer, doc/security.md). Every read or write mica makes to a
   free block (its link word, a zeroing, a double-free check) is bracketed,
   so the checker does not see mica's own accesses as errors, also when
   mica itself is compiled with -fsanitize=address.

   mi_track_malloc(p, size, usable, zero)  a block is handed out: `size`
       bytes were asked for, `usable` are the block's from `p` on
   mi_track_resize(p, size, usable)   a live block now holds `size` of its
       `usable` bytes (realloc in place; size == usable once the program
       was told the usable size)
   mi_track_free(p, usable)           the block at `p` is free
   mi_track_mem_defined/undefined     mica is about to read / write memory
   mi_track_mem_noaccess              ... and is done with it

   memcheck is told the usable size at once (its client requests cannot
   grow a block), so mi_track_resize is nothing to it. AddressSanitizer is
   told the requested size: the rest of the block is poisoned, byte-exact
   (its shadow records how many bytes of an 8-byte granule are
   addressable, and blocks start granule-aligned), so a one-byte overflow
   is reported. Asking for the usable size (mi_usable_size,
   malloc_usable_size, the mi_u* forms) makes it all the program's. */
#ifndef MICA_TRACK_H
#define MICA_TRACK_H

#include "config.h"

#include <stdint.h>

#if MI_TRACK_VALGRIND
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define MI_TRACK_ENABLED 1
#define mi_track_malloc(p,size,usable,zero) VALGRIND_MALLOCLIKE_BLOCK(p, usable, 0 /*red zone*/, zero)
#define mi_track_resize(p,size,usable)      ((void)0)
#define mi_track_free(p,usable)             VALGRIND_FREELIKE_BLOCK(p, 0 /*red zone*/)
#define mi_track_mem_defined(p,size)        VALGRIND_MAKE_MEM_DEFINED(p, size)
#define mi_track_mem_undefined(p,size)      VALGRIND_MAKE_MEM_UNDEFINED(p, size)
#define mi_track_mem_noaccess(p,size)       VALGRIND_MAKE_MEM_NOACCESS(p, size)
#elif MI_TRACK_ASAN
#include <sanitizer/asan_interface.h>
#define MI_TRACK_ENABLED 1
/* unpoison [p, p+size), poison [p+size, p+usable): both, whatever the
   granule held before (unpoisoning alone never shrinks a granule) */
#define mi_track_resize(p,size,usable) \
  (__asan_unpoison_memory_region((p), (size)), \
   __asan_poison_memory_region((const char*)(p) + (size), (usable) - (size)))
#define mi_track_malloc(p,size,usable,zero) mi_track_resize(p, size, usable)
#define mi_track_free(p,usable)             __asan_poison_memory_region((p), (usable))
#define mi_track_mem_defined(p,size)        __asan_unpoison_memory_region((p), (size))
#define mi_track_mem_undefined(p,size)      __asan_unpoison_memory_region((p), (size))
#define mi_track_mem_noaccess(p,size)       __asan_poison_memory_region((p), (size))
#else
#define MI_TRACK_ENABLED 0
#define mi_track_malloc(p,size,usable,zero) ((void)0)
#define mi_track_resize(p,size,usable)      ((void)0)
#define mi_track_free(p,usable)             ((void)0)
#define mi_track_mem_defined(p,size)        ((void)0)
#define mi_track_mem_undefined(p,size)      ((void)0)
#define mi_track_mem_noaccess(p,size)       ((void)0)
#endif

/* The word at p, whatever the checker says of it, which is left as it was
   (ASan): a refused free reads words of a block that stays live, and the
   program may go on using them. Memcheck's is left inaccessible, as by a
   bracket of mi_track_mem_defined and mi_track_mem_noaccess. */
static inline uintptr_t mi_track_peek_word(const void* p) {
#if MI_TRACK_ASAN
  void* const poisoned = __asan_region_is_poisoned((void*)(uintptr_t)p, sizeof(uintptr_t));
  __asan_unpoison_memory_region(p, sizeof(uintptr_t));
  const uintptr_t w = *(const uintptr_t*)p;
  if (poisoned != NULL) __asan_poison_memory_region(poisoned, (size_t)((const char*)p + sizeof(uintptr_t) - (const char*)poisoned));
  return w;
#else
  mi_track_mem_defined(p, sizeof(uintptr_t));
  const uintptr_t w = *(const uintptr_t*)p;
  mi_track_mem_noaccess(p, sizeof(uintptr_t));
  return w;
#endif
}

#endif
