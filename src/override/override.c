/* The C allocator exports (MI_OVERRIDE): with these, libmica.so under
   LD_PRELOAD, or libmica.a / mica.o linked into a program, serves every
   malloc of the process. Each forwards to the mi_ function with the
   standard's semantics. */
#include "mica/internal.h"
#include "../prim/features.h"

#if MI_OVERRIDE
#define mi_export __attribute__((visibility("default"), used))

mi_export void* malloc(size_t size)                         { return _mi_malloc_inline(size); }
mi_export void* calloc(size_t count, size_t size)           { return mi_calloc(count, size); }
mi_export void* realloc(void* p, size_t newsize)            { return mi_realloc(p, newsize); }
mi_export void  free(void* p)                               { _mi_free_inline(p); }
mi_export void* reallocarray(void* p, size_t count, size_t size) { return mi_reallocarray(p, count, size); }
mi_export int   posix_memalign(void** p, size_t alignment, size_t size) { return mi_posix_memalign(p, alignment, size); }
mi_export void* aligned_alloc(size_t alignment, size_t size) { return mi_aligned_alloc(alignment, size); }
mi_export void* memalign(size_t alignment, size_t size)     { return mi_memalign(alignment, size); }
mi_export void* valloc(size_t size)                         { return mi_valloc(size); }
mi_export void* pvalloc(size_t size)                        { return mi_pvalloc(size); }
mi_export size_t malloc_usable_size(void* p)                { return mi_usable_size(p); }
mi_export void  cfree(void* p)                              { mi_free(p); }

#if MI_PRIM_HAS_LIBC_ALLOC_NAMES
/* glibc's internal names, used by legacy code and some libc internals */
mi_export void* __libc_malloc(size_t size)                  { return mi_malloc(size); }
mi_export void* __libc_calloc(size_t count, size_t size)    { return mi_calloc(count, size); }
mi_export void* __libc_realloc(void* p, size_t size)        { return mi_realloc(p, size); }
mi_export void  __libc_free(void* p)                        { mi_free(p); }
mi_export void  __libc_cfree(void* p)                       { mi_free(p); }
mi_export void* __libc_memalign(size_t alignment, size_t size) { return mi_memalign(alignment, size); }
mi_export void* __libc_valloc(size_t size)                  { return mi_valloc(size); }
mi_export void* __libc_pvalloc(size_t size)                 { return mi_pvalloc(size); }
mi_export int   __posix_memalign(void** p, size_t alignment, size_t size) { return mi_posix_memalign(p, alignment, size); }
#endif
#endif
