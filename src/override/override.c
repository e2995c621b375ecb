/* SPDX-License-Identifier: MIT */
/* The C allocator exports (MI_OVERRIDE): with these, libmica.so under
   LD_PRELOAD, or libmica.a / mica.o linked into a program, serves every
   malloc of the process. Each forwards to the mi_ function with the
   standard's semantics.

   Another allocator preloaded before mica (LD_PRELOAD="libjemalloc.so.2
   libmica.so") serves malloc, free and realloc, and the loader binds to mica
   only the names that library does not export: reallocarray, pvalloc, cfree,
   the __libc_ names, ... mica must not then hand out blocks of its own,
   which that allocator would later be asked to free. So on the first call of
   an export but malloc, free and realloc, mica reads which library the
   loader bound each name to (override-global.c: GOT entries, no dlsym). If
   it is not mica that serves malloc, an export that is the process-wide
   binding of its name passes the call on to that library's malloc, realloc,
   free or aligned allocation. A call that reached mica while another
   library's function of the same name is the process-wide one came through
   that library (an interposer like heaptrack passes its calls on with
   dlsym(RTLD_NEXT)): mica serves it, which also ends any chain back into
   mica. Once mica is known to serve malloc, an export costs one load and
   compare more than the mi_ call. */
#include "mica/internal.h"
#include "../prim/features.h"
#include "override-global.h"

#if MI_OVERRIDE
#define mi_export __attribute__((visibility("default"), used))
/* export `name` as an alias of the hidden `mi_ovr_name`, whose address
   (always mica's own, never the process-wide binding) is compared */
