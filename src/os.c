/* SPDX-License-Identifier: MIT */
/* Policy over the OS layer: alignment, accounting, purging. Calls only
   prim; everything above calls this instead of prim for memory. */
#include "mica/internal.h"

static mi_os_info_t mi_os_info = { 4096, 4096, true, true };

void _mi_os_init(void) {
  _mi_prim_os_info(&mi_os_info);
}

size_t _mi_os_page_size(void)     { return mi_os_info.page_size; }
bool   _mi_os_has_overcommit(void) { return mi_os_info.has_overcommit; }

uint32_t _mi_os_clock_now(void) {
  uint32_t now = (uint32_t)_mi_prim_clock_msecs();
  return (now == 0 ? 1 : now);   /* 0 means "no deadline" in expiry fields */
}

/* `commit`: map read-write; `account`: count it as committed now (arenas
   count their units only when a segment claims them). */
static void* mi_os_mmap(size_t size, bool commit, bool account) {
  void* p = NULL;
  int err = _mi_prim_mmap(size, commit, &p);
  _mi_stats_increase(&_mi_stats.mmap_calls, 1);
  if (err != 0 || p == NULL) {
    _mi_message_warning("unable to allocate %zu bytes of OS memory (error %d)\n", size, err);
    return NULL;
  }
  _mi_stats_increase(&_mi_stats.reserved, size);
  if (commit && account) _mi_stats_increase(&_mi_stats.committed, size);
  return p;
}

static void mi_os_munmap(void* p, size_t size, bool account) {
  if (p == NULL || size == 0) return;
  int err = _mi_prim_munmap(p, size);
  if (err != 0) _mi_message_warning("unable to free OS memory at %p of %zu bytes (error %d)\n", p, size, err);
  _mi_stats_decrease(&_mi_stats.reserved, size);
  if (account) _mi_stats_decrease(&_mi_stats.committed, size);
}

void _mi_os_free(void* p, size_t size) {
  mi_os_munmap(p, size, true);
}

void* _mi_os_alloc(size_t size, bool* is_zero) {
  size = _mi_align_up(size, _mi_os_page_size());
  void* p = mi_os_mmap(size, true, true);
  if (is_zero != NULL) *is_zero = true;
  return p;
}

/* Aligned allocation: map size+alignment and unmap both ends (one mmap,
   at most two munmaps). `account`: count the result as committed now. */
static void* mi_os_alloc_aligned_ex(size_t size, size_t alignment, bool commit, bool account, bool* is_zero) {
  mi_assert(_mi_is_power_of_two(alignment));
  size = _mi_align_up(size, _mi_os_page_size());
  if (alignment < _mi_os_page_size()) alignment = _mi_os_page_size();
  if (is_zero != NULL) *is_zero = true;
  if (alignment == _mi_os_page_size()) return mi_os_mmap(size, commit, account);
  if (size + alignment < size) return NULL;   /* overflow */
  const size_t over_size = size + alignment;
  uint8_t* q = (uint8_t*)mi_os_mmap(over_size, commit, account);
  if (q == NULL) return NULL;
  uint8_t* aligned = (uint8_t*)_mi_align_up((uintptr_t)q, alignment);
  const size_t pre = (size_t)(aligned - q);
  const size_t post = over_size - pre - size;
  if (pre > 0)  mi_os_munmap(q, pre, account && commit);
  if (post > 0) mi_os_munmap(aligned + size, post, account && commit);
  mi_assert(((uintptr_t)aligned & (alignment - 1)) == 0);
  return aligned;
}

void* _mi_os_alloc_aligned(size_t size, size_t alignment, bool commit, bool* is_zero) {
  return mi_os_alloc_aligned_ex(size, alignment, commit, commit, is_zero);
}

/* An arena reservation: accessible when the kernel overcommits, but
   counted as committed only unit by unit, as segments claim it. */
void* _mi_os_reserve_aligned(size_t size, size_t alignment, bool accessible) {
  return mi_os_alloc_aligned_ex(size, alignment, accessible, false, NULL);
}

void _mi_os_unreserve(void* p, size_t size) {
  mi_os_munmap(p, size, false);
}

/* Account for reserved memory that became (or stopped being) used. */
void _mi_os_account_commit(size_t size, bool increase) {
  if (increase) _mi_stats_increase(&_mi_stats.committed, size);
  else _mi_stats_decrease(&_mi_stats.committed, size);
}

