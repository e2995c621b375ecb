/* SPDX-License-Identifier: MIT */
/* An embedder's translation unit (doc/embedding.md): mica's whole source
   compiled into this file with only include paths, configured by macros
   before the include, as CPython's Objects/obmalloc.c does. check-embed.sh
   builds it with the plain compiler (no CMake target, no mica flags), checks
   the object's symbols, and runs it.

   EMBED_DEBUG=1: MI_DEBUG 2 with the embedder's fill bytes and its own thread
   id function (CPython's --with-pydebug configuration), and mica's headers
   included before static.c, as CPython's headers do. EMBED_LIB=1: no
   main, one exported function: the shared object check-embed.sh links.
   EMBED_ALIGN8=1: MI_BLOCK_ALIGN 8, the size classes CPython's objects get
   (blocks aligned to what their size implies). */
#ifndef EMBED_DEBUG
#define EMBED_DEBUG 0
#endif
#ifndef EMBED_ALIGN8
#define EMBED_ALIGN8 0
#endif
#if EMBED_ALIGN8
#define MI_BLOCK_ALIGN 8
#endif
#ifndef EMBED_LIB
#define EMBED_LIB 0
#endif
#if EMBED_DEBUG
#define MI_DEBUG        2
#define MI_DEBUG_UNINIT 0xCD   /* CPython's PYMEM_CLEANBYTE */
#define MI_DEBUG_FREED  0xDD   /* CPython's PYMEM_DEADBYTE */
#define MI_DEBUG_PADDING 0xFD  /* CPython's PYMEM_FORBIDDENBYTE */
#define MI_PRIM_THREAD_ID embed_thread_id   /* mimalloc's name for MI_THREAD_ID_FUNC */
#endif
#define MI_EMBED 1
#if EMBED_DEBUG
/* CPython's order: its headers include mica's first, static.c comes later */
#include "mica.h"
#include "mica/types.h"
#include "mica/internal.h"
#endif
#include "static.c"

#if EMBED_DEBUG
#include <stdatomic.h>
static _Thread_local char embed_tls_byte;
static atomic_ulong embed_thread_id_calls;
/* the embedder's thread id: any value unique among live threads */
uintptr_t embed_thread_id(void) {
  atomic_fetch_add_explicit(&embed_thread_id_calls, 1, memory_order_relaxed);
  return (uintptr_t)&embed_tls_byte;
}
#endif

#if EMBED_LIB
__attribute__((visibility("default"))) int embed_roundtrip(size_t n) {
  char* p = (char*)mi_malloc(n);
  if (p == NULL) return 0;
  p[0] = 1;
  mi_free(p);
  return 1;
}
#else
#include <pthread.h>
#include "../test.h"

static bool count_used(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg) {
  (void)heap; (void)block; (void)block_size;
  *(size_t*)arg += area->used;
  return true;
}

static void* thread_alloc(void* arg) {
  void** out = (void**)arg;
  for (int i = 0; i < 64; i++) out[i] = mi_malloc(24 + (size_t)i * 8);
  return NULL;
}

/* Every aligned entry point honours `align` whatever the class step. */
static void check_aligned_api(void) {
  for (size_t align = 8; align <= 64; align *= 2) {
    void* keep[256];
    for (size_t n = 1; n <= 256; n++) {
      /* a run of blocks: the free-list heads land on every multiple of 8 */
      void* p = mi_malloc_aligned(n, align);
      CHECKF(p != NULL && ((uintptr_t)p & (align - 1)) == 0, "mi_malloc_aligned(%zu, %zu) = %p", n, align, p);
      keep[n - 1] = p;
      void* z = mi_zalloc_aligned(n, align);
      CHECKF(z != NULL && ((uintptr_t)z & (align - 1)) == 0 && ((char*)z)[n - 1] == 0, "mi_zalloc_aligned(%zu, %zu)", n, align);
      void* c = mi_calloc_aligned(1, n, align);
      CHECKF(c != NULL && ((uintptr_t)c & (align - 1)) == 0, "mi_calloc_aligned(1, %zu, %zu)", n, align);
      void* o = mi_malloc_aligned_at(n + 8, align, 8);
      CHECKF(o != NULL && (((uintptr_t)o + 8) & (align - 1)) == 0, "mi_malloc_aligned_at(%zu, %zu, 8)", n + 8, align);
      void* r = mi_realloc_aligned(mi_malloc(n), n + 16, align);
      CHECKF(r != NULL && ((uintptr_t)r & (align - 1)) == 0, "mi_realloc_aligned(.., %zu, %zu)", n + 16, align);
      void* q = NULL;
      CHECK(mi_posix_memalign(&q, align, n) == 0 && ((uintptr_t)q & (align - 1)) == 0);
      mi_free(z); mi_free(c); mi_free(o); mi_free(r); mi_free(q);
    }
    for (size_t n = 1; n <= 256; n++) mi_free(keep[n - 1]);
  }
}

