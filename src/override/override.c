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

#if MI_PRIM_HAS_MALLOC_INTROSPECTION
/* glibc's introspection answered by mica, so a program that asks its
   allocator gets mica's figures, not those of a glibc arena it no longer
   uses. The layouts are glibc's ABI (<malloc.h>). mica does not count bytes
   per block, so "in use" is the memory its segments hold: an upper bound. */
struct mallinfo  { int arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };
struct mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };

static struct mallinfo2 mi_mallinfo2(void) {
  struct mallinfo2 info;
  memset(&info, 0, sizeof(info));
  const size_t committed = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.current);
  const size_t huge = (size_t)mi_atomic_load_relaxed(&_mi_stats.huge.current);
  info.arena = committed - (huge < committed ? huge : 0);          /* held in segments, not huge blocks */
  info.ordblks = (size_t)mi_atomic_load_relaxed(&_mi_stats.pages.current);
  info.hblkhd = huge;                                             /* huge blocks: mmap'ed on their own */
  info.usmblks = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.peak);
  info.uordblks = info.arena;
  return info;
}

static int mi_clamp_int(size_t x) { return (x > (size_t)INT_MAX ? INT_MAX : (int)x); }

mi_export struct mallinfo2 mallinfo2(void) { return mi_mallinfo2(); }
mi_export struct mallinfo mallinfo(void) {
  const struct mallinfo2 i2 = mi_mallinfo2();
  struct mallinfo info = { mi_clamp_int(i2.arena), mi_clamp_int(i2.ordblks), 0, 0, mi_clamp_int(i2.hblkhd),
                           mi_clamp_int(i2.usmblks), 0, mi_clamp_int(i2.uordblks), 0, 0 };
  return info;
}
/* return freed memory to the OS now; 1: memory was released (as glibc) */
mi_export int  malloc_trim(size_t pad) { (void)pad; mi_collect(true); return 1; }
mi_export void malloc_stats(void) { mi_stats_print_out(NULL, NULL); }
/* glibc's tuning parameters have no meaning for mica: accepted, ignored */
mi_export int  mallopt(int param, int value) { (void)param; (void)value; return 1; }
#endif
#endif
