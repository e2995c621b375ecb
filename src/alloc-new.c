/* SPDX-License-Identifier: MIT */
/* mi_new and friends: allocation with the semantics of C++ `new`, callable
   from C. On failure the std::new_handler is called and the allocation
   retried; the throwing forms never return NULL (alloc-new.h). */
#include <stdlib.h>   /* abort */
#include "mica/internal.h"
#include "alloc-new.h"

/* ---- the C++ side, in C --------------------------------------------------
   The new-handler and std::bad_alloc belong to the C++ runtime. mica looks
   them up only when a `new` fails (_mi_prim_cxx_runtime_symbol), so that a
   C program does not load libstdc++ with mica. Every frame between the
   handler's or the runtime's throw and the catching C++ code is C compiled
   with -fexceptions (this file and override-new.c), so the exception
   unwinds through it. */
typedef void (*mi_cxx_new_handler_t)(void);

/* A request that can never succeed (count * size overflows), or no handler
   is left: throw std::bad_alloc (no C++ runtime loaded: print an error and
   abort). */
static void mi_new_fail(void) __attribute__((noreturn));

static mi_cxx_new_handler_t mi_cxx_get_new_handler(void) {
  mi_cxx_new_handler_t (*get)(void) = (mi_cxx_new_handler_t (*)(void))_mi_prim_cxx_runtime_symbol("_ZSt15get_new_handlerv");   /* std::get_new_handler */
  return (get == NULL ? NULL : get());
}

/* Call the installed std::new_handler: true if it returned (retry the
   allocation). With none installed: false if `nothrow`, else throw
   std::bad_alloc. Under `nothrow` a handler that throws is not caught
   here: the nothrow operators catch (_mi_alloc_new_nothrow_failed). */
static bool mi_new_handler_try(bool nothrow) {
  mi_cxx_new_handler_t handler = mi_cxx_get_new_handler();
  if (handler == NULL) {
    if (nothrow) return false;
    mi_new_fail();
  }
  handler();   /* may throw: a nothrow operator's caller catches (_mi_alloc_new_nothrow_failed) */
  return true;
}

static void mi_new_fail(void) {
  void (*throw_bad_alloc)(void) = (void (*)(void))_mi_prim_cxx_runtime_symbol("_ZSt17__throw_bad_allocv");   /* std::__throw_bad_alloc */
  if (throw_bad_alloc != NULL) throw_bad_alloc();
  _mi_message_fputs(NULL, NULL, "mica: error: ", "out of memory in a C++ new with no C++ runtime loaded (libstdc++): no std::bad_alloc to throw: abort\n");
  _mi_message_error(ENOMEM, "out of memory in mi_new\n");
  abort();
}

static mi_decl_noinline void* mi_new_retry(mi_heap_t* heap, size_t size, size_t alignment, bool nothrow) {
  for (;;) {
    if (!mi_new_handler_try(nothrow)) return NULL;
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
  if (mi_count_size_overflow(count, size, &total)) mi_new_fail();
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
    mi_new_handler_try(false);   /* throws when there is no handler */
  }
}

void* mi_new_reallocn(void* p, size_t newcount, size_t size) {
  size_t total;
  if (mi_count_size_overflow(newcount, size, &total)) mi_new_fail();
  return mi_new_realloc(p, total);
}

/* A nothrow operator new of mica's failed. The standard has it call the
   throwing operator (mica's, with its handler loop) and return nullptr if
   that throws: a try block, which C cannot write, so the C++ runtime's own
   operator of the same mangled name, which does exactly that, is called
   (in libstdc++ since GCC 9; it calls the throwing operator through the
   process-wide binding: mica's). Without a C++ runtime there is no
   handler and nothing to throw: nullptr. */
void* _mi_alloc_new_nothrow_failed(const char* mangled_name, size_t size, size_t alignment, const void* nothrow_tag) {
  void* runtime_op = _mi_prim_cxx_runtime_symbol(mangled_name);
  if (runtime_op == NULL) return (alignment == 0 ? mi_new_nothrow(size) : mi_new_aligned_nothrow(size, alignment));
  if (alignment == 0) return ((void* (*)(size_t, const void*))runtime_op)(size, nothrow_tag);
  return ((void* (*)(size_t, size_t, const void*))runtime_op)(size, alignment, nothrow_tag);
}
