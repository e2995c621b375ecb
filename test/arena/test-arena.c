/* SPDX-License-Identifier: MIT */
/* test-arena: user-provided and exclusive arenas, commit policy, purging.

   1. An embedded user's static buffer as an exclusive arena: a heap in it
      allocates only there, until it is full (NULL with ENOMEM, nothing from
      the OS), and everything again after freeing all. The buffer is trimmed
      to whole aligned units (mi_arena_area); bad input is refused.
   2. Caller's memory that is not committed, larger than one arena
      descriptor: committed on demand, blocks in every part of it.
   3. Commit policy (/proc/self/maps): a reservation with commit=false is
      inaccessible; eager_commit=1 commits a whole segment, eager_commit=0
      and eager_commit_delay commit the header and each page as claimed.
   4. Purging (mincore): arena_purge_mult scales the delay for arena units
      (0: at once); a freed unit is purged by its age, in rounds, whatever
      else is freed; a huge block's tail in its last unit is purged when it
      is placed; the caller's memory is never purged (its contents stay).
   5. mi_arenas_print describes each arena. */
#include "arena-util.h"
#include "test.h"
#include <errno.h>
#include <time.h>

static bool in_range(const void* p, const void* start, size_t size) {
  return (const uint8_t*)p >= (const uint8_t*)start && (const uint8_t*)p < (const uint8_t*)start + size;
}

/* ---- 1. static buffer ---------------------------------------------------- */
#define BUF_SIZE (24 * MiB + 12345)
static uint8_t user_buffer[BUF_SIZE];
#define MAX_PTRS (1 << 19)
static void* ptrs[MAX_PTRS];

/* Sizes that exercise small, medium, large and huge pages. */
static size_t size_of(size_t i) {
  static const size_t sizes[] = { 24, 100, 1000, 5000, (MI_SMALL_OBJ_SIZE_MAX + MI_MEDIUM_OBJ_SIZE_MAX) / 2, 300 * 1024, 3 * MiB };
  return sizes[i % (sizeof sizes / sizeof sizes[0])];
}

static size_t fill(mi_heap_t* heap, void* start, size_t size, int* err) {
  size_t n = 0;
  *err = 0;
  while (n < MAX_PTRS) {
    size_t sz = size_of(n);
    errno = 0;
    void* p = mi_heap_malloc(heap, sz);
    if (p == NULL) {
      /* one size no longer fits: the smallest must fail too before the arena is full */
      *err = errno;
      sz = 24;
      p = mi_heap_malloc(heap, sz);
      if (p == NULL) { *err = errno; break; }
    }
    CHECKF(in_range(p, start, size), "block %p of %zu bytes outside the arena [%p, +%zu)", p, sz, start, size);
    memset(p, (int)(n & 0xff), sz < 64 ? sz : 64);
    ptrs[n++] = p;
  }
  return n;
}

