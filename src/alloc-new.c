/* SPDX-License-Identifier: MIT */
/* mi_new and friends: allocation with the semantics of C++ `new`, callable
   from C. On failure the std::new_handler is called and the allocation
   retried; the throwing forms never return NULL (alloc-new.h). */
#include <stdlib.h>   /* abort */
#include "mica/internal.h"
#include "alloc-new.h"

static mi_decl_noinline void* mi_new_retry(mi_heap_t* heap, size_t size, size_t alignment, bool nothrow) {
  for (;;) {
    if (!_mi_alloc_new_handler_try(nothrow)) return NULL;
    void* p = (alignment == 0 ? mi_heap_malloc(heap, size) : mi_heap_malloc_aligned(heap, size, alignment));
    if (p != NULL) return p;
  }
}

void* mi_new(size_t size) {
  void* p = _mi_malloc_inline(size);
  return (mi_likely(p != NULL) ? p : mi_new_retry(mi_get_default_heap(), size, 0, false));
}

void* mi_new_nothrow(size_t size) {
  void* p = _mi_malloc_inline(size);
  return (mi_likely(p != NULL) ? p : mi_new_retry(mi_get_default_heap(), size, 0, true));
}

void* mi_new_aligned(size_t size, size_t alignment) {
  void* p = mi_malloc_aligned(size, alignment);
  return (mi_likely(p != NULL) ? p : mi_new_retry(mi_get_default_heap(), size, alignment, false));
}

void* mi_new_aligned_nothrow(size_t size, size_t alignment) {
  void* p = mi_malloc_aligned(size, alignment);
  return (mi_likely(p != NULL) ? p : mi_new_retry(mi_get_default_heap(), size, alignment, true));
}

void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) {
  void* p = mi_heap_malloc(heap, size);
  return (mi_likely(p != NULL) ? p : mi_new_retry(heap, size, 0, false));
}

void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) _mi_alloc_new_handler_fail();
  return mi_heap_alloc_new(heap, total);
}

void* mi_new_n(size_t count, size_t size) {
  return mi_heap_alloc_new_n(mi_get_default_heap(), count, size);
}

/* On failure `p` stays valid and unchanged, as with realloc. */
void* mi_new_realloc(void* p, size_t newsize) {
  for (;;) {
    void* q = mi_realloc(p, newsize);
    if (q != NULL) return q;
    _mi_alloc_new_handler_try(false);   /* throws when there is no handler */
  }
}

void* mi_new_reallocn(void* p, size_t newcount, size_t size) {
  size_t total;
  if (mi_count_size_overflow(newcount, size, &total)) _mi_alloc_new_handler_fail();
  return mi_new_realloc(p, total);
}

#if !MI_NEW_HANDLER_CXX
/* Built without C++: no handler to call, no exception to throw. */
bool _mi_alloc_new_handler_try(bool nothrow) {
  if (!nothrow) _mi_alloc_new_handler_fail();
  return false;
}

void _mi_alloc_new_handler_fail(void) {
  _mi_message_fputs(NULL, NULL, "mica: error: ", "out of memory in mi_new (mica was built without C++: no std::bad_alloc to throw): abort\n");
  _mi_message_error(ENOMEM, "out of memory in mi_new\n");
  abort();
}
#endif
