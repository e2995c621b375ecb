/* SPDX-License-Identifier: MIT */
/* test-arena-env MODE: options that act at start-up or on every
   reservation, each run by ctest with its environment.

   reserve    MICA_RESERVE_OS_MEMORY=64MiB MICA_DISALLOW_OS_ALLOC=1
              MICA_ARENA_EAGER_COMMIT=0: one 64 MiB arena exists before the
              first allocation, not committed up front; everything comes from
              it; a block larger than it fails with ENOMEM (no OS fallback,
              no new arena); mi_reserve_os_memory still adds one.
   os         no environment: the same large block succeeds (control).
   noarena    MICA_DISALLOW_ARENA_ALLOC=1: segments come straight from the
              OS, no arena is reserved; a heap in an explicit arena still
              uses it.
   thp        MICA_ALLOW_LARGE_OS_PAGES=1: mica's arenas are advised for
              transparent huge pages (smaps VmFlags "hg").
   nothp      MICA_ALLOW_LARGE_OS_PAGES=1 MICA_ALLOW_THP=0: THP disabled
              for the process (prctl) and arenas not advised.
   huge       MICA_RESERVE_HUGE_OS_PAGES=1 MICA_RESERVE_HUGE_OS_PAGES_AT=0:
              a GiB arena on node 0 exists at start-up (of huge OS pages
              where the kernel has them, else a normal one; 64-bit only). */
#include "arena-util.h"
#include "test.h"
#include <errno.h>
#include <sys/prctl.h>

static int arena_count(void) {
  capture_start();
  mi_arenas_print();
  const char* out = capture_stop();
  const char* s = strstr(out, "arenas: ");
  return (s == NULL ? -1 : atoi(s + strlen("arenas: ")));
}

/* The start of arena id 1 as printed ("  arena 1 (id 1): 0x..."). */
static void* first_arena(size_t* size) {
  char line[512];
  if (!arena_line(1, line, sizeof line)) return NULL;
  const char* s = strstr(line, "): ");
  void* p = NULL;
  if (s != NULL) sscanf(s + 3, "%p", &p);
  if (size != NULL) *size = 0;
  const char* m = strstr(line, ", ");
  if (m != NULL && size != NULL) *size = (size_t)strtoul(m + 2, NULL, 10) * MiB;
  return p;
}

static bool in_range(const void* p, const void* start, size_t size) {
  return (const uint8_t*)p >= (const uint8_t*)start && (const uint8_t*)p < (const uint8_t*)start + size;
}

static void mode_reserve(void) {
  CHECK(mi_option_is_enabled(mi_option_disallow_os_alloc));
  CHECK(mi_option_is_enabled(mi_option_limit_os_alloc));   /* mica's older name, same option */
  size_t size = 0;
  uint8_t* start = (uint8_t*)first_arena(&size);
  CHECKF(start != NULL && size == 64 * MiB, "reserve_os_memory: first arena %p of %zu MiB", (void*)start, size / MiB);
  if (start == NULL) return;
  CHECKF(!is_accessible(start + size - os_page()), "arena_eager_commit=0: the reservation is not committed up front");
  void* p = mi_malloc(100);
  void* q = mi_malloc(5 * MiB);
  CHECK(in_range(p, start, size) && in_range(q, start, size));
  CHECK(is_accessible(q));
  errno = 0;
  void* big = mi_malloc(128 * MiB);
  CHECKF(big == NULL && errno == ENOMEM, "disallow_os_alloc: a 128 MiB block must fail (got %p, errno %d)", big, errno);
  CHECK(arena_count() == 1);
  /* programmatic reservations are still allowed */
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(8 * seg_size(), true, false, false, &id) == 0 && id > 1);
  mi_free(p);
  mi_free(q);
}

static void mode_os(void) {
  CHECK(!mi_option_is_enabled(mi_option_disallow_os_alloc));
  void* big = mi_malloc(128 * MiB);
  CHECK(big != NULL);
  mi_free(big);
}

