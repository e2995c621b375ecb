/* SPDX-License-Identifier: MIT */
/* test-arena-numa: huge OS pages and NUMA (linked with libmica.a: it
   reaches the internal NUMA functions to pretend a topology).

   1. The node count and the calling thread's node agree with sysfs and
      getcpu; shares of an interleave add up.
   2. With a pretended 4 nodes: a new segment comes from an arena bound to
      the thread's node before unbound ones and one registered earlier on
      another node; mi_reserve_huge_os_pages_interleave makes one arena per
      node (bound to it: /proc/self/numa_maps shows prefer:N for the node
      this machine has).
   3. Huge OS pages: where the kernel has none reserved, a warning and a
      normal arena that works; as root, the test reserves 2 MiB pages
      (/proc/sys/vm/nr_hugepages, restored afterwards) and the arena is then
      backed by them (smaps KernelPageSize). */
#include "arena-util.h"
#include "test.h"
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>

size_t _mi_os_numa_node_count(void);
void   _mi_os_numa_node_count_set(size_t count);
size_t _mi_os_numa_node(void);
size_t _mi_os_numa_share(size_t total, size_t nodes, size_t node);

static bool in_range(const void* p, const void* start, size_t size) {
  return (const uint8_t*)p >= (const uint8_t*)start && (const uint8_t*)p < (const uint8_t*)start + size;
}

static size_t sysfs_nodes(void) {
  size_t n = 0;
  char path[64];
  for (;;) {
    snprintf(path, sizeof path, "/sys/devices/system/node/node%zu", n);
    if (access(path, F_OK) != 0) return n;
    n++;
  }
}

static void test_topology(void) {
  printf("topology:\n");
  const size_t count = _mi_os_numa_node_count();
  const size_t sys = sysfs_nodes();
  printf("  %zu node(s), sysfs %zu, this thread on node %zu\n", count, sys, _mi_os_numa_node());
  CHECK(count == (sys == 0 ? 1 : sys));
  unsigned cpu = 0, node = 0;
  if (syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && count > 1) CHECK(_mi_os_numa_node() == node % count);
  CHECK(_mi_os_numa_node() < count);
  const size_t expect[4] = { 3, 3, 2, 2 };
  size_t sum = 0;
  for (size_t i = 0; i < 4; i++) { CHECK(_mi_os_numa_share(10, 4, i) == expect[i]); sum += _mi_os_numa_share(10, 4, i); }
  CHECK(sum == 10 && _mi_os_numa_share(3, 4, 3) == 0 && _mi_os_numa_share(5, 0, 0) == 0);
}

/* numa_maps policy of the mapping that starts at `p` ("prefer:0", "default") */
static bool numa_policy(const void* p, char* policy, size_t size) {
  FILE* f = fopen("/proc/self/numa_maps", "r");
  if (f == NULL) return false;
  char line[1024];
  bool found = false;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long start;
    char pol[64];
    if (sscanf(line, "%lx %63s", &start, pol) == 2 && start == (uintptr_t)p) { snprintf(policy, size, "%s", pol); found = true; break; }
  }
  fclose(f);
  return found;
}

static int arena_node(int id) {
  char line[512];
  if (!arena_line(id, line, sizeof line)) return -100;
  const char* s = strstr(line, "numa node ");
  return (s == NULL ? -100 : atoi(s + strlen("numa node ")));
}

static void* fresh_block;
static void* fresh_thread(void* arg) { (void)arg; fresh_block = mi_malloc(100); return NULL; }

static void test_multi_node(void) {
  if (sizeof(void*) < 8) { printf("pretended 4 nodes: skipped on 32-bit (4 GiB of arenas)\n"); return; }
  printf("pretended 4 nodes:\n");
  _mi_os_numa_node_count_set(4);
  CHECK(_mi_os_numa_node_count() == 4);
  const size_t here = _mi_os_numa_node();

  /* interleave: 4 GiB over 4 nodes, a GiB each (normal arenas: no huge pages reserved) */
  capture_start();
  mi_arenas_print();
  const char* out = capture_stop();
  const int before = atoi(strstr(out, "arenas: ") + strlen("arenas: "));
  CHECK(mi_reserve_huge_os_pages_interleave(4, 0, 0) == 0);
  for (int k = 0; k < 4; k++) {
    const int node = arena_node(before + 1 + k);
    CHECKF(node == k, "interleave: arena %d is on node %d, expected %d", before + 1 + k, node, k);
  }
  size_t size = 0;
  void* start = mi_arena_area((mi_arena_id_t)(before + 1 + (int)here), &size);
  char policy[64] = "";
  if (numa_policy(start, policy, sizeof policy)) {
    char expect[32];
    snprintf(expect, sizeof expect, "prefer:%zu", here);
    CHECKF(strcmp(policy, expect) == 0, "the arena of node %zu has policy %s", here, policy);
    printf("  arena on node %zu: numa_maps policy %s\n", here, policy);
  }

  _mi_os_numa_node_count_set(0);   /* back to the real topology */
}

