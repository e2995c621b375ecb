/* SPDX-License-Identifier: MIT */
/* Runtime support (doc/embedding.md, "Runtime support"), as a language
   runtime with lock-free readers uses it: mica compiled into this unit with
   the page-reuse hooks named before the include (as CPython's obmalloc.c
   does), backed here by a small QSBR of the test's own: a global write
   sequence that every delayed page takes a goal from, and a read sequence
   that the test advances when its "readers" are quiescent.

   Checked: an emptied page of a QSBR heap stays reserved (in its heap, its
   size class, its memory not handed to another size class) until its goal
   is reached, then a collection gives it back; a heap without QSBR gives
   its empty pages back at once; an empty page waiting for its goal is
   abandoned with the thread's heap, and the reclaiming thread keeps it
   until the goal (PAGE_SAFE_TO_FREE, PAGE_RECLAIMED); the debug fills leave
   the heap's debug_offset bytes alone (MI_DEBUG >= 2 builds); heaps in the
   runtime's own thread state, its own pool (cases 6, 7); a visit of a
   paused thread's heap shows none of the blocks other threads freed into
   its full pages (case 8: CPython's collector crashed on one). */
#include <stdbool.h>
#include <stdint.h>

struct mi_page_s;
struct mi_page_queue_s;
struct mi_heap_s;
static void rt_page_reused(struct mi_page_s* page);
static bool rt_page_empty(struct mi_page_s* page, struct mi_page_queue_s* pq, bool force);
static void rt_page_abandoned(struct mi_page_s* page);
static bool rt_page_safe_to_free(struct mi_page_s* page);
static void rt_page_reclaimed(struct mi_page_s* page);
static void rt_heap_collect(struct mi_heap_s* heap);

#define MI_EMBED 1
#define MI_HOOK_PAGE_REUSED(page)           rt_page_reused(page)
#define MI_HOOK_PAGE_EMPTY(page, pq, force) rt_page_empty(page, pq, force)
#define MI_HOOK_PAGE_ABANDONED(page)        rt_page_abandoned(page)
#define MI_HOOK_PAGE_SAFE_TO_FREE(page)     rt_page_safe_to_free(page)
#define MI_HOOK_PAGE_RECLAIMED(page)        rt_page_reclaimed(page)
#define MI_HOOK_HEAP_COLLECT(heap)          rt_heap_collect(heap)
#include "static.c"

#include <pthread.h>
#include <string.h>
#include "test.h"

/* ---- the test's QSBR --------------------------------------------------- */
static uint64_t rt_wr_seq = 1;          /* goals are taken from here */
static uint64_t rt_rd_seq = 1;          /* every reader has passed this */
static _Thread_local mi_page_node_t rt_waiting;   /* this thread's delayed pages (a ring once used) */
static _Atomic size_t rt_calls_safe, rt_calls_reclaimed;

static bool rt_goal_reached(uint64_t goal) { return goal <= rt_rd_seq; }
static void rt_quiesce(void) { rt_rd_seq = rt_wr_seq; }   /* all readers are past every goal */

static void rt_list_init(void) { if (rt_waiting.next == NULL) rt_waiting.next = rt_waiting.prev = &rt_waiting; }
static void rt_unlink(mi_page_t* page) {
  mi_page_node_t* n = &page->qsbr_node;
  if (n->next == NULL) return;
  n->prev->next = n->next; n->next->prev = n->prev;
  n->next = n->prev = NULL;
}
static void rt_link(mi_page_t* page) {
  rt_list_init();
  mi_page_node_t* n = &page->qsbr_node;
  n->prev = rt_waiting.prev; n->next = &rt_waiting;
  rt_waiting.prev->next = n; rt_waiting.prev = n;
}
static mi_page_t* rt_page_of(mi_page_node_t* n) { return (mi_page_t*)((uint8_t*)n - offsetof(mi_page_t, qsbr_node)); }

static void rt_page_reused(mi_page_t* page) { page->qsbr_goal = 0; rt_unlink(page); }