#define mi_export_alias(name) \
  __attribute__((visibility("default"))) __typeof__(mi_ovr_##name) name __attribute__((alias("mi_ovr_" #name)));

/* mica's definitions, exported under the names without the mi_ovr_ prefix */
#define MI_OVR_DECLARE(ret, name, params) static ret mi_ovr_##name params;
MI_GLOBAL_ALLOC_FUNS(MI_OVR_DECLARE)
#if MI_PRIM_HAS_LIBC_ALLOC_NAMES
MI_GLOBAL_LIBC_ALLOC_FUNS(MI_OVR_DECLARE)
#endif
#undef MI_OVR_DECLARE

/* the exports' numbers, as bits of mi_forward_set */
#define MI_FWD_NUMBER(ret, name, params) MI_FWD_##name,
enum { MI_GLOBAL_ALLOC_FUNS(MI_FWD_NUMBER) MI_GLOBAL_LIBC_ALLOC_FUNS(MI_FWD_NUMBER) MI_FWD_COUNT };
#undef MI_FWD_NUMBER

/* Who serves malloc: 0 not known yet, 1 mica, 2 another library. Worked out
   on the first call that needs it and kept: the bindings are fixed once the
   loader has relocated mica (two threads may both work it out). */
static mi_atomic(uintptr_t) mi_malloc_owner;
/* bit MI_FWD_name: mica's `name` is the process-wide binding of `name` */
static mi_atomic(uintptr_t) mi_forward_set;

static mi_decl_noinline uintptr_t mi_malloc_owner_find(void) {
  uintptr_t set = 0;
#define MI_FWD_BIT(ret, name, params) \
  if (_mi_override_global_##name() == &mi_ovr_##name) set |= ((uintptr_t)1 << MI_FWD_##name);
  MI_GLOBAL_ALLOC_FUNS(MI_FWD_BIT)
#if MI_PRIM_HAS_LIBC_ALLOC_NAMES
  MI_GLOBAL_LIBC_ALLOC_FUNS(MI_FWD_BIT)
#endif
#undef MI_FWD_BIT
  const uintptr_t owner = ((set & ((uintptr_t)1 << MI_FWD_malloc)) != 0 ? 1 : 2);
  mi_atomic_store_relaxed(&mi_forward_set, set);
  mi_atomic_store_release(&mi_malloc_owner, owner);
  if (owner == 2) {
    _mi_message_verbose("malloc is served by a library loaded before mica: the calls that reach mica "
                        "(the names that library lacks) are passed on to it\n");
  }
  return owner;
}

/* Must mica's export number `fwd` pass the call on to the allocator that
   serves malloc? (the out-of-line paths) */
static bool mi_forwarding(int fwd) {
  uintptr_t owner = mi_atomic_load_acquire(&mi_malloc_owner);
  if (owner == 0) owner = mi_malloc_owner_find();
  return (owner == 2 && (mi_atomic_load_relaxed(&mi_forward_set) & ((uintptr_t)1 << fwd)) != 0);
}

/* The body of an export: mica's `local` call once mica is known to serve
   malloc, else the out-of-line `from` helper (first argument: the export's
   number), which finds out, then forwards or serves. */
#define mi_dispatch(local, from) \
  do { if (mi_likely(mi_atomic_load_relaxed(&mi_malloc_owner) == 1)) return local; return from; } while (0)

/* --- forwarding to the allocator that serves malloc -------------------------- */

static void* mi_fwd_calloc(size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  void* p = _mi_override_global_malloc()(total);
  if (p != NULL) memset(p, 0, total);
  return p;
}

/* Aligned memory from the allocator that serves malloc, through the first of
   its posix_memalign, aligned_alloc and memalign (a name bound to mica's own
   is skipped). Returns 0 with the block in *out, or an errno value; -1 when
   that library exports none of them: then mica serves the request, which
   is right for an interposer that passes its calls on to mica (glibc's
   libmemusage.so) and what glibc's allocator would do without mica. */
static int mi_fwd_aligned(size_t alignment, size_t size, void** out) {
  *out = NULL;
  int (*const pm)(void**, size_t, size_t) = _mi_override_global_posix_memalign();
  if (pm != &mi_ovr_posix_memalign) {
    return pm(out, (alignment < sizeof(void*) ? sizeof(void*) : alignment), size);
  }
  void* (*aa)(size_t, size_t) = _mi_override_global_aligned_alloc();
  if (aa == &mi_ovr_aligned_alloc) {
    aa = _mi_override_global_memalign();
    if (aa == &mi_ovr_memalign) {
      static mi_atomic(uintptr_t) warned;
      if (mi_atomic_load_relaxed(&warned) == 0 && mi_atomic_exchange_acq_rel(&warned, 1) == 0) {
        _mi_message_warning("the library that serves malloc exports no posix_memalign, aligned_alloc or memalign: "
                            "mica serves aligned requests itself, and that library's free must pass them on to mica\n");
      }
      return -1;
    }
  }
  const int saved = errno;
  errno = 0;
  *out = aa(alignment, size);
  const int err = (*out != NULL ? 0 : (errno != 0 ? errno : ENOMEM));
  errno = saved;
  return err;
}

/* true: served by that allocator (NULL and errno on failure) */
static bool mi_fwd_aligned_ptr(size_t alignment, size_t size, void** out) {
  const int err = mi_fwd_aligned(alignment, size, out);
  if (err < 0) return false;
  if (err > 0) errno = err;
  return true;
}

/* --- the out-of-line bodies: `fwd` is the number of the export called ------ */

static mi_decl_noinline void* mi_calloc_from(int fwd, size_t count, size_t size) {
  return (mi_forwarding(fwd) ? mi_fwd_calloc(count, size) : mi_calloc(count, size));
}
static mi_decl_noinline void* mi_reallocarray_from(int fwd, void* p, size_t count, size_t size) {
  if (mi_forwarding(fwd)) {
    size_t total;
    if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
    return _mi_override_global_realloc()(p, total);
  }
  return mi_reallocarray(p, count, size);
}
static mi_decl_noinline void mi_free_from(int fwd, void* p) {
  if (mi_forwarding(fwd)) _mi_override_global_free()(p);
  else mi_free(p);
}
static mi_decl_noinline void* mi_aligned_alloc_from(int fwd, size_t alignment, size_t size) {
  void* p;
  if (mi_forwarding(fwd) && mi_fwd_aligned_ptr(alignment, size, &p)) return p;
  return mi_aligned_alloc(alignment, size);
}
static mi_decl_noinline void* mi_memalign_from(int fwd, size_t alignment, size_t size) {
  void* p;
  if (mi_forwarding(fwd) && mi_fwd_aligned_ptr(alignment, size, &p)) return p;
  return mi_memalign(alignment, size);
}
static mi_decl_noinline void* mi_valloc_from(int fwd, size_t size) {
  void* p;
  if (mi_forwarding(fwd) && mi_fwd_aligned_ptr(_mi_os_page_size(), size, &p)) return p;
  return mi_valloc(size);
}
static mi_decl_noinline void* mi_pvalloc_from(int fwd, size_t size) {
  if (mi_forwarding(fwd)) {
    const size_t psize = _mi_os_page_size();
    const size_t asize = _mi_align_up(size, psize);
    if (asize < size) { errno = ENOMEM; return NULL; }
    void* p;
    if (mi_fwd_aligned_ptr(psize, (asize == 0 ? psize : asize), &p)) return p;
  }
  return mi_pvalloc(size);
}
static mi_decl_noinline int mi_posix_memalign_from(int fwd, void** p, size_t alignment, size_t size) {
  if (mi_forwarding(fwd) && p != NULL) {
    if (alignment == 0 || (alignment % sizeof(void*)) != 0 || !_mi_is_power_of_two(alignment)) return EINVAL;
    void* q;   /* posix_memalign reports through its result only: errno is kept */
    const int err = mi_fwd_aligned(alignment, size, &q);
    if (err == 0) *p = q;
    if (err >= 0) return err;
  }
  return mi_posix_memalign(p, alignment, size);
}

/* --- the exports ------------------------------------------------------------- */

/* malloc, free and realloc never forward: whoever calls mica's own wants mica */
static void* mi_ovr_malloc(size_t size)              { return _mi_malloc_inline(size); }
static void* mi_ovr_realloc(void* p, size_t newsize) { return mi_realloc(p, newsize); }
static void  mi_ovr_free(void* p)                    { _mi_free_inline(p); }
static void* mi_ovr_calloc(size_t count, size_t size) {
  mi_dispatch(mi_calloc(count, size), mi_calloc_from(MI_FWD_calloc, count, size));
}
static void* mi_ovr_reallocarray(void* p, size_t count, size_t size) {
  mi_dispatch(mi_reallocarray(p, count, size), mi_reallocarray_from(MI_FWD_reallocarray, p, count, size));
}
static int mi_ovr_posix_memalign(void** p, size_t alignment, size_t size) {
  mi_dispatch(mi_posix_memalign(p, alignment, size), mi_posix_memalign_from(MI_FWD_posix_memalign, p, alignment, size));
}
static void* mi_ovr_aligned_alloc(size_t alignment, size_t size) {
  mi_dispatch(mi_aligned_alloc(alignment, size), mi_aligned_alloc_from(MI_FWD_aligned_alloc, alignment, size));
}
static void* mi_ovr_memalign(size_t alignment, size_t size) {
  mi_dispatch(mi_memalign(alignment, size), mi_memalign_from(MI_FWD_memalign, alignment, size));
}
static void* mi_ovr_valloc(size_t size)  { mi_dispatch(mi_valloc(size), mi_valloc_from(MI_FWD_valloc, size)); }
static void* mi_ovr_pvalloc(size_t size) { mi_dispatch(mi_pvalloc(size), mi_pvalloc_from(MI_FWD_pvalloc, size)); }
static void  mi_ovr_cfree(void* p)       { mi_free_from(MI_FWD_cfree, p); }

mi_export_alias(malloc)
mi_export_alias(calloc)
mi_export_alias(realloc)
mi_export_alias(free)
mi_export_alias(reallocarray)
mi_export_alias(posix_memalign)
mi_export_alias(aligned_alloc)
mi_export_alias(memalign)
mi_export_alias(valloc)
mi_export_alias(pvalloc)
/* with another allocator serving malloc, a pointer of its own reaches this
   only if it does not export malloc_usable_size: nothing to forward to, and
   mica reports the pointer and answers 0 */
mi_export size_t malloc_usable_size(void* p)                { return mi_usable_size(p); }
mi_export_alias(cfree)

#if MI_PRIM_HAS_LIBC_ALLOC_NAMES
/* glibc's internal names, used by legacy code and some libc internals */
static mi_decl_noinline void* mi_malloc_from(int fwd, size_t size) {
  return (mi_forwarding(fwd) ? _mi_override_global_malloc()(size) : mi_malloc(size));
}
static mi_decl_noinline void* mi_realloc_from(int fwd, void* p, size_t size) {
  return (mi_forwarding(fwd) ? _mi_override_global_realloc()(p, size) : mi_realloc(p, size));
}
static void* mi_ovr___libc_malloc(size_t size) {
  mi_dispatch(mi_malloc(size), mi_malloc_from(MI_FWD___libc_malloc, size));
}
static void* mi_ovr___libc_calloc(size_t count, size_t size) {
  mi_dispatch(mi_calloc(count, size), mi_calloc_from(MI_FWD___libc_calloc, count, size));
}
static void* mi_ovr___libc_realloc(void* p, size_t size) {
  mi_dispatch(mi_realloc(p, size), mi_realloc_from(MI_FWD___libc_realloc, p, size));
}
static void mi_ovr___libc_free(void* p)  { mi_free_from(MI_FWD___libc_free, p); }
static void mi_ovr___libc_cfree(void* p) { mi_free_from(MI_FWD___libc_cfree, p); }
static void* mi_ovr___libc_memalign(size_t alignment, size_t size) {
  mi_dispatch(mi_memalign(alignment, size), mi_memalign_from(MI_FWD___libc_memalign, alignment, size));
}
static void* mi_ovr___libc_valloc(size_t size) {
  mi_dispatch(mi_valloc(size), mi_valloc_from(MI_FWD___libc_valloc, size));
}
static void* mi_ovr___libc_pvalloc(size_t size) {
  mi_dispatch(mi_pvalloc(size), mi_pvalloc_from(MI_FWD___libc_pvalloc, size));
}
static int mi_ovr___posix_memalign(void** p, size_t alignment, size_t size) {
  mi_dispatch(mi_posix_memalign(p, alignment, size), mi_posix_memalign_from(MI_FWD___posix_memalign, p, alignment, size));
}
mi_export_alias(__libc_malloc)
mi_export_alias(__libc_calloc)
mi_export_alias(__libc_realloc)
mi_export_alias(__libc_free)
mi_export_alias(__libc_cfree)
mi_export_alias(__libc_memalign)
mi_export_alias(__libc_valloc)
mi_export_alias(__libc_pvalloc)
mi_export_alias(__posix_memalign)
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
  const size_t committed = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.xcurrent);
  const size_t huge = (size_t)mi_atomic_load_relaxed(&_mi_stats.huge.xcurrent);
  info.arena = committed - (huge < committed ? huge : 0);          /* held in segments, not huge blocks */
  info.ordblks = (size_t)mi_atomic_load_relaxed(&_mi_stats.pages.xcurrent);
  info.hblkhd = huge;                                             /* huge blocks: mmap'ed on their own */
  info.usmblks = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.xpeak);
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
/* Return freed memory to the OS now. glibc's contract: 1 if memory was
   released, else 0; here: if the collection purged memory or unmapped some
   (a concurrent thread's purge may be counted too, which is still true). */