static void test_static_buffer(void) {
  printf("static buffer as an exclusive arena:\n");
  mi_arena_id_t id = -1;
  CHECK(mi_manage_os_memory_ex(user_buffer, BUF_SIZE, true, false, true, -1, true, &id));
  CHECK(id > 0);
  size_t size = 0;
  void* start = mi_arena_area(id, &size);
  const uintptr_t lo = ((uintptr_t)user_buffer + seg_size() - 1) & ~(uintptr_t)(seg_size() - 1);
  const uintptr_t hi = ((uintptr_t)user_buffer + BUF_SIZE) & ~(uintptr_t)(seg_size() - 1);
  CHECKF((uintptr_t)start == lo && size == hi - lo, "area %p +%zu, expected %p +%zu", start, size, (void*)lo, (size_t)(hi - lo));
  printf("  buffer %p + %zu -> arena %p + %zu MiB\n", (void*)user_buffer, (size_t)BUF_SIZE, start, size / MiB);

  mi_heap_t* heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap == NULL) return;
  int err = 0;
  const size_t n1 = fill(heap, start, size, &err);
  printf("  %zu blocks until full (errno %d)\n", n1, err);
  CHECK(n1 > 100 && n1 < MAX_PTRS);
  CHECKF(err == ENOMEM, "a full arena gives ENOMEM, got %d", err);
  CHECK(mi_heap_malloc(heap, 24) == NULL && errno == ENOMEM);
  CHECK(mi_heap_malloc(heap, 64 * MiB) == NULL);   /* larger than the arena: no OS fallback */
  /* the default heap never uses the exclusive arena */
  for (int i = 0; i < 100; i++) {
    void* p = mi_malloc(1000);
    CHECK(p != NULL && !in_range(p, start, size));
    mi_free(p);
  }
  for (size_t i = 0; i < n1; i++) {
    const uint8_t* b = (const uint8_t*)ptrs[i];
    if (b[0] != (uint8_t)(i & 0xff)) { CHECKF(false, "block %zu overwritten", i); break; }
    CHECK(mi_heap_check_owned(heap, ptrs[i]));
  }
  for (size_t i = 0; i < n1; i++) mi_free(ptrs[i]);
  mi_heap_collect(heap, true);
  const size_t n2 = fill(heap, start, size, &err);
  printf("  after freeing all: %zu blocks again\n", n2);
  CHECKF(n2 * 10 >= n1 * 9, "after freeing everything only %zu of %zu blocks fit", n2, n1);
  for (size_t i = 0; i < n2; i++) mi_free(ptrs[i]);
  mi_heap_delete(heap);

  /* a heap made with mi_heap_new_ex and a tag works in the same arena */
  mi_heap_t* tagged = mi_heap_new_ex(7, true, id);
  CHECK(tagged != NULL);
  void* t = mi_heap_malloc(tagged, 100);
  CHECK(t != NULL && in_range(t, start, size));
  mi_heap_destroy(tagged);
}

static void test_bad_input(void) {
  static uint8_t small[MiB];
  int errs = 0;
  mi_arena_id_t id = 5;
  CHECK(!mi_manage_os_memory_ex(NULL, 64 * MiB, true, false, false, -1, true, &id) && id == 0);
  CHECK(!mi_manage_os_memory(small, sizeof small, true, false, false, -1));   /* no aligned unit inside */
  CHECK(mi_heap_new_in_arena(9999) == NULL);
  CHECK(mi_heap_new_ex(300, true, 0) == NULL);
  size_t sz = 1;
  CHECK(mi_arena_area(9999, &sz) == NULL && sz == 0);
  CHECK(mi_arena_area(0, NULL) == NULL);
  (void)errs;
}

/* ---- 2. caller's memory, not committed, several descriptors ---------------- */
static void test_uncommitted_region(void) {
  if (sizeof(void*) < 8) { printf("uncommitted 2.5 GiB region: skipped on 32-bit\n"); return; }
  printf("caller's PROT_NONE region of 2.5 GiB:\n");
  const size_t size = 2 * GiB + GiB / 2;
  void* region = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK(region != MAP_FAILED);
  if (region == MAP_FAILED) return;
  mi_arena_id_t id = 0;
  CHECK(mi_manage_os_memory_ex(region, size, false, false, true, -1, true, &id));
  size_t asize = 0;
  void* start = mi_arena_area(id, &asize);
  CHECK(start != NULL && asize + seg_size() >= size && asize <= size);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap == NULL) return;
  /* three quarters of the most an arena block can span (a bitmap word of units) */
  const size_t BIG = MI_INTPTR_BITS * MI_SEGMENT_SIZE / 4 * 3;
  void* blocks[16];
  size_t n = 0;
  uintptr_t highest = 0;
  while (n < 16) {
    void* p = mi_heap_malloc(heap, BIG);
    if (p == NULL) break;
    CHECK(in_range(p, start, asize));
    ((volatile char*)p)[0] = 1;            /* committed on demand: no fault */
    ((volatile char*)p)[BIG - 1] = 2;
    if ((uintptr_t)p > highest) highest = (uintptr_t)p;
    blocks[n++] = p;
  }
  printf("  %zu blocks of %zu MiB, highest at +%zu MiB\n", n, BIG / MiB, (size_t)(highest - (uintptr_t)start) / MiB);
  CHECKF(n >= 8, "only %zu blocks of %zu MiB in 2.5 GiB", n, BIG / MiB);
  CHECKF(highest - (uintptr_t)start >= GiB, "no block beyond the first descriptor's GiB");
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
  mi_heap_delete(heap);
}

