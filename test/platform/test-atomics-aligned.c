/* Run-time proof of the alignment rule: every atomic in mica's static data
   and live metadata is naturally aligned, after work that creates every
   kind of metadata (all page kinds, several heaps, cross-thread frees, an
   exited thread's abandoned segments). Linked with the static library to
   reach mica's internal walk. Prints "N passed, N failed". */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "mica.h"
#include "test.h"

size_t _mi_atomics_misaligned(void);   /* mica internal (src/init.c) */

static void* leaver(void* arg) {
  void** out = (void**)arg;
  for (int i = 0; i < 64; i++) out[i] = mi_malloc((size_t)(i + 1) * 1000);   /* left live: abandoned at exit */
  return NULL;
}

int main(void) {
  static const size_t sizes[] = { 8, 24, 100, 1000, 16000, 50000, 200000, 1500000, 5000000 };
  void* blocks[32];
  size_t n = 0;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) blocks[n++] = mi_malloc(sizes[i]);
  blocks[n++] = mi_malloc_aligned(100, 1 << 22);
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  for (size_t i = 0; i < 8; i++) blocks[n++] = mi_heap_malloc(heap, sizes[i]);
  void* left[64];
  pthread_t t;
  CHECK(pthread_create(&t, NULL, leaver, left) == 0);
  pthread_join(t, NULL);
  const size_t bad = _mi_atomics_misaligned();
  CHECKF(bad == 0, "%zu misaligned atomics in mica's data", bad);
  for (int i = 0; i < 64; i++) mi_free(left[i]);   /* cross-thread frees into abandoned pages */
  CHECK(_mi_atomics_misaligned() == 0);
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  mi_heap_delete(heap);
  CHECK(_mi_atomics_misaligned() == 0);
  return test_report();
}
