/* SPDX-License-Identifier: MIT */
/* Guarded sampling (mimalloc's guarded_sample_rate, GWP-ASan's idea): one
   allocation in N gets a page of its own, with the block placed right
   before an inaccessible guard page, so an overflow off its end faults at
   once; freed, the block stays inaccessible in a quarantine for a while,
   so a use after free faults too. A fault is reported with the block
   (_mi_guarded_fault_report) before the signal takes its course.

   A guarded page: one block from the page start to the guard (the page's
   block size), the guard page, and the rest of the area unused.

     start                                   p               guard
     | header {p ^ key, size} | ... slack ... | size bytes... | guard page |

   The header says which pointer the program holds and how big its block
   is; p is guard - size (guarded_precise) or guard - size rounded up to
   the fundamental alignment. The page has MI_PAGE_GUARDED and
   MI_PAGE_HAS_ALIGNED, so every free of it takes the slow path, which
   comes here (free.c). Owner thread only, except the quarantine: any
   thread, under MI_LOCK_GUARDED; the fault handler reads it without the
   lock (its entries are published with release stores). */
#include "mica/internal.h"
#include "mica/hooks.h"

typedef struct mi_guarded_header_s {
  uintptr_t user;   /* the program's pointer ^ _mi_segment_cookie */
  size_t    size;   /* the size it asked for */
} mi_guarded_header_t;

/* Freed guarded blocks wait here, inaccessible, until 64 later frees push
   them out; then their pages are freed. */
#define MI_GUARDED_QUARANTINE 64
typedef struct mi_guarded_entry_s {
  mi_atomic(uintptr_t) xpage;   /* mi_page_t*, 0 for an empty slot; written last (release) */
  uintptr_t user;               /* as the header, which is inaccessible now */
  size_t    size;
} mi_guarded_entry_t;
static mi_guarded_entry_t mi_guarded_quarantine[MI_GUARDED_QUARANTINE];
static size_t mi_guarded_next;   /* the slot to fill next (the oldest) */

static mi_guarded_header_t* mi_guarded_header(const mi_page_t* page) {
  return (mi_guarded_header_t*)mi_page_start(page);
}
static uint8_t* mi_guarded_guard(const mi_page_t* page) {
  return mi_page_start(page) + mi_page_block_size(page);
}

/* ---------------------------------------------------------------------------
   Sample rate and size bounds
--------------------------------------------------------------------------- */
void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  /* a memory checker build watches every block already, and its view of
     the memory would not match the guard pages */
  if (MI_TRACK_ENABLED) sample_rate = 0;
  heap->guarded_sample_rate = sample_rate;
  heap->guarded_sample_count = (sample_rate == 0 ? 0 : 1 + seed % sample_rate);
  _mi_page_queue_direct_reset(heap);
}

void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  heap->guarded_size_min = min;
  heap->guarded_size_max = (max < min ? min : max);
}

/* From the options, at heap creation (the heap's pages are all empty). */
void _mi_guarded_heap_init(mi_heap_t* heap) {
  mi_heap_guarded_set_size_bound(heap, mi_option_get_size(mi_option_guarded_min), mi_option_get_size(mi_option_guarded_max));
  const size_t rate = (size_t)mi_option_get_clamp(mi_option_guarded_sample_rate, 0, LONG_MAX);
  if (rate == 0) return;
  size_t seed = (size_t)mi_option_get_clamp(mi_option_guarded_sample_seed, 0, LONG_MAX);
  if (seed == 0) seed = (size_t)_mi_random_next(&heap->random);
  mi_heap_guarded_set_sample_rate(heap, rate, seed);
}

/* ---------------------------------------------------------------------------
   Allocation
--------------------------------------------------------------------------- */
/* The sampled allocation (alloc.c decides when); NULL when the size cannot
   be guarded or memory is short: the caller allocates as usual. */
