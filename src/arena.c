/* SPDX-License-Identifier: MIT */
/* Arenas: large reservations split into MI_SEGMENT_SIZE units that are
   handed out as segments, with delayed purging of freed units.

   The descriptors live in a static, cache-line aligned array (every atomic
   in them is a word or a 32-bit value, naturally aligned: see types.h).
   Protocol per unit, all bits in word-sized atomic bitmaps:
     in_use     claimed by a segment, or by a purger while it purges
     freed      freed this purge round and still resident; set by the
                freeing thread before it releases in_use
     purge      freed a round ago and still resident: purged when this
                round ends (then freed moves here). Both are cleared by the
                next claimer, or by the purger, which claims the units
                (in_use) before it touches either (mi_arena_purge)
     dirty      may hold non-zero bytes (cleared by a purge)
     committed  accessible (cleared when a purge decommits, or when a
                segment that committed lazily gives the unit back)
   A purger first claims the free units it purges (in_use), so a purge can
   never race with a segment that is being handed out.
   A new arena is published under MI_LOCK_ARENA: fields first, then xstart
   (release), then the count (release); readers load the count (acquire).

   A region larger than one descriptor holds (MI_ARENA_SIZE) takes several
   consecutive descriptors with the same id: the arena id (mi_arena_id_t) is
   1 + the index of the first. Exclusive arenas serve only heaps made for
   their id (mi_heap_new_in_arena); the others serve every heap without one. */
#include "mica/internal.h"

static mi_arena_t mi_arenas[MI_MAX_ARENAS];
static mi_atomic(uintptr_t) mi_arena_count_;

_Static_assert(_Alignof(mi_arena_t) >= MI_CACHE_LINE, "arena descriptors are cache-line aligned");

size_t _mi_arena_count(void) { return (size_t)mi_atomic_load_acquire(&mi_arena_count_); }

static uint8_t* mi_arena_start(mi_arena_t* arena) {
  return (uint8_t*)mi_atomic_load_acquire(&arena->xstart);
}

/* Units of an arena's bitmaps beyond its reservation are permanently "in use". */
static size_t mi_arena_map_bits(void) { return MI_ARENA_MAP_WORDS * MI_INTPTR_BITS; }

/* ---------------------------------------------------------------------------
   Registering memory as arenas
--------------------------------------------------------------------------- */
typedef struct mi_arena_init_s {
  bool committed;   /* accessible now */
  bool is_zero;     /* reads as zero now */
  bool exclusive;
  bool is_pinned;   /* never purge or decommit */
  bool is_user;     /* not mica's to unmap */
  bool is_huge;
  int  numa_node;
} mi_arena_init_t;

/* Publish [start, start+size) (MI_SEGMENT_SIZE aligned, a whole number of
   units) as one or more arenas sharing one id. Returns 0 or an errno value. */
static int mi_arena_add(uint8_t* start, size_t size, const mi_arena_init_t* init, int* id) {
  mi_assert_internal(((uintptr_t)start & MI_SEGMENT_MASK) == 0 && size % MI_SEGMENT_SIZE == 0);
  if (size == 0) return EINVAL;
  if (!_mi_segment_map_covers((uintptr_t)start + size - 1)) return ENOMEM;   /* free() could not recognise its blocks */
  const size_t count = _mi_divide_up(size, MI_ARENA_SIZE);
  _mi_prim_lock(MI_LOCK_ARENA);
  const size_t first = (size_t)mi_atomic_load_relaxed(&mi_arena_count_);
  if (first + count > MI_MAX_ARENAS) {
    _mi_prim_unlock(MI_LOCK_ARENA);
    _mi_message_warning("too many arenas (at most %d descriptors of %zu MiB)\n", MI_MAX_ARENAS, MI_ARENA_SIZE / (1024 * 1024));
    return ENOMEM;
  }
  for (size_t k = 0; k < count; k++) {
    mi_arena_t* arena = &mi_arenas[first + k];
    const size_t part = (size - k * MI_ARENA_SIZE < MI_ARENA_SIZE ? size - k * MI_ARENA_SIZE : MI_ARENA_SIZE);
    arena->unit_count = part / MI_SEGMENT_SIZE;
    arena->id = (int)first + 1;
    arena->numa_node = init->numa_node;
    arena->exclusive = init->exclusive;
    arena->is_pinned = init->is_pinned;
    arena->is_user = init->is_user;
    arena->is_huge = init->is_huge;
    mi_atomic_store_relaxed(&arena->xpurge_expire, 0);
    for (size_t i = 0; i < MI_ARENA_MAP_WORDS; i++) {
      mi_atomic_store_relaxed(&arena->xin_use[i], 0);
      mi_atomic_store_relaxed(&arena->xdirty[i], 0);
      mi_atomic_store_relaxed(&arena->xpurge[i], 0);
      mi_atomic_store_relaxed(&arena->xfreed[i], 0);
      mi_atomic_store_relaxed(&arena->xcommitted[i], 0);
    }
    if (arena->unit_count < mi_arena_map_bits()) {
      _mi_bitmap_set(arena->xin_use, arena->unit_count, mi_arena_map_bits() - arena->unit_count);
    }
    if (init->committed) _mi_bitmap_set(arena->xcommitted, 0, arena->unit_count);
    if (!init->is_zero) _mi_bitmap_set(arena->xdirty, 0, arena->unit_count);
    mi_atomic_store_release(&arena->xstart, (uintptr_t)(start + k * MI_ARENA_SIZE));
  }
  mi_atomic_store_release(&mi_arena_count_, first + count);
  _mi_prim_unlock(MI_LOCK_ARENA);
  for (size_t k = 0; k < count; k++) mi_assert_expensive(_mi_arena_is_valid(first + k, false));
  if (id != NULL) *id = (int)first + 1;
  _mi_message_verbose("arena %zu: %zu MiB at %p%s%s%s%s, numa node %d\n", first + 1, size / (1024 * 1024), (void*)start,
                      init->exclusive ? ", exclusive" : "", init->is_user ? ", caller's memory" : "",
                      init->is_huge ? ", huge OS pages" : "", init->committed ? ", committed" : "", init->numa_node);
  return 0;
}