bool _mi_os_commit(void* p, size_t size) {
  /* whole OS pages, outward: a 32 KiB slice may be half of a 64 KiB page
     (its neighbour's half is then committed too, which is harmless) */
  const size_t psize = _mi_os_page_size();
  uint8_t* const start = (uint8_t*)_mi_align_down((uintptr_t)p, psize);
  uint8_t* const end = (uint8_t*)_mi_align_up((uintptr_t)p + size, psize);
  p = start;
  size = (size_t)(end - start);
  int err = _mi_prim_commit(p, size);
  if (err != 0) {
    _mi_message_warning("unable to commit OS memory at %p of %zu bytes (error %d)\n", p, size, err);
    return false;
  }
  return true;
}

/* Guard pages (MI_SECURE, guarded sampling): [p, p+size), whole OS pages,
   becomes inaccessible (protect) or read-write again; contents are kept. */
bool _mi_os_protect(void* p, size_t size, bool protect) {
  mi_assert_internal(((uintptr_t)p | size) % _mi_os_page_size() == 0);
  const int err = _mi_prim_protect(p, size, protect);
  if (err != 0) {
    _mi_message_warning("unable to %sprotect OS memory at %p of %zu bytes (error %d)\n", protect ? "" : "un", p, size, err);
    return false;
  }
  return true;
}

/* The OS pages wholly inside [p, p+size): what a purge or a populate reaches. */
uint8_t* _mi_os_whole_pages(void* p, size_t size, size_t* len) {
  const size_t psize = _mi_os_page_size();
  uint8_t* const start = (uint8_t*)_mi_align_up((uintptr_t)p, psize);
  uint8_t* const end = (uint8_t*)_mi_align_down((uintptr_t)p + size, psize);
  *len = (end > start ? (size_t)(end - start) : 0);
  return start;
}

/* Give the memory of [p, p+size) back to the OS. The range keeps its
   address and access (reads as zero afterwards), unless `allow_decommit`
   and (purge_decommits is set or the kernel does not overcommit): then it is
   decommitted and must be committed again before use. Returns whether it
   was decommitted. */
bool _mi_os_purge(void* p, size_t size, bool allow_decommit) {
  size_t len;
  uint8_t* const start = _mi_os_whole_pages(p, size, &len);
  if (len == 0) return false;
  _mi_stats_increase(&_mi_stats.purges, len);
  _mi_stats_increase(&_mi_stats.purge_calls, 1);
  const bool decommit = allow_decommit && (mi_option_is_enabled(mi_option_purge_decommits) || !_mi_os_has_overcommit());
  int err = (decommit ? _mi_prim_decommit(start, len) : _mi_prim_reset(start, len));
  if (err != 0) _mi_message_warning("unable to purge OS memory at %p of %zu bytes (error %d)\n", (void*)start, len, err);
  return decommit;
}

/* Fault the OS pages wholly inside [p, p+size) in now, read-write: one
   call where touching them would take a page fault each (a fault costs
   about twice as much per page, doc/benchmarks.md). Advice only: where the
   kernel does not support it, the first failure turns it off and the pages
   fault in as they are touched. */
static mi_atomic(uintptr_t) mi_os_populate_off;

void _mi_os_populate(void* p, size_t size) {
  if (mi_atomic_load_relaxed(&mi_os_populate_off) != 0) return;
  size_t len;
  uint8_t* const start = _mi_os_whole_pages(p, size, &len);
  if (len == 0) return;
  _mi_stats_increase(&_mi_stats.populates, len);
  const int err = _mi_prim_populate(start, len);
  if (err != 0) {
    mi_atomic_store_relaxed(&mi_os_populate_off, 1);
    _mi_message_verbose("populating memory is not available (error %d): pages fault in when touched\n", err);
  }
}

/* ---------------------------------------------------------------------------
   Large pages and NUMA
--------------------------------------------------------------------------- */
/* Ask for transparent huge pages on an arena (allow_large_os_pages), unless
   allow_thp is off. Advice only: failure costs nothing. */
void _mi_os_advise_huge(void* p, size_t size) {
  if (!mi_option_is_enabled(mi_option_allow_thp)) return;
  const int err = _mi_prim_advise_huge(p, size);
  if (err != 0) _mi_message_verbose("transparent huge pages not available for %p (error %d)\n", p, err);
}

