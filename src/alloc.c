/* SPDX-License-Identifier: MIT */
/* The allocation front end: the malloc fast path, zeroing, realloc and the
   string helpers. */
#include "mica/internal.h"

/* ---------------------------------------------------------------------------
   The slow path of every allocation: the thread's first allocation, empty
   free lists, new pages, huge blocks, running out of memory.
   `huge_alignment` > 0 asks for a huge page whose block is aligned to it
   (see alloc-aligned.c).
--------------------------------------------------------------------------- */
static mi_deferred_free_fun* volatile mi_deferred_free_fn;
static void* volatile mi_deferred_arg;

void mi_register_deferred_free(mi_deferred_free_fun* fn, void* arg) {
  mi_deferred_free_fn = fn;
  mi_deferred_arg = arg;
}

void _mi_alloc_deferred_free(mi_heap_t* heap, bool force) {
  mi_tld_t* tld = heap->tld;
  tld->heartbeat++;
  mi_deferred_free_fun* fn = mi_deferred_free_fn;
  if (fn != NULL && !tld->recurse) {
    tld->recurse = true;
    fn(force, tld->heartbeat, mi_deferred_arg);
    tld->recurse = false;
  }
}

static mi_decl_noinline void* mi_alloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_unlikely(!mi_heap_is_initialized(heap))) {
    mi_thread_init();
    heap = mi_get_default_heap();
    if (!mi_heap_is_initialized(heap)) { errno = ENOMEM; return NULL; }
  }
  _mi_alloc_deferred_free(heap, false);
  /* generic_collect: every N generic calls, a (non-forced) collection */
  if (mi_unlikely(++heap->generic_count >= (size_t)mi_option_get_clamp(mi_option_generic_collect, 1, LONG_MAX))) {
    heap->generic_count = 0;
    _mi_heap_collect_periodic(heap);
  }
  void* p = _mi_page_malloc_generic(heap, size, zero, huge_alignment);
  if (mi_unlikely(p == NULL) && size <= MI_MAX_ALLOC_SIZE) {
    mi_heap_collect(heap, true);   /* give memory back, then try once more */
    p = _mi_page_malloc_generic(heap, size, zero, huge_alignment);
  }
  mi_assert_internal(p == NULL || (_mi_ptr_is_known(p) && _mi_page_usable_size(_mi_ptr_page(p), p) >= size));
  mi_assert_internal(p == NULL || huge_alignment == 0 || ((uintptr_t)p & (huge_alignment - 1)) == 0);
  if (mi_unlikely(p == NULL)) {
    if (size <= MI_MAX_ALLOC_SIZE) _mi_message_error(ENOMEM, "unable to allocate memory (%zu bytes)\n", size);
    errno = ENOMEM;
  }
  return p;
}

/* A heap that samples (guarded.c) sends every allocation here: count it
   down, and serve it from the first page of its queue when that has a
   block at hand, else the generic path. */
static mi_decl_noinline void* mi_alloc_sampling(mi_heap_t* heap, size_t size, bool zero) {
  if (--heap->guarded_sample_count == 0) {
    heap->guarded_sample_count = heap->guarded_sample_rate;
    if (size >= heap->guarded_size_min && size <= heap->guarded_size_max && !heap->page_use_qsbr) {
      void* p = _mi_guarded_alloc(heap, size, zero);
      if (p != NULL) return p;
    }
  }
  void* p = _mi_page_malloc_queued(heap, size, zero);
  return (p != NULL ? p : mi_alloc_generic(heap, size, zero, 0));
}

/* Both are tail calls: with sampling off this costs the fast path's misses
   one load and a branch. */
void* _mi_alloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_unlikely(heap->guarded_sample_rate != 0) && huge_alignment == 0) return mi_alloc_sampling(heap, size, zero);
  return mi_alloc_generic(heap, size, zero, huge_alignment);
}

/* ---------------------------------------------------------------------------
   Allocation
--------------------------------------------------------------------------- */

void* _mi_alloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_likely(size <= MI_SMALL_SIZE_MAX && huge_alignment == 0)) {
    return _mi_page_malloc_inline(heap, _mi_heap_get_free_small_page(heap, size), size, zero);
  }
  return _mi_alloc_generic(heap, size, zero, huge_alignment);
}

void* _mi_alloc_zero(mi_heap_t* heap, size_t size, bool zero) {
  return _mi_alloc_zero_ex(heap, size, zero, 0);
}

void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) {
  if (mi_unlikely(size > MI_SMALL_SIZE_MAX)) return _mi_alloc_generic(heap, size, false, 0);
  return _mi_page_malloc_inline(heap, _mi_heap_get_free_small_page(heap, size), size, false);
}
void* mi_malloc_small(size_t size)            { return mi_heap_malloc_small(mi_get_default_heap(), size); }
void* mi_heap_zalloc_small(mi_heap_t* heap, size_t size) { return _mi_alloc_zero(heap, size, true); }
void* mi_zalloc_small(size_t size)            { return _mi_alloc_zero(mi_get_default_heap(), size, true); }