/* ---- 3. commit policy ------------------------------------------------------ */
/* A large block (half a segment) outside segments `a` and `b`: the first
   one or two may still fit there (kept in `fill`, to free), the third
   cannot. */
static void* large_in_new_segment(mi_heap_t* heap, const uint8_t* a, const uint8_t* b, void* fill[2], const uint8_t* start, size_t asize) {
  void* r = NULL;
  const uint8_t* seg = a;
  for (int i = 0; i < 3 && (seg == a || seg == b); i++) {
    if (i > 0) fill[i - 1] = r;
    r = mi_heap_malloc(heap, seg_size() / 2 - 4096);   /* room for debug padding: still large, not huge */
    CHECK(r != NULL && in_range(r, start, asize));
    seg = (const uint8_t*)((uintptr_t)r & ~(uintptr_t)(seg_size() - 1));
  }
  return r;
}

static void test_commit_policy(void) {
  printf("commit policy:\n");
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(8 * seg_size(), false, false, true, &id) == 0);
  size_t asize = 0;
  uint8_t* start = (uint8_t*)mi_arena_area(id, &asize);
  CHECK(start != NULL && asize == 8 * seg_size());
  if (start == NULL) return;
  CHECKF(!is_accessible(start), "a reservation with commit=false is inaccessible");

  /* eager_commit off: the first segment commits its header's page, and each page when claimed */
  mi_option_set(mi_option_eager_commit, 0);
  mi_heap_t* lazy = mi_heap_new_in_arena(id);
  void* p = mi_heap_malloc(lazy, 64);
  CHECK(p != NULL && in_range(p, start, asize));
  uint8_t* seg = (uint8_t*)((uintptr_t)p & ~(uintptr_t)(seg_size() - 1));
  CHECK(is_accessible(seg));
  CHECKF(!is_accessible(seg + seg_size() - os_page()), "eager_commit=0: the end of the segment is not committed yet");
  printf("  eager_commit 0: header page committed, rest of the segment not\n");

  /* eager_commit on, delay 0: a new segment is committed whole (large
     blocks of half a segment: the first segment takes one or two) */
  mi_option_set(mi_option_eager_commit, 1);
  mi_option_set(mi_option_eager_commit_delay, 0);
  void* qfill[2] = { NULL, NULL };
  void* q = large_in_new_segment(lazy, seg, seg, qfill, start, asize);
  uint8_t* seg2 = (uint8_t*)((uintptr_t)q & ~(uintptr_t)(seg_size() - 1));
  CHECK(seg2 != seg);
  CHECKF(is_accessible(seg2) && is_accessible(seg2 + seg_size() - os_page()), "eager_commit=1: the whole segment is committed");
  printf("  eager_commit 1: whole segment committed\n");

  /* eager_commit_delay: the thread's first N segments are lazy even with eager_commit */
  mi_option_set(mi_option_eager_commit_delay, 1000);
  void* fill[2] = { NULL, NULL };
  void* r = large_in_new_segment(lazy, seg, seg2, fill, start, asize);
  uint8_t* seg3 = (uint8_t*)((uintptr_t)r & ~(uintptr_t)(seg_size() - 1));
  CHECK(seg3 != seg && seg3 != seg2);
  CHECKF(!is_accessible(seg3 + seg_size() - os_page()), "eager_commit_delay=1000: the new segment is committed lazily");
  printf("  eager_commit_delay 1000: new segment committed lazily\n");
  mi_option_set(mi_option_eager_commit_delay, 1);
  mi_free(p); mi_free(q); mi_free(r); mi_free(fill[0]); mi_free(fill[1]); mi_free(qfill[0]); mi_free(qfill[1]);
  mi_heap_delete(lazy);
}