/* allow_thp = 0 turns transparent huge pages off for the whole process, as
   in mimalloc (some programs lose memory to them). */
void _mi_os_thp_init(void) {
  if (mi_option_is_enabled(mi_option_allow_thp)) return;
  const int err = _mi_prim_thp_disable();
  if (err != 0) _mi_message_warning("unable to disable transparent huge pages (error %d)\n", err);
}

/* `size` bytes (a multiple of 1 GiB) of reserved huge OS pages: 1 GiB
   pages, else 2 MiB pages; aligned to MI_SEGMENT_SIZE, bound to
   `numa_node` (>= 0). NULL when the kernel has not enough reserved. */
void* _mi_os_alloc_huge_pages(size_t size, int numa_node, size_t* page_size) {
  static const size_t sizes[2] = { (size_t)1 << 30, (size_t)2 << 20 };
  for (size_t i = 0; i < 2; i++) {
    const size_t psize = sizes[i];
    /* a smaller page than a segment: map one extra segment's worth and trim it to alignment */
    const size_t extra = (psize < MI_SEGMENT_SIZE ? MI_SEGMENT_SIZE : 0);
    void* p = NULL;
    if (_mi_prim_mmap_huge(size + extra, psize, &p) != 0 || p == NULL) continue;
    uint8_t* start = (uint8_t*)p;
    if (extra > 0) {
      start = (uint8_t*)_mi_align_up((uintptr_t)p, MI_SEGMENT_SIZE);
      const size_t pre = (size_t)(start - (uint8_t*)p);
      if (pre > 0) _mi_prim_munmap(p, pre);
      if (extra - pre > 0) _mi_prim_munmap(start + size, extra - pre);
    }
    _mi_stats_increase(&_mi_stats.reserved, size);
    _mi_stats_increase(&_mi_stats.mmap_calls, 1);
    if (numa_node >= 0) _mi_os_numa_bind(start, size, numa_node);
    *page_size = psize;
    _mi_message_verbose("reserved %zu MiB of %zu KiB huge OS pages at %p\n", size >> 20, psize >> 10, (void*)start);
    return start;
  }
  return NULL;
}

void _mi_os_free_huge_pages(void* p, size_t size) {
  mi_os_munmap(p, size, false);
}

static mi_atomic(uintptr_t) mi_numa_node_count;   /* 0: not yet known */

size_t _mi_os_numa_node_count(void) {
  size_t count = (size_t)mi_atomic_load_relaxed(&mi_numa_node_count);
  if (mi_unlikely(count == 0)) {
    count = _mi_prim_numa_node_count();
    if (count == 0) count = 1;
    const long limit = mi_option_get(mi_option_use_numa_nodes);   /* > 0: use at most this many */
    if (limit > 0 && (size_t)limit < count) count = (size_t)limit;
    mi_atomic_store_relaxed(&mi_numa_node_count, count);
    _mi_message_verbose("using %zu numa node%s\n", count, count == 1 ? "" : "s");
  }
  return count;
}

/* Pretend there are `count` nodes (0: ask the OS again), so the multi-node
   logic can be tested on any machine. */
void _mi_os_numa_node_count_set(size_t count) {
  mi_atomic_store_relaxed(&mi_numa_node_count, count);
}

/* The node of the CPU the calling thread runs on (0 on single-node machines). */
size_t _mi_os_numa_node(void) {
  const size_t count = _mi_os_numa_node_count();
  if (count <= 1) return 0;
  return _mi_prim_numa_node() % count;
}

/* Node `node`'s share when `total` items are spread over `nodes` nodes. */
size_t _mi_os_numa_share(size_t total, size_t nodes, size_t node) {
  if (nodes == 0) return 0;
  return total / nodes + (node < total % nodes ? 1 : 0);
}

/* Prefer node `node` for [p, p+size); a failure (a node the machine does
   not have) only costs locality. */
void _mi_os_numa_bind(void* p, size_t size, int node) {
  if (node < 0) return;
  const int err = _mi_prim_numa_bind(p, size, (size_t)node);
  if (err != 0) _mi_message_verbose("unable to bind %p to numa node %d (error %d)\n", p, node, err);
}