void* mi_heap_malloc(mi_heap_t* heap, size_t size) {
  if (mi_likely(size <= MI_SMALL_SIZE_MAX)) {
    return _mi_page_malloc_inline(heap, _mi_heap_get_free_small_page(heap, size), size, false);
  }
  return _mi_alloc_generic(heap, size, false, 0);
}

void* mi_malloc(size_t size) {
  return _mi_malloc_inline(size);
}

void* mi_heap_zalloc(mi_heap_t* heap, size_t size) { return _mi_alloc_zero(heap, size, true); }
void* mi_zalloc(size_t size)                       { return _mi_alloc_zero(mi_get_default_heap(), size, true); }

void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return _mi_alloc_zero(heap, total, true);
}
void* mi_calloc(size_t count, size_t size) { return mi_heap_calloc(mi_get_default_heap(), count, size); }

void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_malloc(heap, total);
}
void* mi_mallocn(size_t count, size_t size) { return mi_heap_mallocn(mi_get_default_heap(), count, size); }

/* ---------------------------------------------------------------------------
   Usable size and realloc
--------------------------------------------------------------------------- */
static mi_decl_noinline void mi_invalid_pointer(const void* p, const char* func) {
  _mi_message_error(EINVAL, "%s: invalid pointer %p (not allocated by mica, or already returned to the OS)\n", func, p);
}

#if MI_PADDING
/* Check the canary and the filled slack after the request at `p` in
   `block` (internal.h, "padding"); report the first byte written there,
   then put the padding right, so that one overflow is reported once.
   Returns the requested size. */
size_t _mi_alloc_padding_check(const mi_page_t* page, const mi_block_t* block, void* p) {
  const size_t size = mi_padding_size(page, block, p);
  const uint8_t* const q = (const uint8_t*)p + size;
  const size_t room = (size_t)(mi_padding_delta_at(page, block) - q);   /* canary and slack */
  size_t delta;
  memcpy(&delta, mi_padding_delta_at(page, block), sizeof(delta));
  size_t bad = room;   /* the delta record itself, when it is out of range */
  if (delta == room - sizeof(uint32_t)) {
    const uint32_t canary = mi_padding_canary(block);
    const size_t checked = sizeof(uint32_t) + (delta < MI_PADDING_FILL_MAX ? delta : MI_PADDING_FILL_MAX);
    bad = checked;
    for (size_t i = 0; i < checked; i++) {
      const uint8_t expect = (i < sizeof(uint32_t) ? ((const uint8_t*)&canary)[i] : (uint8_t)MI_DEBUG_PADDING);
      if (q[i] != expect) { bad = i; break; }
    }
    if (mi_likely(bad == checked)) return size;
  }
  _mi_message_error(EFAULT, "buffer overflow in heap block %p of size %zu: write after %zu bytes\n", p, size, size + bad);
  mi_padding_set(page, block, p, size);
  return size;
}
#endif

static inline size_t mi_alloc_usable_of(const mi_page_t* page, const void* p) {
#if MI_PADDING
  const mi_block_t* block = _mi_page_block_start(page, p);
  if (mi_block_may_be_free(page, block)) return mi_padding_size(page, block, p);   /* freed (a use after free): its padding is gone */
  return _mi_alloc_padding_check(page, block, (void*)p);
#else
  return _mi_page_usable_size(page, p);
#endif
}

/* The usable size of a live block, or 0 for NULL or a pointer mica does
   not know (reported). Asks nothing of a memory checker. With MI_PADDING,
   the requested size, after a check of the canary. */
size_t _mi_alloc_usable_size(const void* p, const char* func) {
  if (p == NULL) return 0;
  const mi_segment_t* segment = _mi_ptr_segment(p);
  if (mi_unlikely(!_mi_segment_is_known(segment))) { mi_invalid_pointer(p, func); return 0; }
  return mi_alloc_usable_of(_mi_segment_page_of(segment, p), p);
}

/* A program may use all of the usable size it is told (malloc_usable_size
   says so), so a checker that was given the requested size (MI_TRACK_ASAN)
   is told the whole block is the program's now; unless the block is free
   (the question itself is a use after free): then it stays poisoned. */
size_t mi_usable_size(const void* p) {
  const size_t size = _mi_alloc_usable_size(p, "mi_usable_size");
#if MI_TRACK_ASAN
  if (size > 0) {
    const mi_page_t* page = _mi_ptr_page(p);
    if (!mi_block_looks_free(page, _mi_page_block_start(page, p))) mi_track_resize(p, size, size);
  }
#endif
  return size;
}

void* mi_expand(void* p, size_t newsize) {
  if (p == NULL) return NULL;
  const size_t size = _mi_alloc_usable_size(p, "mi_expand");
  if (newsize > size) return NULL;   /* the usable size stays: the block is the caller's to that size */
  mi_track_resize(p, newsize, size);
  return p;
}

/* rezalloc/recalloc: everything of the new block beyond the old usable
   size, up to the new usable size, reads as zero (a checker still sees
   only the `newsize` bytes asked for). */