/* Reserve OS memory for an arena: committed per arena_eager_commit unless
   the caller decides, transparent huge pages per allow_large_os_pages. */
static int mi_arena_reserve_os(size_t size, bool commit, bool allow_large, bool exclusive, int* id) {
  size = _mi_align_up(size, MI_SEGMENT_SIZE);
  if (size == 0) return EINVAL;
  void* start = _mi_os_reserve_aligned(size, MI_SEGMENT_SIZE, commit);
  if (start == NULL) return ENOMEM;
  if (allow_large) _mi_os_advise_huge(start, size);
  const mi_arena_init_t init = { commit, true, exclusive, false, false, false, -1 };
  const int err = mi_arena_add((uint8_t*)start, size, &init, id);
  if (err != 0) _mi_os_unreserve(start, size);
  return err;
}

/* What arena_eager_commit says for a new reservation: 0 never, 1 always,
   2 (default) where the kernel overcommits. */
static bool mi_arena_eager_commit(void) {
  const long eager = mi_option_get(mi_option_arena_eager_commit);
  return (eager == 1 || (eager == 2 && _mi_os_has_overcommit()));
}

int _mi_arena_reserve(size_t size) {
  return mi_arena_reserve_os(size, mi_arena_eager_commit(), mi_option_is_enabled(mi_option_allow_large_os_pages), false, NULL);
}

/* Hand the id of a new arena to the caller (0 on failure, with a warning). */
static int mi_arena_id_out(int err, int id, mi_arena_id_t* arena_id, const char* what, size_t amount) {
  if (arena_id != NULL) *arena_id = (err == 0 ? (mi_arena_id_t)id : 0);
  if (err != 0) _mi_message_warning("unable to reserve %zu %s (error %d)\n", amount, what, err);
  return err;
}

int mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive, mi_arena_id_t* arena_id) {
  int id = 0;
  const int err = mi_arena_reserve_os(size, commit, allow_large, exclusive, &id);
  return mi_arena_id_out(err, id, arena_id, "bytes for an arena", size);
}

int mi_reserve_os_memory(size_t size, bool commit, bool allow_large) {
  return mi_reserve_os_memory_ex(size, commit, allow_large, false, NULL);
}

/* Caller's memory: only the MI_SEGMENT_SIZE aligned units inside it are
   used. mica never unmaps it and never purges it (it may be a static
   buffer or a device mapping, where a reset would not read back zero). */
bool mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero,
                            int numa_node, bool exclusive, mi_arena_id_t* arena_id) {
  if (arena_id != NULL) *arena_id = 0;
  if (start == NULL || size == 0) {
    _mi_message_error(EINVAL, "mi_manage_os_memory: no memory given (%p, %zu bytes)\n", start, size);
    return false;
  }
  const uintptr_t first = _mi_align_up((uintptr_t)start, MI_SEGMENT_SIZE);
  const uintptr_t end = _mi_align_down((uintptr_t)start + size, MI_SEGMENT_SIZE);
  if ((uintptr_t)start + size < (uintptr_t)start || end <= first) {
    _mi_message_error(EINVAL, "mi_manage_os_memory: %zu bytes at %p hold no %zu KiB aligned unit\n",
                      size, start, MI_SEGMENT_SIZE / 1024);
    return false;
  }
  if (is_large) is_committed = true;   /* large pages cannot be committed on demand */
  const mi_arena_init_t init = { is_committed, is_zero, exclusive, true, true, is_large, numa_node < 0 ? -1 : numa_node };
  int id = 0;
  const int err = mi_arena_add((uint8_t*)first, (size_t)(end - first), &init, &id);
  if (err != 0) {
    _mi_message_error(err, "mi_manage_os_memory: unable to add %zu bytes at %p as an arena\n", size, start);
    return false;
  }
  if (arena_id != NULL) *arena_id = (mi_arena_id_t)id;
  return true;
}

bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node) {
  return mi_manage_os_memory_ex(start, size, is_committed, is_large, is_zero, numa_node, false, NULL);
}

/* The descriptors [first, first+count) of arena id `id`; false if none. */
static bool mi_arena_range_of(int id, size_t* first, size_t* count) {
  const size_t n = _mi_arena_count();
  if (id <= 0 || (size_t)id > n) return false;
  *first = (size_t)id - 1;
  if (mi_arenas[*first].id != id) return false;
  size_t k = 1;
  while (*first + k < n && mi_arenas[*first + k].id == id) k++;
  *count = k;
  return true;
}

void* mi_arena_area(mi_arena_id_t arena_id, size_t* size) {
  if (size != NULL) *size = 0;
  size_t first, count;
  if (!mi_arena_range_of((int)arena_id, &first, &count)) return NULL;
  if (size != NULL) {
    for (size_t k = 0; k < count; k++) *size += mi_arenas[first + k].unit_count * MI_SEGMENT_SIZE;
  }
  return mi_arena_start(&mi_arenas[first]);
}

bool _mi_arena_id_is_valid(int arena_id) {
  size_t first, count;
  return mi_arena_range_of(arena_id, &first, &count);
}

/* May memory from arena `arena_idx1` (1-based; 0: the OS) serve a heap
   that asks for arena `req_id` (0: any non-exclusive)? */
bool _mi_arena_is_suitable(uint32_t arena_idx1, int req_id) {
  if (arena_idx1 == 0) return (req_id == 0);
  const mi_arena_t* arena = &mi_arenas[arena_idx1 - 1];
  return (req_id == 0 ? !arena->exclusive : arena->id == req_id);
}

/* ---------------------------------------------------------------------------
   Huge OS pages (1 GiB, or 2 MiB where 1 GiB pages are not reserved)
--------------------------------------------------------------------------- */
#define MI_HUGE_OS_PAGE_SIZE ((size_t)1 << 30)

/* `pages` GiB of huge OS pages as an arena bound to `numa_node`, or (with
   a warning) a normal arena of the same size where the kernel has no huge
   pages reserved. Returns 0 (*is_huge says which) or an errno value. */
static int mi_arena_reserve_huge(size_t pages, int numa_node, bool exclusive, int* id, bool* is_huge) {
  *is_huge = false;
  if (pages == 0) return 0;
  if (pages > SIZE_MAX / MI_HUGE_OS_PAGE_SIZE) return ENOMEM;
  const size_t size = pages * MI_HUGE_OS_PAGE_SIZE;
  size_t page_size = 0;
  void* start = _mi_os_alloc_huge_pages(size, numa_node, &page_size);
  if (start != NULL) {
    const mi_arena_init_t init = { true, true, exclusive, true, false, true, numa_node };
    const int err = mi_arena_add((uint8_t*)start, size, &init, id);
    if (err == 0) { *is_huge = true; return 0; }
    _mi_os_free_huge_pages(start, size);
    return err;
  }
  _mi_message_warning("no huge OS pages reserved by the kernel for %zu GiB (see /proc/sys/vm/nr_hugepages and "
                      "hugepagesz= on the kernel command line); using a normal arena instead\n", pages);
  void* p = _mi_os_reserve_aligned(size, MI_SEGMENT_SIZE, mi_arena_eager_commit());
  if (p == NULL) return ENOMEM;
  if (numa_node >= 0) _mi_os_numa_bind(p, size, numa_node);
  if (mi_option_is_enabled(mi_option_allow_large_os_pages)) _mi_os_advise_huge(p, size);
  const mi_arena_init_t init = { mi_arena_eager_commit(), true, exclusive, false, false, false, numa_node };
  const int err = mi_arena_add((uint8_t*)p, size, &init, id);
  if (err != 0) _mi_os_unreserve(p, size);
  return err;
}

int mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive, mi_arena_id_t* arena_id) {
  (void)timeout_msecs;   /* one mmap: the kernel answers at once from its reserved pool */
  if (numa_node >= 0) numa_node = (int)((size_t)numa_node % _mi_os_numa_node_count());
  int id = 0;
  bool is_huge;
  const int err = mi_arena_reserve_huge(pages, numa_node < 0 ? -1 : numa_node, exclusive, &id, &is_huge);
  return mi_arena_id_out(err, id, arena_id, "GiB of huge OS pages", pages);
}

int mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) {
  return mi_reserve_huge_os_pages_at_ex(pages, numa_node, timeout_msecs, false, NULL);
}

/* Spread `pages` over `numa_nodes` nodes (0: all there are): node i gets
   pages/n, and the first pages%n nodes one more. */
int mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes, size_t timeout_msecs) {
  if (pages == 0) return 0;
  const size_t n = (numa_nodes == 0 ? _mi_os_numa_node_count() : numa_nodes);
  for (size_t node = 0; node < n; node++) {
    const size_t node_pages = _mi_os_numa_share(pages, n, node);
    if (node_pages == 0) continue;
    const int err = mi_reserve_huge_os_pages_at(node_pages, (int)node, timeout_msecs / n + 1);
    if (err != 0) return err;
  }
  return 0;
}

/* Deprecated form: *pages_reserved counts the huge pages actually obtained
   (0 when a normal arena stood in for them). */
int mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) {
  (void)max_secs;
  if (pages_reserved != NULL) *pages_reserved = 0;
  int id = 0;
  bool is_huge = false;
  const int err = mi_arena_reserve_huge(pages, -1, false, &id, &is_huge);
  if (err == 0 && is_huge && pages_reserved != NULL) *pages_reserved = pages;
  return err;
}

/* ---------------------------------------------------------------------------
   Validity (compiled in debug builds; MI_DEBUG=3 checks it when units are
   claimed, released or purged; test/unit/test-invariants.c calls it
   directly). Any thread may ask: the bitmaps change under other threads,
   and the protocol above lets bits disagree for a moment (a freeing thread
   sets freed before it releases in_use; a claimer or the purger holds
   in_use before it clears purge or freed), so some equations hold only when no
   thread is between those steps: they are checked when the caller says
   the arenas are `quiescent` (a test on one thread). Checked:
     always: a used descriptor's xstart is MI_SEGMENT_SIZE aligned and
       0 < unit_count <= MI_ARENA_SEGMENTS; its id names the first
       descriptor of its region, whose start it continues; is_user and
       is_huge => is_pinned; bits at and beyond unit_count: in_use set,
       dirty, committed, purge and freed clear; pinned => purge and freed
       are empty; a released descriptor (xstart == 0) has every unit in use
     quiescent: (purge | freed) & in_use == 0 (they name free units only);
       purge | freed is a subset of dirty; purge & freed == 0;
       purge | freed != 0 => xpurge_expire != 0
   A claimed range (_mi_arena_range_is_valid) is the claimer's, so its bits
   are stable: in_use and dirty set, purge and freed clear, and committed set where
   the claim said the range is committed.
--------------------------------------------------------------------------- */
#if MI_DEBUG > 0
static bool mi_arena_bits_are(mi_atomic(uintptr_t)* map, size_t idx, size_t count, bool set) {
  for (size_t i = idx; i < idx + count; i++) {
    if (_mi_bitmap_is_any_set(map, i, 1) != set) return false;
  }
  return true;
}

bool _mi_arena_is_valid(size_t idx, bool quiescent) {
  if (idx >= _mi_arena_count()) return _mi_message_invalid("arena", _mi_arena_at(idx), "descriptor %zu is in use (%zu are)", idx, _mi_arena_count());
  mi_arena_t* arena = &mi_arenas[idx];
  const uint8_t* start = mi_arena_start(arena);
  const size_t bits = mi_arena_map_bits();
  if (start == NULL) {
    return (mi_arena_bits_are(arena->xin_use, 0, bits, true) ? true : _mi_message_invalid("arena", arena, "released (xstart == 0) => every unit in use"));
  }
  const size_t units = arena->unit_count;
  const size_t first = (size_t)arena->id - 1;
  if (((uintptr_t)start & MI_SEGMENT_MASK) != 0 || units == 0 || units > MI_ARENA_SEGMENTS || arena->id < 1 || first > idx ||
      mi_arenas[first].id != arena->id || mi_arena_start(&mi_arenas[first]) + (idx - first) * MI_ARENA_SIZE != start) {
    return _mi_message_invalid("arena", arena, "xstart %% MI_SEGMENT_SIZE == 0, 0 < unit_count <= %zu, the id names the first descriptor of "
                               "its region, whose start it continues (start %p, units %zu, id %d, index %zu)",
                               (size_t)MI_ARENA_SEGMENTS, (const void*)start, units, arena->id, idx);
  }
  if (((arena->is_user || arena->is_huge) && !arena->is_pinned) || arena->numa_node < -1) {
    return _mi_message_invalid("arena", arena, "is_user or is_huge => is_pinned; numa_node >= -1");
  }
  if (!mi_arena_bits_are(arena->xin_use, units, bits - units, true) || !mi_arena_bits_are(arena->xdirty, units, bits - units, false) ||
      !mi_arena_bits_are(arena->xcommitted, units, bits - units, false) || !mi_arena_bits_are(arena->xpurge, units, bits - units, false) ||
      !mi_arena_bits_are(arena->xfreed, units, bits - units, false)) {
    return _mi_message_invalid("arena", arena, "units >= unit_count (%zu) are in use, not dirty, committed or to be purged", units);
  }
  if (arena->is_pinned && (_mi_bitmap_is_any_set(arena->xpurge, 0, bits) || _mi_bitmap_is_any_set(arena->xfreed, 0, bits))) {
    return _mi_message_invalid("arena", arena, "pinned => no unit to purge");
  }
  if (!quiescent) return true;
  bool any_purge = false;
  for (size_t i = 0; i < MI_ARENA_MAP_WORDS; i++) {
    const uintptr_t freed = mi_atomic_load_relaxed(&arena->xfreed[i]);
    const uintptr_t purge = mi_atomic_load_relaxed(&arena->xpurge[i]) | freed;
    if ((purge & mi_atomic_load_relaxed(&arena->xin_use[i])) != 0 || (purge & ~mi_atomic_load_relaxed(&arena->xdirty[i])) != 0 ||
        (freed & mi_atomic_load_relaxed(&arena->xpurge[i])) != 0) {
      return _mi_message_invalid("arena", arena, "(purge | freed) & in_use == 0, purge | freed is a subset of dirty, purge & freed == 0 "
                                 "(word %zu: purge %#zx, freed %#zx)", i, (size_t)mi_atomic_load_relaxed(&arena->xpurge[i]), (size_t)freed);
    }
    any_purge = any_purge || purge != 0;
  }
  if (any_purge && mi_atomic_load_relaxed(&arena->xpurge_expire) == 0) {
    return _mi_message_invalid("arena", arena, "purge != 0 => xpurge_expire != 0");
  }
  return true;
}

