/* Process and thread initialisation and teardown.

   Every thread starts with _mi_heap_default == &_mi_heap_empty, a constant
   heap whose page pointers all lead to an empty page; the first allocation
   therefore falls into the generic path, which initialises the thread. So
   the fast path never tests for initialisation. */
#include "mica/internal.h"

const mi_page_t _mi_page_empty;   /* all zero: no free blocks */

const mi_heap_t _mi_heap_empty = {
  .tld = NULL,
  .pages_free_direct = { [0 ... MI_PAGES_DIRECT - 1] = (mi_page_t*)&_mi_page_empty },
  .page_retired_min = MI_BIN_FULL,
};

_Thread_local mi_heap_t* _mi_heap_default = (mi_heap_t*)&_mi_heap_empty;

uintptr_t _mi_process_cookie;
bool      _mi_process_is_initialized;
static mi_atomic(uintptr_t) mi_process_init_state;   /* 0: no, 1: running, 2: done */

/* The id used when no thread pointer is available: the address of a
   thread-local, unique among live threads and stable within one. */
static _Thread_local uint8_t mi_thread_id_anchor;
uintptr_t _mi_thread_id_tls(void) { return (uintptr_t)&mi_thread_id_anchor; }

uintptr_t mi_thread_id(void)     { return _mi_thread_id(); }
int       mi_thread_id_source(void) { return MI_THREAD_ID_SOURCE; }
int       mi_version(void)       { return MI_MALLOC_VERSION; }

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

void _mi_heap_set_default_direct(mi_heap_t* heap) {
  _mi_heap_default = heap;
}

/* ---------------------------------------------------------------------------
   Threads
--------------------------------------------------------------------------- */
void mi_thread_init(void) {
  mi_process_init();
  if (mi_heap_is_initialized(mi_get_default_heap())) return;
  mi_thread_data_t* td = mi_thread_data_alloc();
  if (td == NULL) {
    _mi_error_message(ENOMEM, "unable to allocate thread data\n");
    return;
  }
  memset(&td->tld, 0, sizeof(td->tld));
  td->next_cached = NULL;
  td->tld.subproc = &_mi_subproc_main;
  _mi_heap_init(&td->heap, &td->tld, false, 0, 0);
  td->tld.heap_backing = &td->heap;
  _mi_heap_set_default_direct(&td->heap);   /* before anything below can allocate */
  _mi_prim_thread_associate_heap(&td->heap);
  _mi_stat_increase(&_mi_stats.threads, 1);
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
  mi_assert(tld->segment_count == 0);   /* each segment was freed or abandoned: none keeps this thread's id */
  if (tld->subproc != &_mi_subproc_main) mi_atomic_fetch_sub_relaxed(&tld->subproc->thread_count, 1);
  _mi_stat_decrease(&_mi_stats.threads, 1);
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
  if (subproc == NULL) _mi_error_message(ENOMEM, "unable to allocate a sub-process\n");
  return subproc;
}

static mi_subproc_t* mi_subproc_of(mi_subproc_id_t id) {
  return (id == NULL ? &_mi_subproc_main : (mi_subproc_t*)id);
}

/* Only a sub-process without threads and without abandoned segments goes
   (their blocks would lose their owner); otherwise it stays, with a warning. */
