/* SPDX-License-Identifier: MIT */
/* The process: initialisation (once, from the first allocation or the
   load hook), the exit hook, and the random key of segment cookies. */
#include "mica/internal.h"

static mi_atomic(uintptr_t) mi_process_init_state;   /* 0: no, 1: running, 2: done */

int mi_version(void) { return MI_MALLOC_VERSION; }

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
  _mi_segment_cookie = _mi_random_next(&r) | 1;
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
    if (err != 0) _mi_message_warning("unable to reserve %zu KiB at start-up (error %d)\n", reserve / 1024, err);
  }
  _mi_message_verbose("process init: page size %zu, segment %zu KiB, arena %zu MiB, thread id from %s\n",
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
