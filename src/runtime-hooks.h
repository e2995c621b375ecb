/* SPDX-License-Identifier: MIT */
/* Page-reuse hooks: where a language runtime whose threads read freed
   objects without locks (QSBR: quiescent-state-based reclamation) decides
   when an empty page may be given back to its segment, to serve another
   size class or be purged (doc/embedding.md, "Runtime support").

   An embedder compiling mica into its build (MI_EMBED) names its own
   functions with these macros before the include; each default below is
   what mica does without one. Only the .c files of mica include this (the
   embedder's functions may be static to the unit that compiles mica). The
   page fields the hooks keep (qsbr_goal, qsbr_node) are the embedder's;
   mica only copies the heap's page_use_qsbr into use_qsbr at page init.

     MI_HOOK_PAGE_REUSED(page)          the page is in use again (a block was
                                        handed out of it, or it emptied anew):
                                        any grace period it waited for is void
     MI_HOOK_PAGE_EMPTY(page, pq, force) -> bool
                                        the page's last block is free and mica
                                        would give it back now: the hook gives
                                        it back (_mi_page_free) and returns
                                        true, or keeps it in its queue, empty,
                                        and returns false
     MI_HOOK_PAGE_ABANDONED(page)       the page leaves its heap, empty or not
                                        (its thread is done): it leaves the
                                        thread's waiting list, with its goal
     MI_HOOK_PAGE_SAFE_TO_FREE(page) -> bool
                                        an empty page of a segment being
                                        reclaimed from an exited thread: may
                                        it be given back now (else it joins the
                                        reclaiming heap, then PAGE_RECLAIMED)
     MI_HOOK_PAGE_RECLAIMED(page)       a page of an exited thread joined this
                                        thread's heap with its tag
     MI_HOOK_HEAP_COLLECT(heap)         the heap collects, or is about to take
                                        a fresh page: give back the pages whose
                                        grace period is over

   All run on the thread that owns the heap (or the one abandoning or
   reclaiming it), on slow paths only. */
#ifndef MICA_RUNTIME_HOOKS_H
#define MICA_RUNTIME_HOOKS_H

#include "mica/internal.h"

#ifndef MI_HOOK_PAGE_REUSED
#define MI_HOOK_PAGE_REUSED(page)            ((void)(page))
#endif
#ifndef MI_HOOK_PAGE_EMPTY
#define MI_HOOK_PAGE_EMPTY(page, pq, force)  (_mi_page_free((page), (pq), (force)), true)
#endif
#ifndef MI_HOOK_PAGE_ABANDONED
#define MI_HOOK_PAGE_ABANDONED(page)         ((void)(page))
#endif
#ifndef MI_HOOK_PAGE_SAFE_TO_FREE
#define MI_HOOK_PAGE_SAFE_TO_FREE(page)      ((void)(page), true)
#endif
#ifndef MI_HOOK_PAGE_RECLAIMED
#define MI_HOOK_PAGE_RECLAIMED(page)         ((void)(page))
#endif
#ifndef MI_HOOK_HEAP_COLLECT
#define MI_HOOK_HEAP_COLLECT(heap)           ((void)(heap))
#endif

#endif