static bool mi_arena_claimed_is_valid(const void* p, size_t size, const mi_memid_t* memid, bool committed) {
  const size_t idx = (size_t)memid->arena_idx - 1;
  if (memid->arena_idx == 0 || idx >= _mi_arena_count()) return _mi_message_invalid("arena", p, "memid.arena_idx names an arena in use (%u)", (unsigned)memid->arena_idx);
  mi_arena_t* arena = &mi_arenas[idx];
  const size_t units = memid->units;
  if (units != _mi_divide_up(size, MI_SEGMENT_SIZE) || memid->block_idx + units > arena->unit_count ||
      mi_arena_start(arena) + memid->block_idx * MI_SEGMENT_SIZE != (const uint8_t*)p || memid->is_pinned != arena->is_pinned) {
    return _mi_message_invalid("arena", arena, "the range %p (%zu bytes) is units [%u, %u + %zu) of it, pinned as it is", p, size,
                               (unsigned)memid->block_idx, (unsigned)memid->block_idx, units);
  }
  if (!mi_arena_bits_are(arena->xin_use, memid->block_idx, units, true) || !mi_arena_bits_are(arena->xdirty, memid->block_idx, units, true) ||
      !mi_arena_bits_are(arena->xpurge, memid->block_idx, units, false) ||
      !mi_arena_bits_are(arena->xfreed, memid->block_idx, units, false) || (committed && !mi_arena_bits_are(arena->xcommitted, memid->block_idx, units, true))) {
    return _mi_message_invalid("arena", arena, "claimed units [%u, %u + %zu): in use, dirty, not to be purged, committed if the claim said so",
                               (unsigned)memid->block_idx, (unsigned)memid->block_idx, units);
  }
  return true;
}

bool _mi_arena_range_is_valid(const void* p, size_t size, const mi_memid_t* memid) {
  return mi_arena_claimed_is_valid(p, size, memid, memid->is_committed);
}
#endif

/* ---------------------------------------------------------------------------
   Handing out segments
--------------------------------------------------------------------------- */
/* Claim `units` units of arena `arena_idx`. With `commit`, the whole range
   is made accessible; without, memid->is_committed tells whether it is. */
static void* mi_arena_try_alloc_in(size_t arena_idx, size_t size, size_t units, bool commit, mi_memid_t* memid) {
  mi_arena_t* arena = &mi_arenas[arena_idx];
  size_t bit;
  /* the free run with the most dirty units (used and not purged since:
     resident), as segments take their dirty pages first (doc/design.md) */
  if (!_mi_bitmap_try_claim_most(arena->xin_use, arena->xdirty, MI_ARENA_MAP_WORDS, units, &bit)) return NULL;
  mi_assert(bit + units <= arena->unit_count);   /* the bits beyond it are claimed for good */
  uint8_t* p = mi_arena_start(arena) + bit * MI_SEGMENT_SIZE;
  _mi_bitmap_clear(arena->xpurge, bit, units);              /* reused before its purge: nothing to do */
  _mi_bitmap_clear(arena->xfreed, bit, units);
  memid->is_zero = !_mi_bitmap_is_any_set(arena->xdirty, bit, units);
  /* a huge segment ends inside its last unit: what an earlier segment left
     resident beyond its end would stay so, unused, while it lives */
  const size_t tail = units * MI_SEGMENT_SIZE - size;
  if (tail >= _mi_os_page_size() && !arena->is_pinned && _mi_bitmap_is_any_set(arena->xdirty, bit + units - 1, 1)) {
    (void)_mi_os_purge(p + size, tail, false);
  }
  _mi_bitmap_set(arena->xdirty, bit, units);
  bool committed = true;
  for (size_t i = 0; i < units && committed; i++) committed = _mi_bitmap_is_any_set(arena->xcommitted, bit + i, 1);
  if (!committed && commit) {
    /* commit the whole range (idempotent on units that are committed) */
    if (!_mi_os_commit(p, units * MI_SEGMENT_SIZE)) {
      _mi_bitmap_clear(arena->xin_use, bit, units);
      return NULL;
    }
    _mi_bitmap_set(arena->xcommitted, bit, units);
    committed = true;
  }
  _mi_os_account_commit(units * MI_SEGMENT_SIZE, true);
  memid->arena_idx = (uint32_t)(arena_idx + 1);
  memid->block_idx = (uint32_t)bit;
  memid->units = units;
  memid->is_committed = committed;
  memid->is_pinned = arena->is_pinned;
  mi_assert_expensive(_mi_arena_is_valid(arena_idx, false) && _mi_arena_range_is_valid(p, units * MI_SEGMENT_SIZE, memid));
  return p;
}