void* _mi_guarded_alloc(mi_heap_t* heap, size_t size, bool zero) {
  const size_t os_page = _mi_os_page_size();
  const size_t header = sizeof(mi_guarded_header_t);
  if (size > MI_LARGE_OBJ_SIZE_MAX - header - 2 * os_page) return NULL;   /* a page of its own, never a huge segment */
  /* with MI_PADDING the canary and its record come between the block and
     the guard: a small overflow is reported at free, a larger one faults */
  const size_t need = (size == 0 ? 1 : size) + MI_PADDING_SIZE;   /* p must lie inside its block, before the guard */
  const size_t asize = (mi_option_is_enabled(mi_option_guarded_precise) ? need : _mi_align_up(need, MI_MAX_ALIGN_SIZE));
  const size_t body = _mi_align_up(header + asize, os_page);
  uint8_t* const start = (uint8_t*)_mi_page_malloc_single(heap, body + os_page, body, zero);
  if (start == NULL) return NULL;
  mi_page_t* const page = _mi_ptr_page(start);
  if ((uintptr_t)start % os_page != 0 || !_mi_os_protect(start + body, os_page, true)) {
    mi_free(start);   /* an ordinary block still: freed as one */
    return NULL;
  }
  uint8_t* const p = start + body - asize;
  mi_guarded_header_t* const hdr = mi_guarded_header(page);
  hdr->user = (uintptr_t)p ^ _mi_segment_cookie;
  hdr->size = size;
#if MI_PADDING
  mi_padding_set(page, (mi_block_t*)start, p, size);
#endif
  mi_page_set_has_aligned(page, true);   /* frees take the slow path (free.c), which comes here */
  mi_page_set_flag(page, MI_PAGE_GUARDED, true);
  _mi_prim_fault_report_install();
  _mi_stats_increase(&_mi_stats.guarded, 1);
  return p;
}

/* An aligned allocation moved the pointer inside the block (alloc-aligned.c). */
void _mi_guarded_moved(mi_page_t* page, void* p) {
  mi_guarded_header(page)->user = (uintptr_t)p ^ _mi_segment_cookie;
}

/* ---------------------------------------------------------------------------
   Free and quarantine
--------------------------------------------------------------------------- */
static mi_guarded_entry_t* mi_guarded_find(const mi_page_t* page) {
  for (size_t i = 0; i < MI_GUARDED_QUARANTINE; i++) {
    if (mi_atomic_load_acquire(&mi_guarded_quarantine[i].xpage) == (uintptr_t)page) return &mi_guarded_quarantine[i];
  }
  return NULL;
}

/* Make the block and its guard page accessible again. */
static void mi_guarded_unprotect(mi_page_t* page) {
  (void)_mi_os_protect(mi_page_start(page), mi_page_block_size(page) + _mi_os_page_size(), false);
}

/* Free `p` of a guarded page: checked, made inaccessible and quarantined;
   the oldest quarantined block is freed for good. Any thread. The checks
   read the quarantine without the lock (its entries are atomic) and report
   with no lock held (an error handler may allocate); a double free racing
   with the first free from another thread may fault on the header. */
static void mi_guarded_report_double(const mi_guarded_entry_t* queued, void* p) {
  _mi_message_error(EAGAIN, "double free detected of guarded block %p (given %p; the second free is ignored)\n",
                    (void*)(queued->user ^ _mi_segment_cookie), p);
}

