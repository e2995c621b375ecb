/* SPDX-License-Identifier: MIT */
/* mimalloc API calls whose effect mica does not have (yet), each accepted
   with mimalloc's signature; doc/options.md says what each does here. */
#include "mica/internal.h"

/* mimalloc uses the hint to keep pool threads from reclaiming abandoned
   memory; mica's reclaim policy is the same for every thread. */
void mi_thread_set_in_threadpool(void) {
}

/* Explicit end of the process's use of mica (statistics, destroy_on_exit);
   mica does it at exit itself, and only the first of the two acts. */
void mi_process_done(void) {
  _mi_process_done();
}