void mi_subproc_delete(mi_subproc_id_t subproc_id) {
  if (subproc_id == NULL) return;
  mi_subproc_t* subproc = mi_subproc_of(subproc_id);
  if (mi_atomic_load_acquire(&subproc->thread_count) != 0 || mi_atomic_load_acquire(&subproc->abandoned_count) != 0) {
    _mi_warning_message("sub-process %p not deleted: it still has threads or abandoned memory\n", subproc_id);
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
  if (tld->subproc == subproc) return;
  if (tld->subproc != &_mi_subproc_main) {
    _mi_warning_message("the thread is in another sub-process already (%p)\n", (void*)tld->subproc);
    return;
  }
  if (subproc != &_mi_subproc_main) mi_atomic_fetch_add_relaxed(&subproc->thread_count, 1);
  tld->subproc = subproc;
}

/* ---------------------------------------------------------------------------
   Process
--------------------------------------------------------------------------- */
void mi_process_init(void) {
  uintptr_t state = mi_atomic_load_acquire(&mi_process_init_state);
  if (state == 2) return;
  uintptr_t expected = 0;
  if (!mi_atomic_cas_strong_acq_rel(&mi_process_init_state, &expected, 1)) {
    /* another thread is initialising (or this one, recursively) */
    return;
  }
  _mi_os_init();
  _mi_options_init();
  mi_random_ctx_t r;
  _mi_random_init(&r);
  _mi_process_cookie = _mi_random_next(&r) | 1;
  _mi_process_is_initialized = true;
  mi_atomic_store_release(&mi_process_init_state, 2);
  mi_thread_init();                      /* this thread's heap first: what follows may allocate */
  _mi_prim_thread_init_auto_done();
  if (mi_option_is_enabled(mi_option_show_stats) || mi_option_is_enabled(mi_option_verbose)) _mi_prim_out_keep_open();
  _mi_os_thp_init();
  const long huge_pages = mi_option_get(mi_option_reserve_huge_os_pages);
  if (huge_pages > 0) {
    const long at = mi_option_get(mi_option_reserve_huge_os_pages_at);
    if (at >= 0) mi_reserve_huge_os_pages_at((size_t)huge_pages, (int)at, (size_t)huge_pages * 500);
    else mi_reserve_huge_os_pages_interleave((size_t)huge_pages, 0, (size_t)huge_pages * 500);
  }
  const size_t reserve = mi_option_get_size(mi_option_reserve_os_memory);
  if (reserve > 0) {
    const int err = _mi_arena_reserve(reserve);
    if (err != 0) _mi_warning_message("unable to reserve %zu KiB at start-up (error %d)\n", reserve / 1024, err);
  }
  _mi_verbose_message("process init: page size %zu, segment %zu KiB, arena %zu MiB, thread id from %s\n",
                      _mi_os_page_size(), MI_SEGMENT_SIZE / 1024, MI_ARENA_SIZE / (1024 * 1024),
                      MI_THREAD_ID_SOURCE == 1 ? "thread pointer" : (MI_THREAD_ID_SOURCE == 2 ? "embedder" : "thread-local address"));
}

void _mi_process_load(void) {
  mi_process_init();
}

/* At exit, or earlier from mi_process_done: only the first call acts. */
void _mi_process_done(void) {
  static mi_atomic(uintptr_t) done;
  if (mi_atomic_exchange_acq_rel(&done, 1) != 0) return;
  _mi_stats_print_at_exit();
  /* destroy_on_exit: give all memory back (a dlclose'd copy of mica) */
  if (mi_option_is_enabled(mi_option_destroy_on_exit)) {
    mi_collect(true);
    _mi_arenas_unsafe_destroy();
    _mi_heap_unsafe_forget_all();
  }
}

/* Every atomic mica has: static data (arenas, segment map, statistics,
   process state) and live metadata (this thread's heaps, their pages and
   segments, abandoned segments). */
size_t _mi_atomics_misaligned(void) {
  size_t bad = _mi_arenas_atomics_misaligned() + _mi_segments_atomics_misaligned() + _mi_prim_atomics_misaligned();
  bad += mi_atomic_misaligned(&mi_process_init_state) + mi_atomic_misaligned(&mi_thread_data_main_taken);
  mi_stat_count_t* stats = (mi_stat_count_t*)&_mi_stats;
  for (size_t i = 0; i < sizeof(mi_stats_t) / sizeof(mi_stat_count_t); i++) {
    bad += mi_atomic_misaligned(&stats[i].current) + mi_atomic_misaligned(&stats[i].peak) + mi_atomic_misaligned(&stats[i].total);
  }
  mi_heap_t* heap = mi_get_default_heap();
  if (mi_heap_is_initialized(heap)) {
    for (mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) bad += _mi_heap_atomics_misaligned(h);
  }
  return bad;
}