void _mi_guarded_free(mi_page_t* page, void* p) {
  const mi_guarded_entry_t* queued = mi_guarded_find(page);
  if (queued != NULL) { mi_guarded_report_double(queued, p); return; }
  const mi_guarded_header_t hdr = *mi_guarded_header(page);
  if ((hdr.user ^ _mi_segment_cookie) != (uintptr_t)p) {
    _mi_message_error(EINVAL, "mi_free: invalid pointer %p (not the start of guarded block %p of %zu bytes)\n",
                      p, (void*)(hdr.user ^ _mi_segment_cookie), hdr.size);
    return;
  }
#if MI_PADDING
  (void)_mi_alloc_padding_check(page, (mi_block_t*)mi_page_start(page), p);   /* reported; the guard page caught what went further */
#endif
  _mi_prim_lock(MI_LOCK_GUARDED);
  queued = mi_guarded_find(page);   /* freed by another thread meanwhile */
  if (queued != NULL) {
    _mi_prim_unlock(MI_LOCK_GUARDED);
    mi_guarded_report_double(queued, p);
    return;
  }
  (void)_mi_os_protect(mi_page_start(page), mi_page_block_size(page), true);
  mi_guarded_entry_t* const slot = &mi_guarded_quarantine[mi_guarded_next];
  mi_guarded_next = (mi_guarded_next + 1) % MI_GUARDED_QUARANTINE;
  mi_page_t* const evicted = (mi_page_t*)mi_atomic_load_relaxed(&slot->xpage);
  mi_atomic_store_release(&slot->xpage, 0);
  slot->user = hdr.user;
  slot->size = hdr.size;
  mi_atomic_store_release(&slot->xpage, (uintptr_t)page);
  _mi_prim_unlock(MI_LOCK_GUARDED);
  _mi_stats_decrease(&_mi_stats.guarded, 1);
  if (evicted != NULL) {
    mi_guarded_unprotect(evicted);
    _mi_free_block(evicted, (mi_block_t*)mi_page_start(evicted));
  }
}

/* The page goes away with its heap (mi_heap_destroy), live or
   quarantined: out of the quarantine, and accessible again. */
void _mi_guarded_page_release(mi_page_t* page) {
  _mi_prim_lock(MI_LOCK_GUARDED);
  mi_guarded_entry_t* const slot = mi_guarded_find(page);
  if (slot != NULL) mi_atomic_store_release(&slot->xpage, 0);
  _mi_prim_unlock(MI_LOCK_GUARDED);
  if (slot == NULL) _mi_stats_decrease(&_mi_stats.guarded, 1);   /* a live block */
  mi_guarded_unprotect(page);
}

/* ---------------------------------------------------------------------------
   Hooks: heap visits (page.c) and fault reports (prim)
--------------------------------------------------------------------------- */
bool _mi_guarded_block_of(const mi_page_t* page, void** p, size_t* size) {
  if (mi_guarded_find(page) != NULL) return false;
  const mi_guarded_header_t* hdr = mi_guarded_header(page);
  *p = (void*)(hdr->user ^ _mi_segment_cookie);
#if MI_PADDING
  *size = mi_padding_size(page, (const mi_block_t*)hdr, *p);   /* the usable size: the request */
#else
  *size = (size_t)(mi_guarded_guard(page) - (uint8_t*)*p);
#endif
  return true;
}

/* In the fault handler: reads only the segment map, the page descriptor,
   the quarantine and (for a live block) its header, all accessible, and
   writes with the async-signal-safe formatter. */
void _mi_guarded_fault_report(void* addr) {
  if (!_mi_ptr_is_known(addr)) return;
  const mi_page_t* page = _mi_ptr_page(addr);
  if (!mi_page_has_flag(page, MI_PAGE_GUARDED)) return;
  const uint8_t* const a = (const uint8_t*)addr;
  const uint8_t* const guard = mi_guarded_guard(page);
  if (a < mi_page_start(page) || a >= guard + _mi_os_page_size()) return;
  const mi_guarded_entry_t* queued = mi_guarded_find(page);
  const uintptr_t user = (queued != NULL ? queued->user : mi_guarded_header(page)->user) ^ _mi_segment_cookie;
  const size_t size = (queued != NULL ? queued->size : mi_guarded_header(page)->size);
  const char* state = (queued != NULL ? "freed" : "allocated");
  if (a >= guard) {
    _mi_message_signal_safe("mica: fault at %p: buffer overflow of guarded block %p of %zu bytes (%s), %zu bytes past its end\n",
                            addr, (void*)user, size, state, (size_t)(a - (const uint8_t*)user) - size);
  } else {
    _mi_message_signal_safe("mica: fault at %p: use after free of guarded block %p of %zu bytes (%s), at offset %td\n",
                            addr, (void*)user, size, state, a - (const uint8_t*)user);
  }
}
