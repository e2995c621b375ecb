/* Arenas: large reservations split into MI_SEGMENT_SIZE units that are
   handed out as segments, with delayed purging of freed units.

   The descriptors live in a static, cache-line aligned array (every atomic
   in them is a word or a 32-bit value, naturally aligned: see types.h).
   Protocol per unit, all bits in word-sized atomic bitmaps:
     in_use     claimed by a segment, or by a purger while it purges
     purge      free but still resident; set by the freeing thread before it
                releases in_use, cleared by the next claimer or the purger
     dirty      may hold non-zero bytes (cleared by a purge)
     committed  accessible (only cleared when a purge decommits)
   A purger first claims the free units it purges (in_use), so a purge can
   never race with a segment that is being handed out.
   A new arena is published under MI_LOCK_ARENA: fields first, then xstart
   (release), then the count (release); readers load the count (acquire). */
#include "mica/internal.h"

static mi_arena_t mi_arenas[MI_MAX_ARENAS];
static mi_atomic(uintptr_t) mi_arena_count_;

_Static_assert(_Alignof(mi_arena_t) >= MI_CACHE_LINE, "arena descriptors are cache-line aligned");

size_t _mi_arena_count(void) { return (size_t)mi_atomic_load_acquire(&mi_arena_count_); }

static uint8_t* mi_arena_start(mi_arena_t* arena) {
  return (uint8_t*)mi_atomic_load_acquire(&arena->xstart);
}

/* Reserve a new arena of `size` bytes (rounded to whole segment units,
   at most MI_ARENA_SEGMENTS). Returns 0 or an errno value. */
int _mi_arena_reserve(size_t size) {
  size = _mi_align_up(size, MI_SEGMENT_SIZE);
  if (size == 0) return EINVAL;
  if (size > MI_ARENA_SIZE) size = MI_ARENA_SIZE;
  const bool commit = _mi_os_has_overcommit();   /* else units are committed when claimed */
  void* start = _mi_os_reserve_aligned(size, MI_SEGMENT_SIZE, commit);
  if (start == NULL) return ENOMEM;
  if (!_mi_segment_map_covers((uintptr_t)start + size - 1)) {
    _mi_os_unreserve(start, size);   /* beyond what the segment map covers */
    return ENOMEM;
  }
  _mi_prim_lock(MI_LOCK_ARENA);
  const size_t idx = (size_t)mi_atomic_load_relaxed(&mi_arena_count_);
  if (idx >= MI_MAX_ARENAS) {
    _mi_prim_unlock(MI_LOCK_ARENA);
    _mi_os_unreserve(start, size);
    return ENOMEM;
  }
  mi_arena_t* arena = &mi_arenas[idx];
  arena->unit_count = size / MI_SEGMENT_SIZE;
  mi_atomic_store_relaxed(&arena->purge_expire, 0);
  for (size_t i = 0; i < MI_ARENA_MAP_WORDS; i++) {
    mi_atomic_store_relaxed(&arena->in_use[i], 0);
    mi_atomic_store_relaxed(&arena->dirty[i], 0);
    mi_atomic_store_relaxed(&arena->purge[i], 0);
    mi_atomic_store_relaxed(&arena->committed[i], 0);
  }
  /* units beyond the reservation are permanently "in use" */
  if (arena->unit_count < MI_ARENA_MAP_WORDS * MI_INTPTR_BITS) {
    _mi_bitmap_set(arena->in_use, arena->unit_count, MI_ARENA_MAP_WORDS * MI_INTPTR_BITS - arena->unit_count);
  }
  if (commit) _mi_bitmap_set(arena->committed, 0, arena->unit_count);
  mi_atomic_store_release(&arena->xstart, (uintptr_t)start);
  mi_atomic_store_release(&mi_arena_count_, idx + 1);
  _mi_prim_unlock(MI_LOCK_ARENA);
  _mi_verbose_message("reserved arena %zu: %zu MiB at %p\n", idx, size / (1024 * 1024), start);
  return 0;
}

static void* mi_arena_try_alloc_in(size_t arena_idx, size_t units, mi_memid_t* memid) {
  mi_arena_t* arena = &mi_arenas[arena_idx];
  size_t bit;
  if (!_mi_bitmap_try_claim(arena->in_use, MI_ARENA_MAP_WORDS, units, &bit)) return NULL;
  uint8_t* p = mi_arena_start(arena) + bit * MI_SEGMENT_SIZE;
  _mi_bitmap_clear(arena->purge, bit, units);              /* reused before its purge: nothing to do */
  memid->is_zero = !_mi_bitmap_is_any_set(arena->dirty, bit, units);
  _mi_bitmap_set(arena->dirty, bit, units);
  bool committed = true;
  for (size_t i = 0; i < units && committed; i++) committed = _mi_bitmap_is_any_set(arena->committed, bit + i, 1);
  if (!committed) {
    /* commit the whole range (idempotent on units that are committed) */
    if (!_mi_os_commit(p, units * MI_SEGMENT_SIZE)) {
      _mi_bitmap_clear(arena->in_use, bit, units);
      return NULL;
    }
    _mi_bitmap_set(arena->committed, bit, units);
  }
  _mi_os_account_commit(units * MI_SEGMENT_SIZE, true);
  memid->arena_idx = (uint32_t)(arena_idx + 1);
  memid->block_idx = (uint32_t)bit;
  memid->units = units;
  return p;
}

/* Memory for a segment of `size` bytes, MI_SEGMENT_SIZE aligned: from an
   arena when one can hold it, else straight from the OS. */
