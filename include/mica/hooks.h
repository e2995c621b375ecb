/* SPDX-License-Identifier: MIT */
/* The calls that go up the layer map (doc/design.md), all of them. Every
   other call goes to the caller's own layer, a layer below, or a leaf;
   test/house/check-layers.sh checks the object files against that rule and
   this list. Self-contained (incomplete types only), so that prim, which
   sees no other internal header, can include it. */
#ifndef MICA_HOOKS_H
#define MICA_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arch.h"

MI_HIDDEN_BEGIN
MI_EXTERN_C_BEGIN

struct mi_heap_s;
struct mi_page_s;

/* prim -> thread.c: the calling thread exits (with the heap it associated,
   _mi_prim_thread_associate_heap); tears down its heaps. */
void _mi_thread_done(struct mi_heap_s* heap);

/* prim -> process.c: the library is loaded (as early as prim can run
   code), and the process exits or the library is unloaded. */
void _mi_process_load(void);
void _mi_process_done(void);

/* segment.c -> heap.c: a reclaimed page goes to the heap of the reclaiming
   thread that has the page's tag and may take pages (NULL: none). */
struct mi_heap_s* _mi_heap_by_tag(struct mi_heap_s* heap, uint8_t tag);

/* prim -> guarded.c: a SIGSEGV or SIGBUS at `addr` (the handler that
   _mi_prim_fault_report_install installs): print a line naming the
   guarded block it hit, if it hit one. Async-signal context. */
void _mi_guarded_fault_report(void* addr);

/* page.c -> guarded.c: the program's pointer and size of the block of a
   guarded page, for heap visits; false while the block is quarantined. */
bool _mi_guarded_block_of(const struct mi_page_s* page, void** p, size_t* size);

MI_EXTERN_C_END
MI_HIDDEN_END

#endif
