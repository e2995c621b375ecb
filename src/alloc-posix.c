/* POSIX and C standard entry points under mi_ names, with their exact
   semantics (errno, return codes); the override exports call these. */
#include "mica/internal.h"

size_t mi_malloc_size(const void* p)        { return mi_usable_size(p); }
size_t mi_malloc_usable_size(const void* p) { return mi_usable_size(p); }
size_t mi_malloc_good_size(size_t size)     { return mi_good_size(size); }
void*  mi__expand(void* p, size_t newsize)  { void* res = mi_expand(p, newsize); if (res == NULL) errno = ENOMEM; return res; }

int mi_posix_memalign(void** p, size_t alignment, size_t size) {
  /* POSIX: the alignment is a power of two and a multiple of sizeof(void*) */
  if (p == NULL) return EINVAL;
  if (alignment == 0 || (alignment % sizeof(void*)) != 0 || !_mi_is_power_of_two(alignment) || alignment > MI_ALIGNMENT_MAX) return EINVAL;
  void* q = mi_malloc_aligned(size, alignment);
  if (q == NULL) return ENOMEM;
  *p = q;
  return 0;
}

void* mi_memalign(size_t alignment, size_t size) {
  return mi_malloc_aligned(size, alignment);
}

void* mi_valloc(size_t size) {
  return mi_malloc_aligned(size, _mi_os_page_size());
}

void* mi_pvalloc(size_t size) {
  const size_t psize = _mi_os_page_size();
  const size_t asize = _mi_align_up(size, psize);
  if (asize < size) { errno = ENOMEM; return NULL; }
  return mi_malloc_aligned((asize == 0 ? psize : asize), psize);
}

void* mi_aligned_alloc(size_t alignment, size_t size) {
  /* C11 only requires a valid (power of two) alignment; size need not be a multiple */
  return mi_malloc_aligned(size, alignment);
}

void* mi_reallocarray(void* p, size_t count, size_t size) {
  void* newp = mi_reallocn(p, count, size);
  if (newp == NULL) errno = ENOMEM;
  return newp;
}

/* NetBSD reallocarr: `p` points to the pointer; 0 or an errno value. */
int mi_reallocarr(void* p, size_t count, size_t size) {
  if (p == NULL) return EINVAL;
  void** op = (void**)p;
  const int saved = errno;
  void* newp = mi_reallocarray(*op, count, size);
  if (newp == NULL) { const int err = errno; errno = saved; return err; }
  *op = newp;
  return 0;
}

char* _mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) {
  if (resolved_name != NULL) return (_mi_prim_realpath(fname, resolved_name) ? resolved_name : NULL);
  char buf[MI_PATH_MAX];
  if (!_mi_prim_realpath(fname, buf)) return NULL;
  return mi_heap_strdup(heap, buf);
}
