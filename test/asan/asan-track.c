/* SPDX-License-Identifier: MIT */
/* A program built with -fsanitize=address on a libmica.a with MI_TRACK_ASAN
   (check-asan-track.sh builds and runs it). One misuse per mode; each
   prints the address it is about to touch ("addr 0x..."), touches it once,
   and exits 0 if it was not stopped ("survived"):
     overflow      one byte past a 13-byte block (its class is 16)
     neighbour     a write into the free block after a live one, at the
                   live block's usable size (which the program asked for)
     uaf-read      a read of a freed block
     uaf-write     a write into a freed block
     fresh         a read of a page's block that was never handed out
     huge          one byte past a 5 MiB + 3 block
     aligned       one byte past 100 bytes of mi_malloc_aligned(100, 256)
     aligned-small one byte past 5 bytes of mi_malloc_aligned(5, 16)
   and `control`, which only does legal things (the full usable size once
   asked for, realloc in place and moving, calloc and rezalloc contents,
   heaps deleted and destroyed, aligned blocks, a huge block, a free from
   another thread) and must exit 0 with no report: prints "control ok". */
#include "mica.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int control_failures;
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "control: %s:%d: %s\n", __FILE__, __LINE__, #cond); control_failures++; } } while (0)

static void touch_write(volatile uint8_t* p) {
  printf("addr %p\n", (void*)p);
  fflush(stdout);
  *p = 0x5a;
}
static void touch_read(volatile uint8_t* p) {
  printf("addr %p\n", (void*)p);
  fflush(stdout);
  const uint8_t v = *p;
  printf("read %u\n", (unsigned)v);
}

static void* free_elsewhere(void* arg) {
  void** blocks = (void**)arg;
  for (size_t i = 0; blocks[i] != NULL; i++) mi_free(blocks[i]);
  return NULL;
}

static bool all_bytes(const uint8_t* p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++) if (p[i] != v) return false;
  return true;
}

static void control(void) {
  /* every small and medium size, the requested bytes written and read */
  void* live[512];
  size_t count = 0;
  for (size_t n = 0; n <= 70000; n += (n < 1024 ? 1 : n / 16)) {
    uint8_t* p = (uint8_t*)mi_malloc(n);
    EXPECT(p != NULL);
    memset(p, 0xa5, n);
    EXPECT(all_bytes(p, n, 0xa5));
    if (count < sizeof live / sizeof live[0] && n % 3 == 0) live[count++] = p;
    else mi_free(p);
  }
  while (count > 0) mi_free(live[--count]);

  /* the usable size, once asked for, is the program's */
  for (size_t n = 1; n < 300; n += 7) {
    uint8_t* p = (uint8_t*)mi_malloc(n);
    const size_t u = mi_usable_size(p);
    EXPECT(u >= n);
    memset(p, 1, u);
    size_t u2 = 0;
    uint8_t* q = (uint8_t*)mi_umalloc(n, &u2);
    memset(q, 2, u2);
    EXPECT(all_bytes(p, u, 1) && all_bytes(q, u2, 2));
    mi_free(q);
    mi_free(p);
  }

  /* zeroed memory, and realloc keeping and moving the contents */
  uint8_t* z = (uint8_t*)mi_calloc(100, 3);
  EXPECT(z != NULL && all_bytes(z, 300, 0));
  memset(z, 7, 300);
  z = (uint8_t*)mi_realloc(z, 290);    /* in place, smaller */
  EXPECT(all_bytes(z, 290, 7));
  z = (uint8_t*)mi_realloc(z, 5000);   /* moves */
  EXPECT(all_bytes(z, 290, 7));
  memset(z, 8, 5000);
  z = (uint8_t*)mi_rezalloc(z, 9000);
  EXPECT(all_bytes(z, 5000, 8) && all_bytes(z + mi_usable_size(z) - 100, 100, 0));
  z = (uint8_t*)mi_recalloc(z, 3, 4000);
  EXPECT(all_bytes(z, 5000, 8) && all_bytes(z + 9000, 3000, 0));
  EXPECT(mi_expand(z, 100) == z);
  memset(z, 9, 100);
  mi_free(z);
  uint8_t* zz = (uint8_t*)mi_zalloc(40);
  EXPECT(all_bytes(zz, 40, 0));
  mi_free(zz);
  char* s = mi_strdup("mica under AddressSanitizer");
  EXPECT(s != NULL && strcmp(s, "mica under AddressSanitizer") == 0);
  mi_free(s);
  mi_free(mi_malloc(0));

  /* aligned blocks, written to their size */
  for (size_t a = 1; a <= 1 << 16; a *= 2) {
    for (size_t n = 1; n < 3 * a && n < 70000; n = n * 3 + 1) {
      uint8_t* p = (uint8_t*)mi_malloc_aligned(n, a);
      EXPECT(p != NULL && ((uintptr_t)p & (a - 1)) == 0);
      memset(p, 3, n);
      p = (uint8_t*)mi_realloc_aligned(p, n + n / 2, a);
      EXPECT(all_bytes(p, n, 3));
      memset(p, 4, n + n / 2);
      mi_free(p);
    }
  }
  uint8_t* big = (uint8_t*)mi_malloc_aligned(100, (size_t)8 << 20);   /* its own segment */
  EXPECT(big != NULL);
  memset(big, 5, 100);
  mi_free(big);

  /* a huge block, written through */
  const size_t hsize = ((size_t)5 << 20) + 3;
  uint8_t* h = (uint8_t*)mi_malloc(hsize);
  memset(h, 6, hsize);
  EXPECT(all_bytes(h + hsize - 4096, 4096, 6));
  mi_free(h);

  /* heaps: deleted (blocks move to the backing heap) and destroyed */
  mi_heap_t* heap = mi_heap_new();
  uint8_t* kept = (uint8_t*)mi_heap_malloc(heap, 200);
  memset(kept, 1, 200);
  mi_heap_delete(heap);
  EXPECT(all_bytes(kept, 200, 1));
  mi_free(kept);
  for (int round = 0; round < 3; round++) {
    heap = mi_heap_new();
    for (size_t i = 0; i < 2000; i++) {
      uint8_t* p = (uint8_t*)mi_heap_malloc(heap, 16 + i % 500);
      memset(p, 2, 16 + i % 500);
      if (i % 3 == 0) mi_free(p);
    }
    mi_heap_destroy(heap);
  }

  /* blocks freed by another thread, then this thread's memory reused */
  void* blocks[257];
  for (size_t i = 0; i < 256; i++) { blocks[i] = mi_malloc(24 + i); memset(blocks[i], 1, 24 + i); }
  blocks[256] = NULL;
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, free_elsewhere, blocks) == 0);
  EXPECT(pthread_join(t, NULL) == 0);
  for (size_t i = 0; i < 2000; i++) {
    uint8_t* p = (uint8_t*)mi_malloc(24 + i % 256);
    memset(p, 2, 24 + i % 256);
    mi_free(p);
  }
  mi_collect(true);
  printf("control %s\n", control_failures == 0 ? "ok" : "FAILED");
}