mi_export int malloc_trim(size_t pad) {
  (void)pad;
  const intptr_t purged = mi_atomic_load_relaxed(&_mi_stats.purges.xtotal);
  const intptr_t committed = mi_atomic_load_relaxed(&_mi_stats.committed.xcurrent);
  mi_collect(true);
  return (mi_atomic_load_relaxed(&_mi_stats.purges.xtotal) > purged ||
          mi_atomic_load_relaxed(&_mi_stats.committed.xcurrent) < committed) ? 1 : 0;
}
mi_export void malloc_stats(void) { mi_stats_print_out(NULL, NULL); }
/* glibc's tuning parameters (<malloc.h>: M_ARENA_MAX -8 up to M_KEEP 4)
   have no meaning for mica: accepted (1) and ignored. As glibc, M_MXFAST
   (1) above 80 * sizeof(size_t) / 4 fails (0); unlike glibc 2.36, whose
   manual calls it a bug, an unknown parameter fails too. */
mi_export int mallopt(int param, int value) {
  if (param == 1) return (value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4) ? 1 : 0;
  return (param >= -8 && param <= 4 && param != 0) ? 1 : 0;
}
#endif

/* mi_is_redirected: mica serves the process's malloc (preloaded, linked
   first, or linked statically), so every malloc/free goes through it. */
bool mi_is_redirected(void) {
  uintptr_t owner = mi_atomic_load_acquire(&mi_malloc_owner);
  if (owner == 0) owner = mi_malloc_owner_find();
  return (owner == 1);
}
#else
/* Built without the C allocator exports: malloc is never mica's. */
bool mi_is_redirected(void) { return false; }
#endif
