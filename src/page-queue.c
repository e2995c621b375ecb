/* SPDX-License-Identifier: MIT */
/* The heap's page queues, one per size class (bin.c). Owner thread only. */
#include "mica/internal.h"

mi_page_queue_t* _mi_page_queue_in(mi_heap_t* heap, const mi_page_t* page) {
  /* huge pages by kind: a huge-aligned page may have a small block size */
  const size_t bin = (mi_page_is_full(page) ? MI_BIN_FULL : (mi_page_is_huge(page) ? MI_BIN_HUGE : _mi_bin(mi_page_block_size(page))));
  return &heap->pages[bin];
}

mi_page_queue_t* _mi_page_queue_of(const mi_page_t* page) {
  return _mi_page_queue_in(mi_page_heap(page), page);
}

static bool mi_page_queue_is_full(const mi_page_queue_t* pq)  { return pq->block_size == MI_FULL_QUEUE_SIZE; }

/* Keep pages_free_direct in step with the first page of a small queue; a
   heap that samples (guarded.c) keeps it empty, so that every allocation
   takes the generic path and is counted. */
static void mi_heap_queue_first_update(mi_heap_t* heap, const mi_page_queue_t* pq) {
  const size_t size = pq->block_size;
  if (size > MI_SMALL_SIZE_MAX) return;
  mi_page_t* page = (pq->first != NULL && heap->guarded_sample_rate == 0 ? pq->first : (mi_page_t*)&_mi_page_empty);
  const size_t idx = (size_t)(pq - heap->pages);   /* the bin */
  const size_t end = size >> MI_DIRECT_SHIFT;
  size_t start = 0;
  if (idx > 1) {
    /* the sizes above the class below; above MI_BIN_FINE_MAX only every
       other class is used, and an unused one's sizes are this bin's */
    size_t below = idx - 1;
    if (below > 1 && _mi_bin(_mi_bin_size(below)) == idx) below--;
    start = (_mi_bin_size(below) >> MI_DIRECT_SHIFT) + 1;
  }
  if (heap->pages_free_direct[end] == page) return;   /* already right */
  for (size_t g = start; g <= end; g++) heap->pages_free_direct[g] = page;
}

/* After the heap's sample rate changed: every pages_free_direct entry again. */
void _mi_page_queue_direct_reset(mi_heap_t* heap) {
  for (size_t bin = 0; bin < MI_BIN_FULL; bin++) mi_heap_queue_first_update(heap, &heap->pages[bin]);
}

void _mi_page_queue_remove(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page) {
  mi_assert_internal(heap->page_count > 0 && mi_page_heap(page) == heap && _mi_page_queue_in(heap, page) == queue);
  if (page->prev != NULL) page->prev->next = page->next;
  if (page->next != NULL) page->next->prev = page->prev;
  if (page == queue->last) queue->last = page->prev;
  if (page == queue->first) {
    queue->first = page->next;
    mi_heap_queue_first_update(heap, queue);
  }
  heap->page_count--;
  page->next = page->prev = NULL;
  mi_page_set_in_full(page, false);
}

void _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page) {
  mi_assert(page->next == NULL && page->prev == NULL && queue->first != page);
  mi_page_set_in_full(page, mi_page_queue_is_full(queue));
  page->next = queue->first;
  page->prev = NULL;
  if (queue->first != NULL) queue->first->prev = page;
  else queue->last = page;
  queue->first = page;
  mi_heap_queue_first_update(heap, queue);
  heap->page_count++;
}

void _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page) {
  if (queue->first == page) return;
  _mi_page_queue_remove(heap, queue, page);
  _mi_page_queue_push(heap, queue, page);
}

/* Move `page` from `from` to the end of `to` (same heap). */
void _mi_page_queue_enqueue_from(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from, mi_page_t* page) {
  _mi_page_queue_remove(heap, from, page);
  page->prev = to->last;
  page->next = NULL;
  if (to->last != NULL) to->last->next = page;
  else { to->first = page; }
  to->last = page;
  if (to->first == page) mi_heap_queue_first_update(heap, to);
  heap->page_count++;
  mi_page_set_in_full(page, mi_page_queue_is_full(to));
}

/* Append all pages of `from` (another heap's queue) to `to`; returns the
   number of pages moved. Their heap becomes `heap`. */
size_t _mi_page_queue_append(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from) {
  if (from->first == NULL) return 0;
  size_t count = 0;
  for (mi_page_t* page = from->first; page != NULL; page = page->next) {
    mi_page_set_heap(page, heap);
    /* waits out any thread in DELAYED_FREEING, so from now on delayed frees
       reach the new heap */
    _mi_page_use_delayed_free(page, MI_USE_DELAYED_FREE, false);
    count++;
  }
  if (to->last == NULL) {
    to->first = from->first;
    to->last = from->last;
    mi_heap_queue_first_update(heap, to);
  } else {
    to->last->next = from->first;
    from->first->prev = to->last;
    to->last = from->last;
  }
  from->first = from->last = NULL;
  heap->page_count += count;
  return count;
}