void _mi_alloc_zero_tail(void* newp, size_t old_size, size_t newsize) {
  (void)newsize;
  const size_t new_size = _mi_alloc_usable_size(newp, "mi_rezalloc");
  if (new_size > old_size) {
    mi_track_mem_undefined((uint8_t*)newp + old_size, new_size - old_size);
    memset((uint8_t*)newp + old_size, 0, new_size - old_size);
    mi_track_resize(newp, newsize, new_size);
  }
}

void* _mi_alloc_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero) {
  if (p == NULL) return _mi_alloc_zero(heap, newsize, zero);
  const mi_segment_t* segment = _mi_ptr_segment(p);
  if (mi_unlikely(!_mi_segment_is_known(segment))) {
    mi_invalid_pointer(p, "mi_realloc");
    errno = EINVAL;
    return NULL;   /* the caller keeps `p`: nothing is lost */
  }
  const size_t size = mi_alloc_usable_of(_mi_segment_page_of(segment, p), p);
  if (newsize <= size && newsize >= size / 2 && newsize > 0) {
    mi_padding_resize(p, newsize);
    mi_track_resize(p, newsize, size);   /* fits, and not much space would be wasted */
    return p;
  }
  void* newp = _mi_alloc_zero(heap, newsize, false);
  if (mi_unlikely(newp == NULL)) return NULL;   /* `p` stays valid */
  if (zero) _mi_alloc_zero_tail(newp, size, newsize);
  mi_track_resize(p, size, size);   /* the old block is read to its usable size (a checker saw less) */
  memcpy(newp, p, (newsize < size ? newsize : size));
  mi_free(p);
  return newp;
}

void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) { return _mi_alloc_realloc_zero(heap, p, newsize, false); }
void* mi_realloc(void* p, size_t newsize) { return _mi_alloc_realloc_zero(mi_get_default_heap(), p, newsize, false); }

void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_realloc(heap, p, total);
}
void* mi_reallocn(void* p, size_t count, size_t size) { return mi_heap_reallocn(mi_get_default_heap(), p, count, size); }

/* reallocf: free `p` when the reallocation fails (BSD) */
void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) {
  void* newp = mi_heap_realloc(heap, p, newsize);
  if (newp == NULL && p != NULL && newsize > 0) mi_free(p);
  return newp;
}
void* mi_reallocf(void* p, size_t newsize) { return mi_heap_reallocf(mi_get_default_heap(), p, newsize); }

void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) { return _mi_alloc_realloc_zero(heap, p, newsize, true); }
void* mi_rezalloc(void* p, size_t newsize) { return mi_heap_rezalloc(mi_get_default_heap(), p, newsize); }

void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t count, size_t size) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return _mi_alloc_realloc_zero(heap, p, total, true);
}
void* mi_recalloc(void* p, size_t count, size_t size) { return mi_heap_recalloc(mi_get_default_heap(), p, count, size); }

/* ---------------------------------------------------------------------------
   The u-forms: the same allocation, and the usable size of the block it
   returned (0 for NULL), for callers that would ask mi_usable_size next.
--------------------------------------------------------------------------- */
static void* mi_usize(void* p, size_t* block_size) {
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}

void* mi_umalloc(size_t size, size_t* block_size)                  { return mi_usize(mi_malloc(size), block_size); }
void* mi_ucalloc(size_t count, size_t size, size_t* block_size)    { return mi_usize(mi_calloc(count, size), block_size); }
void* mi_umalloc_small(size_t size, size_t* block_size)            { return mi_usize(mi_malloc_small(size), block_size); }
void* mi_uzalloc_small(size_t size, size_t* block_size)            { return mi_usize(mi_zalloc_small(size), block_size); }
void* mi_umalloc_aligned(size_t size, size_t alignment, size_t* block_size) { return mi_usize(mi_malloc_aligned(size, alignment), block_size); }
void* mi_uzalloc_aligned(size_t size, size_t alignment, size_t* block_size) { return mi_usize(mi_zalloc_aligned(size, alignment), block_size); }

void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) {
  if (block_size_pre != NULL) *block_size_pre = mi_usable_size(p);
  return mi_usize(mi_realloc(p, newsize), block_size_post);
}

void mi_ufree(void* p, size_t* block_size) {
  if (block_size != NULL) *block_size = mi_usable_size(p);
  mi_free(p);
}

/* ---------------------------------------------------------------------------
   Strings
--------------------------------------------------------------------------- */
char* mi_heap_strdup(mi_heap_t* heap, const char* s) {
  if (s == NULL) return NULL;
  const size_t n = strlen(s);
  char* t = (char*)mi_heap_malloc(heap, n + 1);
  if (t != NULL) memcpy(t, s, n + 1);
  return t;
}
char* mi_strdup(const char* s) { return mi_heap_strdup(mi_get_default_heap(), s); }

char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) {
  if (s == NULL) return NULL;
  const char* end = (const char*)memchr(s, 0, n);
  const size_t m = (end != NULL ? (size_t)(end - s) : n);
  char* t = (char*)mi_heap_malloc(heap, m + 1);
  if (t == NULL) return NULL;
  memcpy(t, s, m);
  t[m] = 0;
  return t;
}
char* mi_strndup(const char* s, size_t n) { return mi_heap_strndup(mi_get_default_heap(), s, n); }