int main(void) {
  /* the plain API */
  char* p = (char*)mi_malloc(100);
  CHECK(p != NULL);
  memset(p, 'x', 100);
  int* z = (int*)mi_calloc(32, sizeof(int));
  CHECK(z != NULL && z[0] == 0 && z[31] == 0);
  p = (char*)mi_realloc(p, 5000);
  CHECK(p != NULL && p[0] == 'x' && p[99] == 'x');

  /* what CPython's sys.getallocatedblocks() asks */
  size_t used = 0;
  CHECK(mi_heap_visit_blocks(mi_heap_get_default(), false, count_used, &used));
  CHECK(used >= 2);
  mi_free(p);
  mi_free(z);

  /* blocks allocated by other threads, freed here */
  void* blocks[4][64];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, thread_alloc, blocks[i]) == 0);
  for (int i = 0; i < 4; i++) CHECK(pthread_join(t[i], NULL) == 0);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 64; j++) { CHECK(blocks[i][j] != NULL); mi_free(blocks[i][j]); }

  /* the class of a size, and the alignment a plain block has */
  for (size_t n = 16; n <= 128; n += 8) {
    void* b = mi_malloc(n);
#if EMBED_ALIGN8
    /* exact classes in 8-byte steps: a 24-byte object takes 24 bytes */
    CHECKF(mi_usable_size(b) == n, "MI_BLOCK_ALIGN 8: mi_malloc(%zu) has %zu usable bytes", n, mi_usable_size(b));
    CHECKF(((uintptr_t)b & (n % 16 == 0 ? 15 : 7)) == 0, "mi_malloc(%zu) = %p", n, b);
#else
    /* a padded block (MI_PADDING, MI_DEBUG 2) has exactly the bytes asked for */
    const size_t fundamental = _Alignof(max_align_t);
    const size_t usable = mi_usable_size(b);
    CHECKF(((uintptr_t)b & (fundamental - 1)) == 0 && (MI_PADDING ? usable == n : usable % fundamental == 0 && usable >= n),
           "mi_malloc(%zu) = %p with %zu usable bytes", n, b, usable);
#endif
    mi_free(b);
  }
  check_aligned_api();

#if EMBED_DEBUG
  CHECK(atomic_load(&embed_thread_id_calls) > 0);
  unsigned char* q = (unsigned char*)mi_malloc(64);
  CHECK(q != NULL && q[0] == 0xCD && q[63] == 0xCD);
  unsigned char* keep = (unsigned char*)mi_malloc(64);   /* keeps the page in use */
  mi_free(q);
  /* the block is on the page's free list: its first word is the link, the
     rest the freed pattern (mica's own memory: still mapped) */
  CHECK(q[sizeof(void*)] == 0xDD && q[63] == 0xDD);
  mi_free(keep);
#if MI_PADDING
  /* the slack after a padded block's canary is the embedder's byte: 40
     bytes, the canary, then the slack up to the 64-byte block's last word */
  unsigned char* s = (unsigned char*)mi_malloc(40);
  CHECK(s != NULL && mi_usable_size(s) == 40 && s[44] == 0xFD && s[64 - sizeof(size_t) - 1] == 0xFD);
  mi_free(s);
#endif
  unsigned char* c = (unsigned char*)mi_calloc(1, 64);
  CHECK(c != NULL && c[0] == 0 && c[63] == 0);
  mi_free(c);
#endif
  return test_report();
}
#endif