void* _mi_arena_alloc_segment(size_t size, mi_memid_t* memid) {
  memset(memid, 0, sizeof(*memid));
  const size_t units = _mi_divide_up(size, MI_SEGMENT_SIZE);
  if (units <= MI_INTPTR_BITS && units <= MI_ARENA_SEGMENTS) {
    for (int attempt = 0; attempt < 2; attempt++) {
      const size_t count = _mi_arena_count();
      for (size_t i = 0; i < count; i++) {
        void* p = mi_arena_try_alloc_in(i, units, memid);
        if (p != NULL) return p;
      }
      if (attempt == 0) {
        size_t reserve = mi_option_get_size(mi_option_arena_reserve);
        if (reserve < units * MI_SEGMENT_SIZE) reserve = units * MI_SEGMENT_SIZE;
        if (_mi_arena_reserve(reserve) != 0 && _mi_arena_count() == count) break;
      }
    }
  }
  if (mi_option_is_enabled(mi_option_limit_os_alloc)) return NULL;
  /* straight from the OS: huge blocks, or no arena could be reserved */
  bool is_zero = false;
  void* p = _mi_os_alloc_aligned(size, MI_SEGMENT_SIZE, true, &is_zero);
  if (p != NULL && !_mi_segment_map_covers((uintptr_t)p + size - 1)) {
    _mi_os_free(p, size);
    return NULL;
  }
  memid->is_zero = is_zero;
  return p;
}

static void mi_arena_schedule_purge(mi_arena_t* arena, long delay) {
  const uint32_t expire = _mi_clock_now() + (uint32_t)delay;
  uint32_t expected = 0;
  /* keep an earlier deadline; a later free does not postpone it */
  mi_atomic_cas_strong_acq_rel(&arena->purge_expire, &expected, (expire == 0 ? 1 : expire));
}

static void mi_arena_purge_range(mi_arena_t* arena, size_t bit, size_t units) {
  uint8_t* p = mi_arena_start(arena) + bit * MI_SEGMENT_SIZE;
  const bool decommitted = _mi_os_purge(p, units * MI_SEGMENT_SIZE, true);
  _mi_bitmap_clear(arena->dirty, bit, units);
  if (decommitted) _mi_bitmap_clear(arena->committed, bit, units);
}

void _mi_arena_free_segment(void* p, size_t size, mi_memid_t memid) {
  if (memid.arena_idx == 0) {
    _mi_os_free(p, _mi_align_up(size, _mi_os_page_size()));
    return;
  }
  mi_arena_t* arena = &mi_arenas[memid.arena_idx - 1];
  _mi_os_account_commit(memid.units * MI_SEGMENT_SIZE, false);
  mi_assert_internal(mi_arena_start(arena) + memid.block_idx * MI_SEGMENT_SIZE == (uint8_t*)p);
  const long delay = mi_option_get(mi_option_purge_delay);
  if (delay == 0) {
    mi_arena_purge_range(arena, memid.block_idx, memid.units);
  } else if (delay > 0) {
    _mi_bitmap_set(arena->purge, memid.block_idx, memid.units);   /* before in_use is released */
    mi_arena_schedule_purge(arena, delay);
  }
  _mi_bitmap_clear(arena->in_use, memid.block_idx, memid.units);
}

/* Purge the free units of `arena` that are pending. One thread at a time
   per arena: whoever resets the deadline does it. */
static void mi_arena_purge(mi_arena_t* arena, bool force, uint32_t now) {
  uint32_t expire = mi_atomic_load_relaxed(&arena->purge_expire);
  if (expire == 0) return;
  if (!force && !_mi_clock_expired(expire, now)) return;
  if (!mi_atomic_cas_strong_acq_rel(&arena->purge_expire, &expire, 0)) return;
  for (size_t i = 0; i < MI_ARENA_MAP_WORDS; i++) {
    const uintptr_t pending = mi_atomic_load_relaxed(&arena->purge[i]);
    if (pending == 0) continue;
    /* claim the pending units that are free */
    uintptr_t in_use = mi_atomic_load_relaxed(&arena->in_use[i]);
    uintptr_t mine;
    do {
      mine = pending & ~in_use;
      if (mine == 0) break;
    } while (!mi_atomic_cas_weak_acq_rel(&arena->in_use[i], &in_use, in_use | mine));
    if (mine == 0) continue;
    mi_atomic_fetch_and_acq_rel(&arena->purge[i], ~mine);
    /* purge each run of claimed units with one call */
    size_t b = 0;
    while (b < MI_INTPTR_BITS) {
      if (((mine >> b) & 1) == 0) { b++; continue; }
      size_t n = 1;
      while (b + n < MI_INTPTR_BITS && ((mine >> (b + n)) & 1) != 0) n++;
      mi_arena_purge_range(arena, i * MI_INTPTR_BITS + b, n);
      b += n;
    }
    mi_atomic_fetch_and_acq_rel(&arena->in_use[i], ~mine);
  }
}

void _mi_arenas_collect(bool force) {
  const uint32_t now = _mi_clock_now();
  const size_t count = _mi_arena_count();
  for (size_t i = 0; i < count; i++) mi_arena_purge(&mi_arenas[i], force, now);
}


size_t _mi_arenas_atomics_misaligned(void) {
  size_t bad = mi_atomic_misaligned(&mi_arena_count_);
  for (size_t i = 0; i < MI_MAX_ARENAS; i++) {   /* the whole static array, used or not */
    mi_arena_t* arena = &mi_arenas[i];
    bad += mi_atomic_misaligned(&arena->xstart) + mi_atomic_misaligned(&arena->purge_expire);
    for (size_t w = 0; w < MI_ARENA_MAP_WORDS; w++) {
      bad += mi_atomic_misaligned(&arena->in_use[w]) + mi_atomic_misaligned(&arena->dirty[w]) +
             mi_atomic_misaligned(&arena->purge[w]) + mi_atomic_misaligned(&arena->committed[w]);
    }
  }
  return bad;
}