/* Try the suitable arenas: with several NUMA nodes, those bound to the
   calling thread's node first, then unbound ones (their pages land where
   they are first touched), then those of other nodes. */
static void* mi_arenas_try_alloc(size_t size, size_t units, bool commit, int req_id, mi_memid_t* memid) {
  const size_t count = _mi_arena_count();
  const int node = (_mi_os_numa_node_count() > 1 ? (int)_mi_os_numa_node() : -1);
  for (int pass = (node < 0 ? 1 : 0); pass < (node < 0 ? 2 : 3); pass++) {
    for (size_t i = 0; i < count; i++) {
      const mi_arena_t* arena = &mi_arenas[i];
      if (!_mi_arena_is_suitable((uint32_t)i + 1, req_id) || arena->unit_count < units) continue;
      const int rank = (node < 0 || arena->numa_node < 0 ? 1 : (arena->numa_node == node ? 0 : 2));
      if (rank != pass) continue;
      void* p = mi_arena_try_alloc_in(i, size, units, commit, memid);
      if (p != NULL) return p;
    }
  }
  return NULL;
}

/* Memory for a segment of `size` bytes, MI_SEGMENT_SIZE aligned: from an
   arena when one can hold it, else straight from the OS. `req_id` != 0:
   only from that arena (never the OS). Without `commit`, the memory may be
   inaccessible: memid->is_committed says, and the caller commits pages. */
void* _mi_arena_alloc_segment(size_t size, bool commit, int req_id, mi_memid_t* memid) {
  memset(memid, 0, sizeof(*memid));
  const size_t units = _mi_divide_up(size, MI_SEGMENT_SIZE);
  const bool disallow_os = mi_option_is_enabled(mi_option_disallow_os_alloc);
  if (units <= MI_INTPTR_BITS && units <= MI_ARENA_SEGMENTS &&
      (req_id != 0 || !mi_option_is_enabled(mi_option_disallow_arena_alloc))) {
    void* p = mi_arenas_try_alloc(size, units, commit, req_id, memid);
    if (p != NULL || req_id != 0) return p;
    if (!disallow_os) {
      size_t reserve = mi_option_get_size(mi_option_arena_reserve);
      if (reserve < units * MI_SEGMENT_SIZE) reserve = units * MI_SEGMENT_SIZE;
      const size_t count = _mi_arena_count();
      if (_mi_arena_reserve(reserve) == 0 || _mi_arena_count() != count) {
        p = mi_arenas_try_alloc(size, units, commit, 0, memid);
        if (p != NULL) return p;
      }
    }
  }
  if (req_id != 0 || disallow_os) return NULL;
  /* straight from the OS: huge blocks, or no arena could be reserved */
  bool is_zero = false;
  void* p = _mi_os_alloc_aligned(size, MI_SEGMENT_SIZE, true, &is_zero);
  if (p != NULL && !_mi_segment_map_covers((uintptr_t)p + size - 1)) {
    _mi_os_free(p, size);
    return NULL;
  }
  memid->is_zero = is_zero;
  memid->is_committed = true;
  return p;
}

/* ---------------------------------------------------------------------------
   Giving segments back, and purging
--------------------------------------------------------------------------- */
/* purge_delay x arena_purge_mult: <0 never, 0 at once. Segments use it as
   the longest that activity may postpone their own purge. */
long _mi_arena_purge_delay(void) {
  const long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0) return -1;
  const long mult = mi_option_get(mi_option_arena_purge_mult);
  if (mult < 0) return -1;
  return (mult > 0 && delay > LONG_MAX / mult ? LONG_MAX : delay * mult);
}

/* Purges go by age, in rounds of `delay` ms: a unit freed during one round
   is purged at the end of the next if it is still free then, so between
   `delay` and twice that after its free. Frees elsewhere never postpone
   it: bench-huge frees a unit every few ms, and a deadline that each free
   pushed back (purge_extend_delay, as in mimalloc) never came while a
   program kept freeing, so no freed unit was ever purged (484 MiB peak RSS
   for 366 live; doc/benchmarks.md). Nor is a unit freed just before a
   round ends purged with it: that faulted freshly freed blocks back in
   (3 GiB per 1,000 blocks). Sets the deadline if none is pending. */
