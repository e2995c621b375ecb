/* SPDX-License-Identifier: MIT */
/* Threads: their identity, their data (a heap and its tld), initialisation
   on the first allocation and teardown at exit (the hook prim calls), and
   the sub-processes threads belong to.

   Every thread starts with _mi_heap_default == &_mi_heap_empty, a constant
   heap whose page pointers all lead to an empty page; the first allocation
   therefore falls into the generic path, which initialises the thread. So
   the fast path never tests for initialisation. */
#include "mica/internal.h"

/* The id used when no thread pointer is available: the address of a
   thread-local, unique among live threads and stable within one. */
static _Thread_local uint8_t mi_thread_id_anchor;
uintptr_t _mi_thread_id_tls(void) { return (uintptr_t)&mi_thread_id_anchor; }

uintptr_t mi_thread_id(void)     { return _mi_thread_id(); }
int       mi_thread_id_source(void) { return MI_THREAD_ID_SOURCE; }

/* ---------------------------------------------------------------------------
   Thread data: a heap and its tld, allocated together. The first thread
   to initialise uses static storage; others take OS memory, recycled
   through a small cache (under MI_LOCK_THREAD_DATA).
--------------------------------------------------------------------------- */
typedef struct mi_thread_data_s {
  mi_heap_t heap;
  mi_tld_t  tld;
  struct mi_thread_data_s* next_cached;
} mi_thread_data_t;

#define MI_THREAD_DATA_CACHE_MAX 16

static mi_thread_data_t  mi_thread_data_main;
static mi_atomic(uintptr_t) mi_thread_data_main_taken;
static mi_thread_data_t* mi_thread_data_cache;       /* under MI_LOCK_THREAD_DATA */
static size_t            mi_thread_data_cache_count; /* under MI_LOCK_THREAD_DATA */

static mi_thread_data_t* mi_thread_data_alloc(void) {
  uintptr_t expected = 0;
  if (mi_atomic_load_relaxed(&mi_thread_data_main_taken) == 0 &&
      mi_atomic_cas_strong_acq_rel(&mi_thread_data_main_taken, &expected, 1)) {
    return &mi_thread_data_main;
  }
  mi_thread_data_t* td = NULL;
  _mi_prim_lock(MI_LOCK_THREAD_DATA);
  if (mi_thread_data_cache != NULL) {
    td = mi_thread_data_cache;
    mi_thread_data_cache = td->next_cached;
    mi_thread_data_cache_count--;
  }
  _mi_prim_unlock(MI_LOCK_THREAD_DATA);
  if (td == NULL) td = (mi_thread_data_t*)_mi_os_alloc(sizeof(mi_thread_data_t), NULL);
  return td;
}

static void mi_thread_data_free(mi_thread_data_t* td) {
  if (td == &mi_thread_data_main) { mi_atomic_store_release(&mi_thread_data_main_taken, 0); return; }
  _mi_prim_lock(MI_LOCK_THREAD_DATA);
  if (mi_thread_data_cache_count < MI_THREAD_DATA_CACHE_MAX) {
    td->next_cached = mi_thread_data_cache;
    mi_thread_data_cache = td;
    mi_thread_data_cache_count++;
    td = NULL;
  }
  _mi_prim_unlock(MI_LOCK_THREAD_DATA);
  if (td != NULL) _mi_os_free(td, _mi_align_up(sizeof(mi_thread_data_t), _mi_os_page_size()));
}

/* ---------------------------------------------------------------------------
   Threads
--------------------------------------------------------------------------- */
/* Thread data that the caller owns (mica's own threads, or a runtime's
   thread state holding a tld and its heaps by value): empty, in the main
   sub-process, with `backing` as its backing heap, to be initialised next
   (_mi_heap_init) before the tld's other heaps, which split its random
   state. The caller may then point tld->segments.abandoned at a
   sub-process of its own, before the first allocation. */
void _mi_thread_tld_init(mi_tld_t* tld, mi_heap_t* backing) {
  memset(tld, 0, sizeof(*tld));
  tld->segments.abandoned = &_mi_segment_subproc_main;
  tld->heap_backing = backing;
}