static bool rt_page_empty(mi_page_t* page, mi_page_queue_t* pq, bool force) {
  if (page->use_qsbr && !(page->qsbr_goal != 0 && rt_goal_reached(page->qsbr_goal))) {
    rt_page_reused(page);
    page->retire_expire = 0;
    page->qsbr_goal = ++rt_wr_seq;   /* readers that started before now may still look */
    rt_link(page);
    return false;
  }
  rt_page_reused(page);
  _mi_page_free(page, pq, force);
  return true;
}

static void rt_page_abandoned(mi_page_t* page) { rt_unlink(page); }   /* the goal stays */

static bool rt_page_safe_to_free(mi_page_t* page) {
  rt_calls_safe++;
  if (!page->use_qsbr || page->qsbr_goal == 0 || rt_goal_reached(page->qsbr_goal)) { page->qsbr_goal = 0; return true; }
  return false;
}

static void rt_page_reclaimed(mi_page_t* page) {
  rt_calls_reclaimed++;
  if (page->qsbr_goal == 0) return;
  if (mi_page_all_free(page)) { page->retire_expire = 0; rt_link(page); }
  else page->qsbr_goal = 0;
}

static void rt_heap_collect(mi_heap_t* heap) {
  if (!heap->page_use_qsbr) return;
  rt_list_init();
  for (mi_page_node_t* n = rt_waiting.next; n != &rt_waiting; ) {
    mi_page_node_t* next = n->next;
    mi_page_t* page = rt_page_of(n);
    if (!mi_page_all_free(page)) rt_page_reused(page);
    else if (rt_goal_reached(page->qsbr_goal)) { rt_page_reused(page); _mi_page_free(page, _mi_page_queue_of(page), false); }
    n = next;
  }
}

/* ---- helpers ------------------------------------------------------------- */
#define RT_BLOCKS 200
static bool rt_in_page(const mi_page_t* page, const void* p) {
  size_t size;
  uint8_t* start = _mi_segment_page_start(_mi_page_segment(page), page, &size);
  return (const uint8_t*)p >= start && (const uint8_t*)p < start + size;
}
/* Does some block of `size` from `heap`, out of `n`, land in `page`'s area? */
static bool rt_lands_in(mi_heap_t* heap, const mi_page_t* page, size_t size, size_t n) {
  void* ps[64];
  bool hit = false;
  if (n > 64) n = 64;
  for (size_t i = 0; i < n; i++) { ps[i] = mi_heap_malloc(heap, size); hit |= rt_in_page(page, ps[i]); }
  for (size_t i = 0; i < n; i++) mi_free(ps[i]);
  return hit;
}

/* ---- 1: a QSBR heap's empty page waits for its goal ------------------- */
static void case_delayed_reuse(void) {
  mi_heap_t* heap = mi_heap_new();
  heap->page_use_qsbr = true;
  void* ps[RT_BLOCKS];
  for (int i = 0; i < RT_BLOCKS; i++) ps[i] = mi_heap_malloc(heap, 64);
  mi_page_t* page = _mi_ptr_page(ps[0]);
  CHECK(page->use_qsbr == 1);
  for (int i = 0; i < RT_BLOCKS; i++) if (_mi_ptr_page(ps[i]) == page) { mi_free(ps[i]); ps[i] = NULL; }
  CHECK(page->qsbr_goal == 0);   /* alone in its queue: retired first, kept for a few cycles */
  mi_heap_collect(heap, false);  /* mica would give it back now: the hook keeps it */
  CHECKF(page->used == 0 && page->qsbr_goal != 0, "emptied page: used %u, goal %llu", page->used, (unsigned long long)page->qsbr_goal);
  mi_heap_collect(heap, true);
  CHECKF(page->segment_in_use && mi_page_heap(page) == heap && page->qsbr_goal != 0,
         "before its goal a forced collection keeps the page (in use %d, heap %p)", page->segment_in_use, (void*)mi_page_heap(page));
  CHECK(!rt_lands_in(heap, page, 1024, 64));   /* its memory serves no other size class */
  rt_quiesce();
  mi_heap_collect(heap, true);
  CHECKF(!page->segment_in_use || mi_page_heap(page) != heap, "after its goal the collection gives the page back");
  CHECK(page->qsbr_goal == 0 && page->qsbr_node.next == NULL);
  for (int i = 0; i < RT_BLOCKS; i++) mi_free(ps[i]);
  mi_heap_delete(heap);
}