int main(int argc, char** argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s MODE\n", argv[0]); return 2; }
  const char* mode = argv[1];
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(mode, "control") == 0) {
    control();
    return control_failures == 0 ? 0 : 1;
  }
  if (strcmp(mode, "overflow") == 0) {
    uint8_t* p = (uint8_t*)mi_malloc(13);
    memset(p, 0, 13);
    touch_write(p + 13);
  } else if (strcmp(mode, "neighbour") == 0) {
    mi_heap_t* heap = mi_heap_new();   /* a fresh page: blocks in address order */
    uint8_t* a = (uint8_t*)mi_heap_malloc(heap, 40);
    uint8_t* b = (uint8_t*)mi_heap_malloc(heap, 40);
    const size_t u = mi_usable_size(a);
    if (b != a + u) { fprintf(stderr, "neighbour: blocks %p and %p are not adjacent\n", (void*)a, (void*)b); return 3; }
    memset(a, 0, u);
    mi_free(b);
    touch_write(a + u);
  } else if (strcmp(mode, "uaf-read") == 0 || strcmp(mode, "uaf-write") == 0) {
    uint8_t* p = (uint8_t*)mi_malloc(64);
    memset(p, 1, 64);
    mi_free(p);
    if (mode[4] == 'r') touch_read(p + 20); else touch_write(p + 20);
  } else if (strcmp(mode, "fresh") == 0) {
    mi_heap_t* heap = mi_heap_new();
    uint8_t* p = (uint8_t*)mi_heap_malloc(heap, 64);   /* the first block of a new page (64 KiB) */
    touch_read(p + 16 * 1024);                         /* beyond the first 4 KiB of free list */
  } else if (strcmp(mode, "huge") == 0) {
    const size_t n = ((size_t)5 << 20) + 3;
    uint8_t* p = (uint8_t*)mi_malloc(n);
    memset(p, 1, n);
    touch_write(p + n);
  } else if (strcmp(mode, "aligned") == 0) {
    uint8_t* p = (uint8_t*)mi_malloc_aligned(100, 256);
    memset(p, 1, 100);
    touch_write(p + 100);
  } else if (strcmp(mode, "aligned-small") == 0) {
    uint8_t* p = (uint8_t*)mi_malloc_aligned(5, 16);
    memset(p, 1, 5);
    touch_write(p + 5);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("survived\n");
  _exit(0);   /* nothing more: without tracking a free block's link may now be broken */
}
