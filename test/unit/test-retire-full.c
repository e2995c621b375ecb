/* SPDX-License-Identifier: MIT */
/* test-retire-full: a retired page (empty, kept a while as its queue's only
   page) that fills again goes to the full queue; once other threads have
   freed all its blocks there, it leaves the full queue (freed or back in
   its bin), never staying empty in the full queue. It once stayed: the
   retire kept it for its earlier retirement's sake, so its memory waited
   for a heap collect, and the heap's invariant (a full page that says it
   has a block on the delayed-free list has one) broke (CI, guarded-stress
   at MI_DEBUG=3). Linked with the MI_DEBUG=3 variant: the heap walker
   checks the end state too. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "mica.h"
#include "mica/internal.h"
#include "test.h"

#if MI_DEBUG < 1
#error "test-retire-full needs the walkers of a debug build: compile it (and the library) with MI_DEBUG=3"
#endif

static long error_count;
static void on_error(int err, void* arg) { (void)err; (void)arg; error_count++; }

typedef struct free_job_s { void** blocks; size_t count; } free_job_t;
static void* free_all(void* arg) {
  free_job_t* job = (free_job_t*)arg;
  for (size_t i = 0; i < job->count; i++) mi_free(job->blocks[i]);
  return NULL;
}

enum { SIZE = 256, MAX_BLOCKS = MI_SMALL_PAGE_SIZE / SIZE };
static void* blocks[MAX_BLOCKS];

int main(void) {
  mi_register_error(on_error, NULL);
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return test_report();

  /* one page of the size, filled, then emptied: retired */
  blocks[0] = mi_heap_malloc(heap, SIZE);
  mi_page_t* page = _mi_ptr_page(blocks[0]);
  const size_t n = page->reserved;
  CHECKF(n >= 2 && n <= MAX_BLOCKS, "a %d-byte page holds %zu blocks", SIZE, n);
  if (n < 2 || n > MAX_BLOCKS) return test_report();
  for (size_t i = 1; i < n; i++) {
    blocks[i] = mi_heap_malloc(heap, SIZE);
    CHECK(_mi_ptr_page(blocks[i]) == page);
  }
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  CHECKF(page->segment_in_use && mi_page_heap(page) == heap && page->used == 0 && page->retire_expire != 0,
         "the emptied page is retired (in use %d, used %u, retire_expire %u)",
         (int)page->segment_in_use, (unsigned)page->used, (unsigned)page->retire_expire);

  /* filled again through the fast path; one more allocation finds it
     without room and moves it to the full queue */
  for (size_t i = 0; i < n; i++) {
    blocks[i] = mi_heap_malloc(heap, SIZE);
    CHECK(_mi_ptr_page(blocks[i]) == page);
  }
  void* other = mi_heap_malloc(heap, SIZE);
  CHECK(other != NULL && _mi_ptr_page(other) != page);
  CHECKF(mi_page_is_full(page), "the refilled page is in the full queue");

  /* another thread frees them all: the first onto the heap's delayed-free
     list, the rest onto the page's thread-free list */
  free_job_t job = { blocks, n };
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_all, &job) == 0 && pthread_join(t, NULL) == 0);

  /* the owner's generic path takes the delayed-free list */
  void* large = mi_heap_malloc(heap, MI_MEDIUM_OBJ_SIZE_MAX + 1);
  CHECK(large != NULL);
  const bool stuck = page->segment_in_use && mi_page_heap(page) == heap && mi_page_is_full(page);
  CHECKF(!stuck, "the page whose blocks were all freed is still in the full queue (used %u, retire_expire %u)",
         (unsigned)page->used, (unsigned)page->retire_expire);
  error_count = 0;
  CHECKF(_mi_heap_is_valid(heap) && error_count == 0, "the heap is valid afterwards");

  mi_free(large);
  mi_free(other);
  mi_heap_delete(heap);
  mi_register_error(NULL, NULL);
  return test_report();
}
