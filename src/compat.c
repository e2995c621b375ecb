/* SPDX-License-Identifier: MIT */
/* mimalloc API calls whose effect mica does not have (yet), each accepted
   with mimalloc's signature; doc/options.md says what each does here. */
#include "mica/internal.h"

/* Guard pages after sampled objects: built by the hardening issue (14).
   Until then a heap keeps no sample rate or size bound. */
void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed) {
  (void)heap; (void)sample_rate; (void)seed;
}

void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max) {
  (void)heap; (void)min; (void)max;
}

/* mimalloc uses the hint to keep pool threads from reclaiming abandoned
   memory; mica's reclaim policy is the same for every thread. */
void mi_thread_set_in_threadpool(void) {
}

/* Explicit end of the process's use of mica (statistics, destroy_on_exit);
   mica does it at exit itself, and only the first of the two acts. */
void mi_process_done(void) {
  _mi_process_done();
}