/* ---- 2: the same page reused in its size class meanwhile --------------- */
static void case_reused_meanwhile(void) {
  mi_heap_t* heap = mi_heap_new();
  heap->page_use_qsbr = true;
  void* p = mi_heap_malloc(heap, 48);
  mi_page_t* page = _mi_ptr_page(p);
  mi_free(p);
  mi_heap_collect(heap, false);
  const uint64_t goal = page->qsbr_goal;
  CHECK(goal != 0);
  void* q = mi_heap_malloc(heap, 48);   /* same size class: may take the waiting page */
  CHECK(_mi_ptr_page(q) == page);
  rt_quiesce();
  rt_heap_collect(heap);                /* not empty: its wait is void, it stays */
  CHECK(page->qsbr_goal == 0 && page->qsbr_node.next == NULL && mi_page_heap(page) == heap);
  mi_free(q);
  mi_heap_collect(heap, false);
  CHECK(page->qsbr_goal > goal);        /* emptied anew: a new goal */
  rt_quiesce();
  mi_heap_collect(heap, true);
  CHECK(!page->segment_in_use || mi_page_heap(page) != heap);
  mi_heap_delete(heap);
}

/* ---- 3: without QSBR, nothing waits ------------------------------------ */
static void case_no_qsbr(void) {
  mi_heap_t* heap = mi_heap_new();
  void* p = mi_heap_malloc(heap, 64);
  mi_page_t* page = _mi_ptr_page(p);
  CHECK(page->use_qsbr == 0);
  mi_free(p);
  mi_heap_collect(heap, true);
  CHECK(page->qsbr_goal == 0);
  CHECK(!page->segment_in_use || mi_page_heap(page) != heap);
  mi_heap_delete(heap);
}

/* ---- 4: a waiting page outlives its thread ----------------------------- */
static mi_page_t* rt_abandoned_page;
static void* rt_abandon_worker(void* arg) {
  (void)arg;
  mi_heap_t* heap = mi_heap_get_backing();
  heap->page_use_qsbr = true;
  void* keep = mi_heap_malloc(heap, 80);    /* a live block: the segment is abandoned, not freed */
  void* p = mi_heap_malloc(heap, 272);
  rt_abandoned_page = _mi_ptr_page(p);
  mi_free(p);
  _mi_heap_collect_abandon(heap);           /* as a runtime tears a thread's heaps down */
  CHECK(rt_abandoned_page->qsbr_goal != 0);
  CHECKF(rt_waiting.next == &rt_waiting && rt_abandoned_page->qsbr_node.next == NULL,
         "the abandoned page left the exiting thread's waiting list");
  CHECK(rt_abandoned_page->segment_in_use && mi_page_heap(rt_abandoned_page) == NULL);
  return keep;
}
static void case_abandoned_waits(void) {
  pthread_t t;
  void* keep = NULL;
  CHECK(pthread_create(&t, NULL, rt_abandon_worker, NULL) == 0);
  CHECK(pthread_join(t, &keep) == 0);
  mi_page_t* page = rt_abandoned_page;
  mi_heap_t* heap = mi_heap_get_backing();
  const size_t safe_before = rt_calls_safe, reclaimed_before = rt_calls_reclaimed;
  mi_heap_collect(heap, true);              /* reclaims what exited threads left */
  CHECKF(rt_calls_safe > safe_before, "reclaiming asked whether the empty page may go");
  CHECKF(page->segment_in_use && mi_page_heap(page) == heap && rt_calls_reclaimed > reclaimed_before,
         "before its goal the empty page joins the reclaiming heap (heap %p)", (void*)mi_page_heap(page));
  CHECK(page->qsbr_node.next != NULL);      /* on this thread's waiting list now */
  rt_quiesce();
  heap->page_use_qsbr = true;               /* the backing heap collects its waiting list */
  mi_heap_collect(heap, true);
  heap->page_use_qsbr = false;
  CHECK(!page->segment_in_use || mi_page_heap(page) != heap);
  mi_free(keep);
}

