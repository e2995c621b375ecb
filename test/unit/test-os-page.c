/* SPDX-License-Identifier: MIT */
/* test-os-page: slices smaller than the OS page (32 KiB slices under the
   64 KiB pages of many aarch64 and ppc64le kernels).

   Built against a variant that takes the OS page to be 64 KiB
   (MI_TEST_OS_PAGE_SIZE), on a kernel of 4 KiB pages, which accepts every
   64 KiB aligned range. A purge then drops only the 64 KiB pages wholly
   inside a free run of slices: a span of 2 slices that starts at an odd
   slice keeps all its bytes.

   In a fresh thread with purge_delay 0 (free memory is purged at once):
   small blocks of distinct classes and large blocks of 2 slices are
   allocated in turn, so the large blocks start at slices of both parities
   and each has neighbours in use. They are filled with 0xAB and freed, and
   as many calloc'ed again, which take the freed spans: every byte must be
   zero. Before a purge marked only the slices it covered as zero, the
   spans it had left alone were taken for zero, and calloc handed out
   0xAB bytes. The same program on the release library (real pages) is
   the control. */
#include "mica.h"
#include "mica/geometry.h"
#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define ROUNDS 12
#define LARGE  (MI_MEDIUM_OBJ_SIZE_MAX + 1024)   /* the smallest large blocks: a span of 2 slices */

static void* small[ROUNDS];
static void* large[ROUNDS];
static size_t odd_spans;

static size_t slice_of(const void* p)
{
  return ((uintptr_t)p & (MI_SEGMENT_SIZE - 1)) / MI_SLICE_SIZE;
}

static void* worker(void* arg)
{
  (void)arg;
  mi_option_set(mi_option_purge_delay, 0);
  for (int i = 0; i < ROUNDS; i++) {
    small[i] = mi_malloc(16 + 16 * (size_t)i);   /* a page of its own class next to the large blocks */
    large[i] = mi_malloc(LARGE);
    CHECKF(small[i] != NULL && large[i] != NULL, "allocation %d failed", i);
    if (large[i] == NULL) return NULL;
    memset(large[i], 0xAB, LARGE);
    odd_spans += slice_of(large[i]) & 1;
  }
  for (int i = 0; i < ROUNDS; i++) mi_free(large[i]);
  mi_collect(false);
  size_t dirty = 0;
  for (int i = 0; i < ROUNDS; i++) {
    unsigned char* p = (unsigned char*)mi_calloc(1, LARGE);
    CHECKF(p != NULL, "calloc %d failed", i);
    if (p == NULL) continue;
    for (size_t j = 0; j < LARGE; j++) {
      if (p[j] != 0) { dirty++; break; }
    }
    large[i] = p;
  }
  CHECKF(dirty == 0, "%zu of %d calloc'ed blocks of %d bytes were not zero (they took spans a purge had not covered)",
         dirty, ROUNDS, (int)LARGE);
  for (int i = 0; i < ROUNDS; i++) { mi_free(large[i]); mi_free(small[i]); }
  mi_option_set(mi_option_purge_delay, 10);
  return NULL;
}

int main(void)
{
  pthread_t t;
  CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  printf("%zu of %d spans started at an odd slice\n", odd_spans, ROUNDS);
  CHECKF(odd_spans > 0, "no large block started at an odd slice: the test did not reach its case");
  return test_report();
}
