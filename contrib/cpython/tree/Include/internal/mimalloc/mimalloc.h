/* SPDX-License-Identifier: MIT */
/* CPython's "mimalloc/mimalloc.h", backed by mica. contrib/cpython/build.sh
   puts mica's headers in Include/internal/mimalloc/mimalloc/ (so CPython's
   "mimalloc/mimalloc/types.h", "internal.h", ... are mica's own files, and
   `make install` copies every header mica needs) with a symlink "mica" to
   that directory for mica's sources. Every CPython core file includes this
   through pycore_mimalloc.h, which first sets MI_DEBUG and the debug fill
   bytes. mica is embedded (MI_EMBED, doc/embedding.md): no mi_ symbol leaves
   libpython and malloc is not replaced. */
#ifndef MIMALLOC_H
#define MIMALLOC_H
#ifndef MI_EMBED
#define MI_EMBED 1
#endif
/* No debug padding (MI_PADDING, which MI_DEBUG 2 turns on) in CPython's
   pydebug build yet: its test selection has not run with it (issue 14);
   CPython's own debug hooks (PYTHONMALLOC=mimalloc_debug) pad blocks too */
#ifndef MI_PADDING
#define MI_PADDING 0
#endif

/* mica's page-reuse hooks (doc/embedding.md, "Runtime support") are
   CPython's: Objects/obmalloc.c declares these five static functions before
   it includes this header and compiles mica (static.c) after it; no other
   unit compiles mica's sources, so the names are used only there. In the
   default build they give an empty page back at once, as mica would. A page
   that may go is no longer waiting: its goal is cleared here, because
   CPython's function leaves that to the allocator. */
#define MI_HOOK_PAGE_REUSED(page)           _PyMem_mi_page_clear_qsbr(page)
#define MI_HOOK_PAGE_EMPTY(page, pq, force) _PyMem_mi_page_maybe_free((page), (pq), (force))
#define MI_HOOK_PAGE_SAFE_TO_FREE(page)     (_PyMem_mi_page_is_safe_to_free(page) ? ((page)->qsbr_goal = 0, true) : false)
#define MI_HOOK_PAGE_RECLAIMED(page)        _PyMem_mi_page_reclaimed(page)
/* CPython has no function for this one (its vendored _mi_page_abandon does
   it inline): the page leaves the thread's QSBR list and keeps its goal */
#define MI_HOOK_PAGE_ABANDONED(page) \
  do { if ((page)->qsbr_node.next != NULL) llist_remove(&(page)->qsbr_node); } while (0)
#define MI_HOOK_HEAP_COLLECT(heap)          _PyMem_mi_heap_collect_qsbr(heap)
/* the qsbr_node in each page descriptor is CPython's list node
   (pycore_llist.h, which pycore_pymem.h includes before this header) */
#define MI_PAGE_NODE_T struct llist_node
/* The free-threaded build's names (Python/pystate.c, Objects/obmalloc.c,
   Python/gc_free_threading.c) for mica's runtime support: caller-owned
   thread data and heaps, sub-processes as per-interpreter abandoned pools
   (zero-initialised storage is an empty one), visiting a pool's blocks by
   tag with the other threads paused. Function-like, so the order of the
   includes does not matter. */
#define mi_page_queue_of(page) _mi_page_queue_of(page)
#define mi_abandoned_pool_t    mi_subproc_t
#define _mi_tld_init(tld, backing) _mi_thread_tld_init((tld), (backing))
#define _mi_arena_id_none()    ((mi_arena_id_t)0)
#define _mi_heap_init_ex(heap, tld, arena_id, no_reclaim, tag) \
  _mi_heap_init((heap), (tld), (no_reclaim), (uint8_t)(tag), (int)(arena_id))
#define _mi_abandoned_pool_visit_blocks(pool, tag, visit_blocks, visitor, arg) \
  _mi_segment_abandoned_visit((pool), (int)(tag), (visit_blocks), (visitor), (arg))

#include "mimalloc/mica.h"
#endif
