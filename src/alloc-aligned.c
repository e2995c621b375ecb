/* SPDX-License-Identifier: MIT */
/* Aligned allocation. Alignments up to MI_HUGE_ALIGN_MIN over-allocate in
   the ordinary size classes and hand out an interior pointer (the page is
   marked has_aligned, so free finds the block start); larger ones get a
   huge segment whose block is placed on the alignment (see segment.c). */
#include "mica/internal.h"

static bool mi_alignment_is_valid(size_t alignment, size_t size) {
  if (mi_unlikely(alignment == 0 || !_mi_is_power_of_two(alignment) || alignment > MI_ALIGNMENT_MAX)) {
    _mi_message_error(EINVAL, "invalid alignment %zu (for a request of %zu bytes)\n", alignment, size);
    errno = EINVAL;
    return false;
  }
  return true;
}

static void* mi_aligned_at_generic(mi_heap_t* heap, size_t size, size_t alignment, size_t offset, bool zero) {
  if (!mi_alignment_is_valid(alignment, size)) return NULL;
  if (mi_unlikely(size > MI_MAX_ALLOC_SIZE)) {
    _mi_message_error(EOVERFLOW, "aligned allocation request is too large (%zu bytes)\n", size);
    errno = ENOMEM;
    return NULL;
  }
  const uintptr_t align_mask = alignment - 1;
  /* fast: the next free block of the size class happens to be aligned */
  if (size <= MI_SMALL_SIZE_MAX && alignment <= size) {
    mi_page_t* page = _mi_heap_get_free_small_page(heap, size);
    if (!mi_page_free_is_empty(page) && (((uintptr_t)page->free + offset) & align_mask) == 0) {
      return mi_page_hand_out(page, page->free, size, zero);
    }
  }
  /* every block of at least `alignment` bytes is aligned to it, up to
     MI_BLOCK_ALIGN_SIZE (see the size classes in types.h) */
  if (alignment <= MI_BLOCK_ALIGN_SIZE && (offset & align_mask) == 0) {
    void* p = _mi_alloc_zero(heap, (size >= alignment ? size : alignment), zero);
    if (p != NULL && size < alignment) {
      mi_padding_resize(p, size);
      mi_track_resize(p, size, alignment);   /* the program asked for `size` */
    }
    /* a guarded block placed precisely (guarded_precise) may not be aligned:
       then over-allocate below, which the next sample may serve again */
    if (mi_likely(((uintptr_t)p & align_mask) == 0)) return p;
    mi_free(p);
  }
  if (alignment > MI_HUGE_ALIGN_MIN) {
    if (offset != 0) {
      _mi_message_error(EINVAL, "alignment %zu with an offset is not supported\n", alignment);
      errno = EINVAL;
      return NULL;
    }
    return _mi_alloc_zero_ex(heap, size, zero, alignment);
  }
  /* over-allocate and align inside the block (with room for the aligned
     mark before the pointer, where free checks pointers) */
  const size_t mark_size = (MI_ALIGNED_MARK ? sizeof(uintptr_t) : 0);
  const size_t oversize = size + alignment - 1 + mark_size;
  if (oversize < size) { errno = ENOMEM; return NULL; }
  uint8_t* p = (uint8_t*)_mi_alloc_zero(heap, oversize, zero);
  if (p == NULL) return NULL;
  size_t adjust = (alignment - (((uintptr_t)p + offset) & align_mask)) & align_mask;
  if (adjust != 0 && adjust < mark_size) {
    adjust = mark_size + ((alignment - (((uintptr_t)p + mark_size + offset) & align_mask)) & align_mask);
  }
  if (adjust == 0) {
    mi_padding_resize(p, size);
    mi_track_resize(p, size, oversize);   /* the program asked for `size` */
    return p;
  }
  uint8_t* aligned = p + adjust;
  mi_page_t* page = _mi_ptr_page(p);
  mi_assert_internal(adjust + size <= mi_page_block_size(page) && (((uintptr_t)aligned + offset) & align_mask) == 0);
  mi_page_set_has_aligned(page, true);
#if MI_ALIGNED_MARK
  mi_aligned_mark_set(aligned, true);
#endif
  if (mi_page_has_flag(page, MI_PAGE_GUARDED)) _mi_guarded_moved(page, aligned);   /* free checks the pointer it was given */
#if MI_PADDING
  mi_padding_set(page, _mi_page_block_start(page, p), aligned, size);   /* the canary after `size` bytes at `aligned` (a guarded block's p is inside its block) */
#endif
  mi_track_free(p, mi_page_block_size(page));
  mi_track_malloc(aligned, size, mi_page_block_size(page) - adjust, zero);
  return aligned;
}