static void mi_arena_schedule_purge(mi_arena_t* arena, long delay) {
  const uint32_t delay_ms = (uint32_t)(delay > INT32_MAX / 4 ? INT32_MAX / 4 : delay);
  uint32_t next = _mi_os_clock_now() + delay_ms;
  if (next == 0) next = 1;
  uint32_t expire = 0;
  (void)mi_atomic_cas_strong_acq_rel(&arena->xpurge_expire, &expire, next);
}

static void mi_arena_purge_range(mi_arena_t* arena, size_t bit, size_t units) {
  uint8_t* p = mi_arena_start(arena) + bit * MI_SEGMENT_SIZE;
  const bool decommitted = _mi_os_purge(p, units * MI_SEGMENT_SIZE, true);
  _mi_bitmap_clear(arena->xdirty, bit, units);
  if (decommitted) _mi_bitmap_clear(arena->xcommitted, bit, units);
}

void _mi_arena_free_segment(void* p, size_t size, mi_memid_t memid) {
  if (memid.arena_idx == 0) {
    _mi_os_free(p, _mi_align_up(size, _mi_os_page_size()));
    return;
  }
  mi_assert(memid.arena_idx <= _mi_arena_count() && memid.units > 0);
  mi_arena_t* arena = &mi_arenas[memid.arena_idx - 1];
  _mi_os_account_commit(memid.units * MI_SEGMENT_SIZE, false);
  mi_assert_internal(mi_arena_start(arena) + memid.block_idx * MI_SEGMENT_SIZE == (uint8_t*)p);
  mi_assert_expensive(mi_arena_claimed_is_valid(p, size, &memid, false));   /* the segment may have committed more itself */
  /* partly committed by a lazy segment: the next claimer commits it all again */
  if (!memid.is_committed) _mi_bitmap_clear(arena->xcommitted, memid.block_idx, memid.units);
  const long delay = (arena->is_pinned ? -1 : _mi_arena_purge_delay());
  if (delay == 0) {
    mi_arena_purge_range(arena, memid.block_idx, memid.units);
  } else if (delay > 0) {
    _mi_bitmap_set(arena->xfreed, memid.block_idx, memid.units);   /* before in_use is released */
    mi_arena_schedule_purge(arena, delay);
  }
  _mi_bitmap_clear(arena->xin_use, memid.block_idx, memid.units);
  mi_assert_expensive(_mi_arena_is_valid(memid.arena_idx - 1, false));
}

/* End the arena's round if it is due (or `force`): purge the free units
   of `purge` (freed a round ago; with `force`, those of `freed` too), then
   age `freed` into `purge` and start the next round if any is left. One
   thread at a time per arena: whoever resets the deadline does it. */
static void mi_arena_purge(mi_arena_t* arena, bool force, uint32_t now) {
  uint32_t expire = mi_atomic_load_relaxed(&arena->xpurge_expire);
  if (expire == 0) return;
  if (!force && !_mi_os_clock_expired(expire, now)) return;
  if (!mi_atomic_cas_strong_acq_rel(&arena->xpurge_expire, &expire, 0)) return;
  bool pending = false;
  for (size_t i = 0; i < MI_ARENA_MAP_WORDS; i++) {
    const uintptr_t marked = mi_atomic_load_relaxed(&arena->xpurge[i]) | mi_atomic_load_relaxed(&arena->xfreed[i]);
    /* claim the marked units that are free: their bits are then ours (a
       unit in use keeps its bits for its claimer, or its freer, to set) */
    uintptr_t in_use = mi_atomic_load_relaxed(&arena->xin_use[i]);
    uintptr_t mine;
    do {
      mine = marked & ~in_use;
      if (mine == 0) break;
    } while (!mi_atomic_cas_weak_acq_rel(&arena->xin_use[i], &in_use, in_use | mine));
    if (mine != 0) {
      const uintptr_t freed = mi_atomic_load_relaxed(&arena->xfreed[i]) & mine;
      const uintptr_t due = (mi_atomic_load_relaxed(&arena->xpurge[i]) & mine) | (force ? freed : 0);
      const uintptr_t aged = freed & ~due;
      mi_atomic_fetch_and_acq_rel(&arena->xpurge[i], ~due);
      mi_atomic_fetch_and_acq_rel(&arena->xfreed[i], ~freed);
      /* purge each run of due units with one call */
      size_t b = 0;
      while (b < MI_INTPTR_BITS) {
        if (((due >> b) & 1) == 0) { b++; continue; }
        size_t n = 1;
        while (b + n < MI_INTPTR_BITS && ((due >> (b + n)) & 1) != 0) n++;
        mi_arena_purge_range(arena, i * MI_INTPTR_BITS + b, n);
        b += n;
      }
      if (aged != 0) mi_atomic_fetch_or_acq_rel(&arena->xpurge[i], aged);   /* this round's frees: due at the next */
      mi_atomic_fetch_and_acq_rel(&arena->xin_use[i], ~mine);
    }
    pending = pending || mi_atomic_load_relaxed(&arena->xpurge[i]) != 0 || mi_atomic_load_relaxed(&arena->xfreed[i]) != 0;
  }
  if (pending) {
    const long delay = _mi_arena_purge_delay();   /* options may have changed: never purging now means at the next collect */
    mi_arena_schedule_purge(arena, delay < 0 ? 0 : delay);
  }
  mi_assert_expensive(_mi_arena_is_valid((size_t)(arena - mi_arenas), false));
}