/* ---- 5: debug fills leave debug_offset bytes alone ---------------------- */
static void case_debug_offset(void) {
#if MI_DEBUG_FILL
  mi_heap_t* heap = mi_heap_new();
  heap->debug_offset = 24;
  uint8_t* p = (uint8_t*)mi_heap_malloc(heap, 64);
  uint8_t* q = (uint8_t*)mi_heap_malloc(heap, 64);   /* keeps the page from emptying */
  CHECK(p[24] == MI_DEBUG_UNINIT && p[63] == MI_DEBUG_UNINIT);
  memset(p, 0xAB, 64);
  mi_free(p);
  bool kept = true, filled = true;   /* reading the freed block is the point */
  for (int i = 8; i < 24; i++) kept &= (p[i] == 0xAB);     /* after the link word, before the offset */
  for (int i = 24; i < 64; i++) filled &= (p[i] == MI_DEBUG_FREED);
  CHECKF(kept, "bytes 8..23 of a freed block are the program's");
  CHECKF(filled, "bytes 24..63 of a freed block are MI_DEBUG_FREED");
  mi_free(q);
  mi_heap_delete(heap);
#endif
}

/* ---- 6: thread data and heaps the runtime owns, a pool of its own ------ */
typedef struct rt_tstate_s {   /* a runtime's thread state: mica's structures by value */
  mi_tld_t  tld;
  mi_heap_t heaps[3];          /* tags 0, 1, 2; heaps[0] is the backing heap */
} rt_tstate_t;
static mi_subproc_t rt_pool;   /* zero: an empty pool, never initialised */
static void rt_tstate_bind(rt_tstate_t* ts) {
  _mi_thread_tld_init(&ts->tld, &ts->heaps[0]);
  ts->tld.segments.abandoned = &rt_pool;
  for (int i = 0; i < 3; i++) _mi_heap_init(&ts->heaps[i], &ts->tld, false, (uint8_t)i, 0);
}
static void rt_tstate_clear(rt_tstate_t* ts) {
  for (int i = 0; i < 3; i++) _mi_heap_collect_abandon(&ts->heaps[i]);
}
typedef struct rt_count_s { size_t blocks[3]; size_t areas_bad; } rt_count_t;
static bool rt_count_visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)size;
  rt_count_t* c = (rt_count_t*)arg;
  if (heap != NULL || area->heap_tag < 0 || area->heap_tag > 2) c->areas_bad++;
  else if (block != NULL) c->blocks[area->heap_tag]++;
  return true;
}