void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) {
  return mi_aligned_at_generic(heap, size, alignment, offset, false);
}
void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) {
  return mi_aligned_at_generic(heap, size, alignment, 0, false);
}
void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) {
  return mi_aligned_at_generic(heap, size, alignment, offset, true);
}
void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) {
  return mi_aligned_at_generic(heap, size, alignment, 0, true);
}
void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment, size_t offset) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_aligned_at_generic(heap, total, alignment, offset, true);
}
void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size, size_t alignment) {
  return mi_heap_calloc_aligned_at(heap, count, size, alignment, 0);
}

void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) { return mi_heap_malloc_aligned_at(mi_get_default_heap(), size, alignment, offset); }
void* mi_malloc_aligned(size_t size, size_t alignment)                  { return mi_heap_malloc_aligned(mi_get_default_heap(), size, alignment); }
void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) { return mi_heap_zalloc_aligned_at(mi_get_default_heap(), size, alignment, offset); }
void* mi_zalloc_aligned(size_t size, size_t alignment)                  { return mi_heap_zalloc_aligned(mi_get_default_heap(), size, alignment); }
void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment, size_t offset) { return mi_heap_calloc_aligned_at(mi_get_default_heap(), count, size, alignment, offset); }
void* mi_calloc_aligned(size_t count, size_t size, size_t alignment)    { return mi_heap_calloc_aligned(mi_get_default_heap(), count, size, alignment); }

/* Re-allocation keeps the block when it is still aligned and big enough. */
static void* mi_heap_realloc_zero_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset, bool zero) {
  if (!mi_alignment_is_valid(alignment, newsize)) return NULL;
  if (alignment <= MI_BLOCK_ALIGN_SIZE && newsize >= alignment && (offset & (alignment - 1)) == 0) {
    return _mi_alloc_realloc_zero(heap, p, newsize, zero);   /* aligned by its class, as above */
  }
  if (p == NULL) return mi_aligned_at_generic(heap, newsize, alignment, offset, zero);
  const size_t size = _mi_alloc_usable_size(p, "mi_realloc_aligned");
  if (size == 0) return NULL;   /* invalid pointer, already reported */
  if (newsize <= size && newsize >= size / 2 && (((uintptr_t)p + offset) & (alignment - 1)) == 0) {
    mi_padding_resize(p, newsize);
    mi_track_resize(p, newsize, size);
    return p;
  }
  void* newp = mi_aligned_at_generic(heap, newsize, alignment, offset, false);
  if (newp == NULL) return NULL;   /* `p` stays valid */
  if (zero) _mi_alloc_zero_tail(newp, size, newsize);
  mi_track_resize(p, size, size);   /* the old block is read to its usable size (a checker saw less) */
  memcpy(newp, p, (newsize < size ? newsize : size));
  mi_free(p);
  return newp;
}

void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, false);
}
void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, 0, false);
}
void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, true);
}
void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, 0, true);
}
void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t count, size_t size, size_t alignment, size_t offset) {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_realloc_zero_aligned_at(heap, p, total, alignment, offset, true);
}
void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t count, size_t size, size_t alignment) {
  return mi_heap_recalloc_aligned_at(heap, p, count, size, alignment, 0);
}

void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) { return mi_heap_realloc_aligned_at(mi_get_default_heap(), p, newsize, alignment, offset); }
void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment)    { return mi_heap_realloc_aligned(mi_get_default_heap(), p, newsize, alignment); }
void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) { return mi_heap_rezalloc_aligned_at(mi_get_default_heap(), p, newsize, alignment, offset); }
void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment)   { return mi_heap_rezalloc_aligned(mi_get_default_heap(), p, newsize, alignment); }
void* mi_recalloc_aligned_at(void* p, size_t count, size_t size, size_t alignment, size_t offset) { return mi_heap_recalloc_aligned_at(mi_get_default_heap(), p, count, size, alignment, offset); }
void* mi_recalloc_aligned(void* p, size_t count, size_t size, size_t alignment) { return mi_heap_recalloc_aligned(mi_get_default_heap(), p, count, size, alignment); }

/* Windows CRT names (_aligned_recalloc, _aligned_offset_recalloc) */
void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) {
  return mi_recalloc_aligned(p, newcount, size, alignment);
}
void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) {
  return mi_recalloc_aligned_at(p, newcount, size, alignment, offset);
}
