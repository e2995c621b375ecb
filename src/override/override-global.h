/* SPDX-License-Identifier: MIT */
/* The C allocator functions as the dynamic loader bound them for the whole
   process: `_mi_override_global_malloc()` is the `malloc` every library calls, which
   is not mica's when another allocator is preloaded before it. Defined in
   override-global.c, a translation unit that defines none of these names, so
   the compiler must read each address from the GOT (the process-wide
   binding) and cannot fold it to mica's own definition. override.c compares
   them with its own addresses to find out whether it serves malloc. */
#ifndef MICA_OVERRIDE_GLOBAL_H
#define MICA_OVERRIDE_GLOBAL_H

#include <stddef.h>

/* X(return type, name, parameter list): the functions whose binding
   override.c needs (the glibc-only names are listed in the second list). */
#define MI_GLOBAL_ALLOC_FUNS(X) \
  X(void*,  malloc,         (size_t)) \
  X(void*,  calloc,         (size_t, size_t)) \
  X(void*,  realloc,        (void*, size_t)) \
  X(void,   free,           (void*)) \
  X(void*,  reallocarray,   (void*, size_t, size_t)) \
  X(int,    posix_memalign, (void**, size_t, size_t)) \
  X(void*,  aligned_alloc,  (size_t, size_t)) \
  X(void*,  memalign,       (size_t, size_t)) \
  X(void*,  valloc,         (size_t)) \
  X(void*,  pvalloc,        (size_t)) \
  X(void,   cfree,          (void*))

#define MI_GLOBAL_LIBC_ALLOC_FUNS(X) \
  X(void*,  __libc_malloc,    (size_t)) \
  X(void*,  __libc_calloc,    (size_t, size_t)) \
  X(void*,  __libc_realloc,   (void*, size_t)) \
  X(void,   __libc_free,      (void*)) \
  X(void,   __libc_cfree,     (void*)) \
  X(void*,  __libc_memalign,  (size_t, size_t)) \
  X(void*,  __libc_valloc,    (size_t)) \
  X(void*,  __libc_pvalloc,   (size_t)) \
  X(int,    __posix_memalign, (void**, size_t, size_t))

/* ret (*_mi_override_global_NAME(void)) PARAMS: the process's NAME */
#define MI_GLOBAL_DECLARE(ret, name, params) ret (*_mi_override_global_##name(void)) params;
MI_GLOBAL_ALLOC_FUNS(MI_GLOBAL_DECLARE)
MI_GLOBAL_LIBC_ALLOC_FUNS(MI_GLOBAL_DECLARE)
#undef MI_GLOBAL_DECLARE

#endif
