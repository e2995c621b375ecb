/* SPDX-License-Identifier: MIT */
/* Consumer of an installed mica: checks that the public API links and works.
   Exit status 0 when every check passed. */
#include <mica.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#ifndef CONSUMER_LINK
#define CONSUMER_LINK "pkg-config"
#endif

static int failures = 0;

static void check(int ok, const char* what) {
  printf("consumer[%s]: %-48s %s\n", CONSUMER_LINK, what, ok ? "ok" : "FAILED");
  if (!ok) failures++;
}

int main(void) {
  int v = mi_version();
  printf("consumer[%s]: mi_version() = %d (header MI_MALLOC_VERSION %d)\n",
         CONSUMER_LINK, v, MI_MALLOC_VERSION);
  check(v == MI_MALLOC_VERSION, "mi_version() matches the header");

  unsigned char* p = (unsigned char*)mi_malloc(100);
  check(p != NULL, "mi_malloc(100) returns a block");
  if (p != NULL) {
    check(((uintptr_t)p % sizeof(void*)) == 0, "block is pointer-aligned");
    memset(p, 0xA5, 100);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= (p[i] == 0xA5);
    check(same, "block is writable and keeps its contents");
    check(mi_usable_size(p) >= 100, "mi_usable_size >= requested size");
    mi_free(p);
  }

  /* many blocks of mixed sizes, freed in a different order */
  void* blocks[256];
  int all = 1;
  for (int i = 0; i < 256; i++) {
    size_t sz = (size_t)(1 + (i * 37) % 3000);
    blocks[i] = mi_malloc(sz);
    if (blocks[i] == NULL) { all = 0; continue; }
    memset(blocks[i], i & 0xFF, sz);
  }
  check(all, "256 mixed-size mi_malloc calls succeed");
  for (int i = 255; i >= 0; i -= 2) mi_free(blocks[i]);
  for (int i = 0; i < 256; i += 2) mi_free(blocks[i]);

  char* z = (char*)mi_zalloc(1000);
  int zero = (z != NULL);
  for (int i = 0; zero && i < 1000; i++) zero = (z[i] == 0);
  check(zero, "mi_zalloc(1000) is zero-filled");
  mi_free(z);

  mi_free(NULL);
  check(1, "mi_free(NULL) is a no-op");

  printf("consumer[%s]: %s\n", CONSUMER_LINK, failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