#define RT_LIVE 300
static void* rt_owned_worker(void* arg) {
  void** live = (void**)arg;
  rt_tstate_t* ts = (rt_tstate_t*)calloc(1, sizeof(rt_tstate_t));   /* the runtime's own memory */
  rt_tstate_bind(ts);
  for (int i = 0; i < RT_LIVE; i++) {
    const int tag = i % 3;
    live[i] = mi_heap_malloc(&ts->heaps[tag], 32 + 16 * (size_t)tag);
    void* dropped = mi_heap_malloc(&ts->heaps[tag], 32 + 16 * (size_t)tag);
    mi_free(dropped);
  }
  CHECK(_mi_ptr_segment(live[0])->thread_id == mi_thread_id());   /* mimalloc's field name, the owner's id */
  CHECK(mi_heap_get_default() != &ts->heaps[0]);                  /* the runtime's heaps are not the thread's default */
  rt_tstate_clear(ts);
  rt_tstate_clear(ts);                                             /* twice, as CPython's finalisation does */
  free(ts);
  return NULL;
}
static void case_runtime_owned(void) {
  static void* live[RT_LIVE];
  rt_tstate_t zero;
  memset(&zero, 0, sizeof(zero));
  rt_count_t none = { {0, 0, 0}, 0 };
  mi_heap_visit_blocks(&zero.heaps[1], true, rt_count_visitor, &none);   /* a state not yet bound */
  CHECK(none.blocks[0] + none.blocks[1] + none.blocks[2] + none.areas_bad == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, rt_owned_worker, live) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(_mi_ptr_segment(live[0])->thread_id == 0, "an abandoned segment's thread_id is 0");
  CHECKF(rt_pool.abandoned_first != NULL, "the exited thread's segments are in the runtime's pool");
  rt_count_t c = { {0, 0, 0}, 0 };
  for (int tag = 0; tag < 3; tag++) CHECK(_mi_segment_abandoned_visit(&rt_pool, tag, true, rt_count_visitor, &c));
  CHECKF(c.blocks[0] == RT_LIVE / 3 && c.blocks[1] == RT_LIVE / 3 && c.blocks[2] == RT_LIVE / 3 && c.areas_bad == 0,
         "visiting the pool by tag finds the live blocks: %zu %zu %zu (bad areas %zu)", c.blocks[0], c.blocks[1], c.blocks[2], c.areas_bad);
  /* a thread of the same runtime takes the segments over: each page goes to its heap of the page's tag */
  rt_tstate_t* ts = (rt_tstate_t*)calloc(1, sizeof(rt_tstate_t));
  rt_tstate_bind(ts);
  mi_heap_collect(&ts->heaps[0], true);   /* the backing heap reclaims what exited threads left */
  CHECKF(rt_pool.abandoned_first == NULL, "reclaimed");
  size_t wrong = 0;
  for (int i = 0; i < RT_LIVE; i++) {
    mi_page_t* page = _mi_ptr_page(live[i]);
    if (mi_page_heap(page) != &ts->heaps[i % 3] || page->heap_tag != i % 3) wrong++;
  }
  CHECKF(wrong == 0, "%zu of %d blocks' pages went to a heap of another tag", wrong, RT_LIVE);
  CHECK(_mi_ptr_segment(live[0])->thread_id == mi_thread_id());
  for (int i = 0; i < RT_LIVE; i++) mi_free(live[i]);
  rt_tstate_clear(ts);
  free(ts);
}