void _mi_arenas_collect(bool force) {
  const uint32_t now = _mi_os_clock_now();
  const size_t count = _mi_arena_count();
  for (size_t i = 0; i < count; i++) mi_arena_purge(&mi_arenas[i], force, now);
}

/* destroy_on_exit: unmap every arena mica reserved (the caller's memory
   stays), so a dlclose'd copy of mica leaves no memory behind. Unsafe by
   nature: a block freed after this is a wild pointer (the segment map
   forgets the arenas first, so free() reports it instead of crashing). */
void _mi_arenas_unsafe_destroy(void) {
  _mi_prim_lock(MI_LOCK_ARENA);
  const size_t count = (size_t)mi_atomic_load_relaxed(&mi_arena_count_);
  for (size_t i = 0; i < count; i++) {
    mi_arena_t* arena = &mi_arenas[i];
    uint8_t* start = mi_arena_start(arena);
    if (start == NULL || arena->is_user) continue;
    const size_t size = arena->unit_count * MI_SEGMENT_SIZE;
    for (size_t u = 0; u < arena->unit_count; u++) _mi_segment_map_freed_at((const mi_segment_t*)(start + u * MI_SEGMENT_SIZE));
    /* a region is unmapped piece by piece: munmap takes sub-ranges */
    if (arena->is_huge) _mi_os_free_huge_pages(start, size);
    else _mi_os_unreserve(start, size);
    mi_atomic_store_release(&arena->xstart, 0);
    _mi_bitmap_set(arena->xin_use, 0, mi_arena_map_bits());   /* nothing is handed out from it again */
  }
  _mi_prim_unlock(MI_LOCK_ARENA);
}

/* ---------------------------------------------------------------------------
   Printing
--------------------------------------------------------------------------- */
static size_t mi_bitmap_count(mi_atomic(uintptr_t)* map, size_t bits) {
  size_t n = 0;
  for (size_t i = 0; i < bits; i++) n += (_mi_bitmap_is_any_set(map, i, 1) ? 1 : 0);
  return n;
}

/* One line per arena: its id, place, size, and how many units are in use,
   committed and waiting to be purged. */
void mi_arenas_print(void) {
  const size_t count = _mi_arena_count();
  const size_t unit_kib = MI_SEGMENT_SIZE / 1024;
  _mi_message_fprintf(NULL, NULL, "arenas: %zu (units of %zu KiB)\n", count, unit_kib);
  for (size_t i = 0; i < count; i++) {
    mi_arena_t* arena = &mi_arenas[i];
    uint8_t* start = mi_arena_start(arena);
    if (start == NULL) { _mi_message_fprintf(NULL, NULL, "  arena %zu: released\n", i + 1); continue; }
    const size_t units = arena->unit_count;
    const size_t used = mi_bitmap_count(arena->xin_use, units);
    const size_t committed = mi_bitmap_count(arena->xcommitted, units);
    const size_t purge = mi_bitmap_count(arena->xpurge, units) + mi_bitmap_count(arena->xfreed, units);
    const uint32_t expire = mi_atomic_load_relaxed(&arena->xpurge_expire);
    const uint32_t now = _mi_os_clock_now();
    char when[48] = "none";
    if (expire != 0) _mi_message_fmt(when, sizeof(when), "in %ld ms", _mi_os_clock_expired(expire, now) ? 0L : (long)(int32_t)(expire - now));
    _mi_message_fprintf(NULL, NULL, "  arena %zu (id %d): %p, %zu MiB, %zu/%zu units used, %zu committed, %zu to purge (%s), numa node %d%s%s%s%s\n",
                i + 1, arena->id, (void*)start, units * MI_SEGMENT_SIZE / (1024 * 1024), used, units, committed, purge, when,
                arena->numa_node, arena->exclusive ? ", exclusive" : "", arena->is_user ? ", caller's memory" : "",
                arena->is_huge ? ", huge OS pages" : "", arena->is_pinned ? ", pinned" : "");
  }
}

void mi_debug_show_arenas(void) {
  mi_arenas_print();
}

/* The descriptor at `idx` (< MI_MAX_ARENAS), in use or not: for tests that
   walk mica's metadata (test/platform/test-atomics-aligned.c). */
mi_arena_t* _mi_arena_at(size_t idx) {
  return (idx < MI_MAX_ARENAS ? &mi_arenas[idx] : NULL);
}