static void mode_noarena(void) {
  CHECK(mi_option_is_enabled(mi_option_disallow_arena_alloc));
  void* blocks[20];
  for (int i = 0; i < 20; i++) { blocks[i] = mi_malloc(50000 + (size_t)i * 1000); CHECK(blocks[i] != NULL); }
  CHECKF(arena_count() == 0, "disallow_arena_alloc: %d arenas were reserved", arena_count());
  for (int i = 0; i < 20; i++) mi_free(blocks[i]);
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(4 * seg_size(), true, false, true, &id) == 0);
  size_t size = 0;
  void* start = mi_arena_area(id, &size);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  void* p = mi_heap_malloc(heap, 1000);
  CHECK(p != NULL && in_range(p, start, size));
  mi_free(p);
  mi_heap_delete(heap);
}

static bool arena_has_hg(void) {
  mi_arena_id_t id = 0;
  if (mi_reserve_os_memory_ex(4 * seg_size(), true, true, true, &id) != 0) return false;
  void* start = mi_arena_area(id, NULL);
  char flags[256] = "";
  const bool ok = smaps_field(start, "VmFlags", flags, sizeof flags);
  printf("  VmFlags of the arena: %s\n", flags);
  return ok && strstr(flags, " hg") != NULL;
}

static bool have_thp(void) {
  return access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
}

static void mode_thp(void) {
  if (!have_thp()) { test_skip("no transparent huge pages in this kernel"); return; }
  CHECK(mi_option_is_enabled(mi_option_allow_large_os_pages) && mi_option_is_enabled(mi_option_allow_thp));
  CHECKF(arena_has_hg(), "allow_large_os_pages: the arena is not advised for huge pages");
  /* the automatic arena too */
  void* p = mi_malloc(1000);
  size_t size = 0;
  void* start = first_arena(&size);
  char flags[256] = "";
  CHECK(start != NULL && smaps_field(start, "VmFlags", flags, sizeof flags) && strstr(flags, " hg") != NULL);
  mi_free(p);
#if defined(PR_GET_THP_DISABLE)
  CHECK(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0);
#endif
}

static void mode_nothp(void) {
  CHECK(!mi_option_is_enabled(mi_option_allow_thp));
  if (!have_thp()) { test_skip("no transparent huge pages in this kernel"); return; }
#if defined(PR_GET_THP_DISABLE)
  CHECKF(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1, "allow_thp=0: THP not disabled for the process");
#endif
  CHECKF(!arena_has_hg(), "allow_thp=0: arenas must not be advised for huge pages");
}

static void mode_huge(void) {
  if (sizeof(void*) < 8) { test_skip("a 1 GiB reservation on 32-bit"); return; }
  /* musl's start-up may allocate before the reservation: then the GiB
     arena on node 0 is not the first one */
  char line[512];
  bool found = false;
  for (int i = 1; i <= 4 && !found && arena_line(i, line, sizeof line); i++) {
    printf("  %s\n", line);
    found = (strstr(line, "1024 MiB") != NULL && strstr(line, "numa node 0") != NULL);
  }
  CHECKF(found, "no 1024 MiB arena on numa node 0 among the first arenas");
}

int main(int argc, char** argv) {
  const char* mode = (argc > 1 ? argv[1] : "");
  printf("mode %s\n", mode);
  if (strcmp(mode, "reserve") == 0) mode_reserve();
  else if (strcmp(mode, "os") == 0) mode_os();
  else if (strcmp(mode, "noarena") == 0) mode_noarena();
  else if (strcmp(mode, "thp") == 0) mode_thp();
  else if (strcmp(mode, "nothp") == 0) mode_nothp();
  else if (strcmp(mode, "huge") == 0) mode_huge();
  else CHECKF(false, "unknown mode \"%s\"", mode);
  return test_report();
}