/* ---- 4. purging -------------------------------------------------------------- */
static void touch(void* p, size_t n) { memset(p, 0x5a, n); }

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long pending_ms(int id) {
  char line[512];
  if (!arena_line(id, line, sizeof line)) return -2;
  const char* s = strstr(line, "to purge (in ");
  if (s == NULL) return -1;   /* none pending */
  return strtol(s + strlen("to purge (in "), NULL, 10);
}

static void test_purge(void) {
  printf("arena purging:\n");
  const size_t huge = 2 * seg_size() + 100;   /* a huge block: its own segment, back to the arena when freed */
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(8 * seg_size(), true, false, true, &id) == 0);
  mi_heap_t* heap = mi_heap_new_in_arena(id);

  /* arena_purge_mult 0: arena units are purged at once, even with a long purge_delay */
  mi_option_set(mi_option_purge_delay, 1000000);
  mi_option_set(mi_option_arena_purge_mult, 0);
  uint8_t* p = (uint8_t*)mi_heap_malloc(heap, huge);
  CHECK(p != NULL);
  touch(p, huge);
  CHECK(resident_bytes(p, huge) >= huge - os_page());
  mi_free(p);
  CHECKF(resident_bytes(p, huge) == 0, "arena_purge_mult 0: still %zu KiB resident", resident_bytes(p, huge) / KiB);

  /* arena_purge_mult 1: kept for the (long) delay; a forced collect purges it */
  mi_option_set(mi_option_arena_purge_mult, 1);
  p = (uint8_t*)mi_heap_malloc(heap, huge);
  touch(p, huge);
  mi_free(p);
  CHECKF(resident_bytes(p, huge) >= huge - os_page(), "arena_purge_mult 1, delay 1000 s: purged too early");
  long ms = pending_ms((int)id);
  CHECKF(ms > 990000 && ms <= 1000000, "pending purge in %ld ms, expected about 1000000", ms);
  mi_collect(true);
  CHECKF(resident_bytes(p, huge) == 0, "mi_collect(true) purges what is pending");
  CHECK(pending_ms((int)id) == -1);

  /* purges go by age, in rounds of the arena delay: a unit freed in one
     round is purged when the next ends, if it is still free. Frees
     elsewhere never postpone it (a deadline that each free pushed back
     never came while a program kept freeing: bench-huge kept every freed
     unit resident), and it is not purged with the round it was freed in.
     Units: a (1, huge at 3/4 of a unit) at 0, b (live) at 1, and c
     (2 units) cycles at 2-3, never on a's unit: b stands between. */
  const long round_ms = 500;
  mi_option_set(mi_option_purge_delay, round_ms);
  mi_option_set(mi_option_arena_purge_mult, 1);
  const size_t one = seg_size() / 4 * 3, two = seg_size() + 100;
  uint8_t* a = (uint8_t*)mi_heap_malloc(heap, one);
  void* b = mi_heap_malloc(heap, one);
  CHECKF(a != NULL && b != NULL && (uint8_t*)b == a + seg_size(), "two one-unit huge blocks side by side at the arena's start");
  if (a != NULL && b != NULL) {
    touch(a, one);
    const long t0 = now_ms();
    mi_free(a);
    ms = pending_ms((int)id);
    CHECKF(ms > round_ms - 100 && ms <= round_ms, "a free starts a round of %ld ms: purge in %ld ms", round_ms, ms);
    /* a free every 5 ms elsewhere in the arena, for two rounds and a half
       (with purge_extend_delay 10, the old rule moved the deadline away) */
    mi_option_set(mi_option_purge_extend_delay, 10);
    bool kept_one_round = false;
    while (now_ms() - t0 < round_ms * 5 / 2) {
      uint8_t* c = (uint8_t*)mi_heap_malloc(heap, two);   /* its page allocation collects the arena */
      CHECKF(c != NULL && c != a, "c is not placed on a's unit");
      if (c == NULL) break;
      touch(c, os_page());
      mi_free(c);
      const long t = now_ms() - t0;
      if (t > round_ms + 50 && t < round_ms * 3 / 2 && resident_bytes(a, one) >= one - os_page()) kept_one_round = true;
      struct timespec nap = { 0, 5 * 1000 * 1000 };
      nanosleep(&nap, NULL);
    }
    mi_collect(false);
    CHECKF(kept_one_round, "a unit is kept through the round after the one it was freed in");
    CHECKF(resident_bytes(a, one) == 0, "a free unit is purged after two rounds while others are freed every 5 ms (%zu KiB resident)",
           resident_bytes(a, one) / KiB);
    mi_free(b);
  }
  mi_collect(true);

  /* a huge block that ends inside its last unit: what the unit's earlier
     occupant left beyond that end is purged when the block is placed */
  mi_option_set(mi_option_purge_delay, 1000000);
  const size_t big = 3 * seg_size() - 64 * KiB, small = 2 * seg_size() + 100;
  uint8_t* x = (uint8_t*)mi_heap_malloc(heap, big);
  CHECK(x != NULL);
  if (x != NULL) {
    touch(x, big);
    mi_free(x);
    uint8_t* y = (uint8_t*)mi_heap_malloc(heap, small);
    CHECKF(y == x, "the smaller block takes the freed units (dirty first)");
    if (y == x) {
      const size_t end = small + 256 * KiB;   /* past the header and the block */
      CHECKF(resident_bytes(y + end, big - end) == 0, "the tail beyond the new block is purged (%zu KiB resident)",
             resident_bytes(y + end, big - end) / KiB);
      CHECKF(resident_bytes(y, small) >= small - 2 * os_page(), "the block's own pages are left alone");
    }
    mi_free(y);
  }
  mi_collect(true);
  mi_heap_delete(heap);

  /* the caller's memory is never purged: its contents stay */
  static uint8_t buf[5 * 4 * MiB];
  mi_arena_id_t uid = 0;
  CHECK(mi_manage_os_memory_ex(buf, sizeof buf, true, false, true, -1, true, &uid));
  mi_heap_t* uheap = mi_heap_new_in_arena(uid);
  mi_option_set(mi_option_purge_delay, 0);
  mi_option_set(mi_option_arena_purge_mult, 0);
  const size_t usz = seg_size() + 100;
  uint8_t* u = (uint8_t*)mi_heap_malloc(uheap, usz);
  CHECK(u != NULL);
  if (u != NULL) {
    touch(u, usz);
    mi_free(u);
    mi_collect(true);
    CHECKF(u[usz / 2] == 0x5a && resident_bytes(u, usz) >= usz - os_page(), "the caller's memory was purged");
  }
  mi_heap_delete(uheap);
  mi_option_set(mi_option_purge_delay, 10);
  mi_option_set(mi_option_arena_purge_mult, 10);
}

/* ---- 5. mi_arenas_print ------------------------------------------------------ */
static void test_print(void) {
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(3 * seg_size(), true, false, true, &id) == 0);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  void* p = mi_heap_malloc(heap, 100);
  char line[512];
  CHECK(arena_line((int)id, line, sizeof line));
  printf("  %s\n", line);
  char expect[64];
  snprintf(expect, sizeof expect, "%zu MiB, 1/3 units used, 3 committed", 3 * seg_size() / MiB);
  CHECKF(strstr(line, expect) != NULL, "mi_arenas_print: \"%s\" lacks \"%s\"", line, expect);
  CHECK(strstr(line, "exclusive") != NULL);
  capture_start();
  mi_debug_show_arenas();
  CHECK(strstr(capture_stop(), "arenas: ") != NULL);
  mi_free(p);
  mi_heap_delete(heap);
}

int main(void) {
  test_bad_input();
  test_static_buffer();
  test_uncommitted_region();
  test_commit_policy();
  test_purge();
  test_print();
  return test_report();
}