/* Two shared arenas, the one of another node registered first (and mica's
   own, unbound, before both): a fresh thread's first segment comes from
   the one on its node. */
static void test_selection(void) {
  printf("arena selection by node:\n");
  _mi_os_numa_node_count_set(4);
  const size_t here = _mi_os_numa_node();
  static uint8_t a_buf[3 * 4 * MiB], b_buf[3 * 4 * MiB];
  mi_arena_id_t a = 0, b = 0;
  CHECK(mi_manage_os_memory_ex(a_buf, sizeof a_buf, true, false, true, (int)((here + 1) % 4), false, &a));
  CHECK(mi_manage_os_memory_ex(b_buf, sizeof b_buf, true, false, true, (int)here, false, &b));
  size_t asz = 0, bsz = 0;
  void* astart = mi_arena_area(a, &asz);
  void* bstart = mi_arena_area(b, &bsz);
  pthread_t t;
  pthread_create(&t, NULL, &fresh_thread, NULL);
  pthread_join(t, NULL);
  printf("  fresh thread's block %p: %s\n", fresh_block,
         in_range(fresh_block, bstart, bsz) ? "arena on its node" : (in_range(fresh_block, astart, asz) ? "arena on another node" : "elsewhere"));
  CHECKF(in_range(fresh_block, bstart, bsz), "a new segment comes from the arena on the thread's node");
  mi_free(fresh_block);
  _mi_os_numa_node_count_set(0);
}

/* ---- huge OS pages -------------------------------------------------------------- */
static long read_long(const char* path) {
  FILE* f = fopen(path, "r");
  if (f == NULL) return -1;
  long v = -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}
static bool write_long(const char* path, long v) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return false;
  const bool ok = fprintf(f, "%ld\n", v) > 0;
  return (fclose(f) == 0 && ok);
}

#define HP_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define HP_1G "/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages"

/* Reserve one GiB of huge pages; true when the kernel's huge pages back it. */
static bool reserve_one(mi_arena_id_t* id, char* kps, size_t kps_size) {
  capture_start();
  mi_option_enable(mi_option_show_errors);
  const int err = mi_reserve_huge_os_pages_at_ex(1, 0, 1000, true, id);
  mi_option_disable(mi_option_show_errors);
  const char* out = capture_stop();
  CHECKF(err == 0 && *id > 0, "mi_reserve_huge_os_pages_at_ex: error %d", err);
  void* start = mi_arena_area(*id, NULL);
  mi_heap_t* heap = mi_heap_new_in_arena(*id);
  char* p = (char*)mi_heap_malloc(heap, 1000);
  CHECK(p != NULL && in_range(p, start, GiB));
  if (p != NULL) p[999] = 1;
  kps[0] = 0;
  smaps_field(p, "KernelPageSize", kps, kps_size);
  const bool huge = (strstr(kps, "4 kB") == NULL && strstr(kps, "kB") != NULL);
  const bool warned = (strstr(out, "no huge OS pages") != NULL);
  CHECKF(huge != warned, "a warning exactly when no huge pages back the arena (page size %s)", kps);
  mi_free(p);
  return huge;
}

static void test_huge_pages(void) {
  if (sizeof(void*) < 8) { printf("huge OS pages: skipped on 32-bit (1 GiB pages)\n"); return; }
  printf("huge OS pages:\n");
  const long free2m = read_long(HP_2M), free1g = read_long(HP_1G);
  mi_arena_id_t id = 0;
  char kps[64];
  if (free2m < 514 && free1g < 1) {
    CHECK(!reserve_one(&id, kps, sizeof kps));
    printf("  none reserved by the kernel: warning and a normal arena (page size %s)\n", kps);
    size_t n = 5;
    CHECK(mi_reserve_huge_os_pages(1, 1.0, &n) == 0 && n == 0);   /* no huge pages obtained */
  }
  /* as root: reserve 2 MiB pages for the test, then give them back */
  const char* nr = "/proc/sys/vm/nr_hugepages";
  const long orig = read_long(nr);
  if (orig >= 0 && geteuid() == 0 && free1g < 1 && write_long(nr, orig + 514) && read_long(HP_2M) >= 514) {
    const bool huge = reserve_one(&id, kps, sizeof kps);
    printf("  with 514 pages of 2 MiB reserved: %s (page size %s)\n", huge ? "huge pages" : "normal arena", kps);
    CHECK(huge && strstr(kps, "2048 kB") != NULL);
    write_long(nr, orig);   /* the mapped pages become surplus and go at exit */
  } else if (free2m >= 514 || free1g >= 1) {
    CHECK(reserve_one(&id, kps, sizeof kps));
    printf("  reserved by the kernel: page size %s\n", kps);
  } else {
    printf("  not root (or nr_hugepages not writable): the huge-page outcome is not tested here\n");
  }
}

int main(void) {
  void* keep = mi_malloc(100);   /* the main thread's segment stays in the automatic arena */
  test_topology();
  test_selection();
  test_multi_node();
  test_huge_pages();
  mi_free(keep);
  return test_report();
}
