/* SPDX-License-Identifier: MIT */
/* test-arena-destroy MODE: destroy_on_exit. A program on the C library's
   malloc dlopen()s a library with mica inside, which allocates 8 MiB, and
   dlclose()s it. With destroy_on_exit (MODE "on") mica's exit gives its
   arenas back: the block's address is no longer mapped. Without ("off")
   the memory stays mapped (what a process exit would reclaim). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "test.h"

static bool is_mapped(void* p) {
  const uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
  unsigned char v;
  return mincore((void*)((uintptr_t)p & ~(ps - 1)), ps, &v) == 0 || errno != ENOMEM;
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: test-arena-destroy PLUGIN on|off\n"); return 2; }
  const bool on = (strcmp(argv[2], "on") == 0);
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  CHECKF(lib != NULL, "dlopen: %s", dlerror());
  if (lib == NULL) return test_report();
  void* (*alloc)(size_t) = (void* (*)(size_t))dlsym(lib, "dp_alloc");
  void (*destroy)(int) = (void (*)(int))dlsym(lib, "dp_destroy_on_exit");
  CHECK(alloc != NULL && destroy != NULL);
  if (alloc == NULL || destroy == NULL) return test_report();
  destroy(on ? 1 : 0);
  void* small = alloc(100);
  void* big = alloc(8 << 20);
  CHECK(small != NULL && big != NULL && is_mapped(small) && is_mapped(big));
  CHECK(dlclose(lib) == 0);
  printf("destroy_on_exit %s: after dlclose the blocks are %s\n", on ? "on" : "off",
         is_mapped(small) || is_mapped(big) ? "still mapped" : "unmapped");
  if (on) CHECKF(!is_mapped(small) && !is_mapped(big), "destroy_on_exit: mica's memory is unmapped at its exit");
  else CHECKF(is_mapped(small), "without destroy_on_exit the arena stays");
  return test_report();
}