void mi_thread_init(void) {
  mi_process_init();
  if (mi_heap_is_initialized(mi_get_default_heap())) return;
  mi_thread_data_t* td = mi_thread_data_alloc();
  if (td == NULL) {
    _mi_message_error(ENOMEM, "unable to allocate thread data\n");
    return;
  }
  td->next_cached = NULL;
  _mi_thread_tld_init(&td->tld, &td->heap);
  _mi_heap_init(&td->heap, &td->tld, false, 0, 0);
  _mi_heap_set_default_direct(&td->heap);   /* before anything below can allocate */
  _mi_prim_thread_associate_heap(&td->heap);
  _mi_stats_increase(&_mi_stats.threads, 1);
}

/* Thread exit hook (prim calls it from the thread's exit, with the backing
   heap), and mi_thread_done. */
void _mi_thread_done(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (heap->thread_id != _mi_thread_id()) return;   /* only the owner tears it down */
  mi_tld_t* tld = heap->tld;
  mi_heap_t* backing = tld->heap_backing;
  _mi_heap_set_default_direct((mi_heap_t*)&_mi_heap_empty);
  _mi_prim_thread_associate_heap(NULL);
  /* other heaps of the thread hand their blocks to the backing heap */
  mi_heap_t* h = tld->heaps;
  while (h != NULL) {
    mi_heap_t* next = h->next;
    if (h != backing) {
      mi_heap_delete(h);   /* frees the heap struct from the backing heap */
    }
    h = next;
  }
  _mi_heap_collect_abandon(backing);
  _mi_segment_thread_collect(tld);
  mi_assert(tld->segments.count == 0);   /* each segment was freed or abandoned: none keeps this thread's id */
  if (tld->segments.abandoned != &_mi_segment_subproc_main) mi_atomic_fetch_sub_relaxed(&tld->segments.abandoned->xthread_count, 1);
  _mi_stats_decrease(&_mi_stats.threads, 1);
  mi_thread_data_free((mi_thread_data_t*)backing);
}

void mi_thread_done(void) {
  _mi_thread_done(mi_get_default_heap()->tld != NULL ? mi_get_default_heap()->tld->heap_backing : NULL);
}

/* ---------------------------------------------------------------------------
   Sub-processes: threads added to one share abandoned segments only with
   each other (CPython's sub-interpreters). The main one is static; others
   take a page of OS memory.
--------------------------------------------------------------------------- */
mi_subproc_id_t mi_subproc_main(void) {
  return NULL;
}

mi_subproc_id_t mi_subproc_new(void) {
  mi_subproc_t* subproc = (mi_subproc_t*)_mi_os_alloc(sizeof(mi_subproc_t), NULL);   /* zeroed */
  if (subproc == NULL) _mi_message_error(ENOMEM, "unable to allocate a sub-process\n");
  return subproc;
}

static mi_subproc_t* mi_subproc_of(mi_subproc_id_t id) {
  return (id == NULL ? &_mi_segment_subproc_main : (mi_subproc_t*)id);
}

/* Only a sub-process without threads and without abandoned segments goes
   (their blocks would lose their owner); otherwise it stays, with a warning. */
void mi_subproc_delete(mi_subproc_id_t subproc_id) {
  if (subproc_id == NULL) return;
  mi_subproc_t* subproc = mi_subproc_of(subproc_id);
  if (mi_atomic_load_acquire(&subproc->xthread_count) != 0 || mi_atomic_load_acquire(&subproc->xabandoned_count) != 0) {
    _mi_message_warning("sub-process %p not deleted: it still has threads or abandoned memory\n", subproc_id);
    return;
  }
  _mi_os_free(subproc, _mi_align_up(sizeof(mi_subproc_t), _mi_os_page_size()));
}

/* Move the calling thread (still in the main sub-process) to `subproc_id`.
   Segments it already has stay with the sub-process they were made in. */
void mi_subproc_add_current_thread(mi_subproc_id_t subproc_id) {
  mi_heap_t* heap = mi_heap_get_default();
  if (!mi_heap_is_initialized(heap)) return;
  mi_tld_t* tld = heap->tld;
  mi_subproc_t* subproc = mi_subproc_of(subproc_id);
  if (tld->segments.abandoned == subproc) return;
  if (tld->segments.abandoned != &_mi_segment_subproc_main) {
    _mi_message_warning("the thread is in another sub-process already (%p)\n", (void*)tld->segments.abandoned);
    return;
  }
  if (subproc != &_mi_segment_subproc_main) mi_atomic_fetch_add_relaxed(&subproc->xthread_count, 1);
  tld->segments.abandoned = subproc;
}
