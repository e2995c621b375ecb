/* SPDX-License-Identifier: MIT */
/* test-arena-reclaim-on-free: abandoned_reclaim_on_free. A thread exits
   with live blocks (its segment is abandoned); the main thread frees one
   of them. Option off: the segment stays abandoned (the other blocks are
   no heap's). Option on: the freeing thread takes the segment over, so
   the other blocks now belong to its heap and its frees are local. */
#include "mica.h"
#include "test.h"
#include <pthread.h>

#define N 100
static void* blocks[N];

static void* leaver(void* arg) {
  (void)arg;
  for (int i = 0; i < N; i++) blocks[i] = mi_malloc(100);
  return NULL;
}

static bool run(bool on) {
  pthread_t t;
  pthread_create(&t, NULL, &leaver, NULL);
  pthread_join(t, NULL);
  mi_option_set_enabled(mi_option_abandoned_reclaim_on_free, on);
  mi_heap_t* heap = mi_heap_get_backing();
  CHECK(!mi_heap_check_owned(heap, blocks[1]));
  mi_free(blocks[0]);
  const bool owned = mi_heap_check_owned(heap, blocks[1]);
  for (int i = 1; i < N; i++) mi_free(blocks[i]);
  return owned;
}

int main(void) {
  mi_option_set(mi_option_max_segment_reclaim, 0);   /* no reclaim when allocating */
  (void)mi_heap_get_backing();
  CHECKF(!run(false), "abandoned_reclaim_on_free 0: a free must not take the segment over");
  CHECKF(run(true), "abandoned_reclaim_on_free 1: the freeing thread takes the segment over");
  return test_report();
}