/* ---- 7: another thread clears the state of a thread that is gone ------ */
static void* rt_gone_worker(void* arg) {
  void** out = (void**)arg;
  rt_tstate_t* ts = (rt_tstate_t*)calloc(1, sizeof(rt_tstate_t));
  rt_tstate_bind(ts);
  for (int i = 0; i < RT_LIVE; i++) out[i] = mi_heap_malloc(&ts->heaps[i % 3], 24 + 8 * (size_t)(i % 5));
  for (int i = 0; i < RT_LIVE; i += 2) { mi_free(out[i]); out[i] = NULL; }
  out[RT_LIVE] = ts;   /* exits without clearing: the runtime clears it later, from another thread */
  return NULL;
}
static void case_cleared_by_another(void) {
  static void* out[RT_LIVE + 1];
  pthread_t t;
  CHECK(pthread_create(&t, NULL, rt_gone_worker, out) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  rt_tstate_t* ts = (rt_tstate_t*)out[RT_LIVE];
  rt_tstate_clear(ts);                     /* this thread does not own these heaps */
  free(ts);
  size_t abandoned = 0;
  for (int i = 1; i < RT_LIVE; i += 2) abandoned += (_mi_ptr_segment(out[i])->thread_id == 0);
  CHECKF(abandoned == RT_LIVE / 2, "the gone thread's segments are abandoned (%zu of %d blocks)", abandoned, RT_LIVE / 2);
  rt_count_t c = { {0, 0, 0}, 0 };
  for (int tag = 0; tag < 3; tag++) CHECK(_mi_segment_abandoned_visit(&rt_pool, tag, true, rt_count_visitor, &c));
  CHECKF(c.blocks[0] + c.blocks[1] + c.blocks[2] == RT_LIVE / 2 && c.areas_bad == 0, "the pool holds the %d live blocks (%zu)",
         RT_LIVE / 2, c.blocks[0] + c.blocks[1] + c.blocks[2]);
  for (int i = 1; i < RT_LIVE; i += 2) mi_free(out[i]);   /* frees into abandoned segments */
  rt_tstate_t* mine = (rt_tstate_t*)calloc(1, sizeof(rt_tstate_t));
  rt_tstate_bind(mine);
  mi_heap_collect(&mine->heaps[0], true);   /* reclaims, and gives the empty segments back */
  CHECKF(rt_pool.abandoned_first == NULL, "nothing left in the pool");
  rt_tstate_clear(mine);
  free(mine);
}

/* ---- 8: a stop-the-world visit of a paused thread's heap --------------- */
#define RT_FULL 4000   /* 64-byte blocks: several full pages */
static void* rt_paused_blocks[RT_FULL];
static rt_tstate_t* rt_paused_ts;
static pthread_mutex_t rt_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_cond = PTHREAD_COND_INITIALIZER;
static int rt_phase;   /* 1: the worker is paused; 2: it may go on */
static void rt_phase_set(int phase) {
  pthread_mutex_lock(&rt_mutex); rt_phase = phase; pthread_cond_broadcast(&rt_cond); pthread_mutex_unlock(&rt_mutex);
}
static void rt_phase_wait(int phase) {
  pthread_mutex_lock(&rt_mutex); while (rt_phase < phase) pthread_cond_wait(&rt_cond, &rt_mutex); pthread_mutex_unlock(&rt_mutex);
}
static void* rt_paused_worker(void* arg) {
  (void)arg;
  rt_tstate_t* ts = (rt_tstate_t*)calloc(1, sizeof(rt_tstate_t));
  rt_tstate_bind(ts);
  for (int i = 0; i < RT_FULL; i++) rt_paused_blocks[i] = mi_heap_malloc(&ts->heaps[1], 64);
  rt_paused_ts = ts;
  rt_phase_set(1);
  rt_phase_wait(2);   /* paused: another thread frees and visits meanwhile */
  for (int i = 0; i < RT_FULL; i++) {   /* the heap works on */
    if (rt_paused_blocks[i] == NULL) rt_paused_blocks[i] = mi_heap_malloc(&ts->heaps[1], 64);
  }
  for (int i = 0; i < RT_FULL; i++) mi_free(rt_paused_blocks[i]);
  rt_tstate_clear(ts);
  free(ts);
  return NULL;
}
static bool rt_live_visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area; (void)size;
  if (block != NULL) (*(size_t*)arg)++;
  return true;
}
static void case_stop_the_world_visit(void) {
  pthread_t t;
  rt_phase = 0;
  CHECK(pthread_create(&t, NULL, rt_paused_worker, NULL) == 0);
  rt_phase_wait(1);
  /* free every 7th block from here: the first free into each full page goes
     to the owner heap's delayed-free list, the others to the page */
  size_t freed = 0;
  for (int i = 0; i < RT_FULL; i += 7) {
    mi_free(rt_paused_blocks[i]);
    rt_paused_blocks[i] = NULL;
    freed++;
  }
  CHECK(mi_atomic_load_relaxed(&rt_paused_ts->heaps[1].xthread_delayed_free) != 0);   /* the case under test */
  /* CPython's collector takes every block it is shown for an object */
  size_t shown = 0;
  CHECK(mi_heap_visit_blocks(&rt_paused_ts->heaps[1], true, rt_live_visitor, &shown));
  CHECKF(shown == RT_FULL - freed, "the visit shows %zu blocks, %zu are live", shown, (size_t)RT_FULL - freed);
  rt_phase_set(2);
  CHECK(pthread_join(t, NULL) == 0);
}

int main(void) {
  case_stop_the_world_visit();
  case_delayed_reuse();
  case_reused_meanwhile();
  case_no_qsbr();
  case_abandoned_waits();
  case_debug_offset();
  case_runtime_owned();
  case_cleared_by_another();
  return test_report();
}
