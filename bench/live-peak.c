/* SPDX-License-Identifier: MIT */
/* live-peak: how many bytes a program has live at its peak. An LD_PRELOAD
   shim over the C library's malloc that adds the requested sizes of the
   live blocks and prints the highest sum at exit (to stderr):

     live-peak: 123456 bytes live at most, 789 allocations

   No allocator can keep a program's peak RSS below that sum plus what the
   process holds without any heap, so bench/floor.sh uses it to find the
   least peak RSS a workload could have (doc/benchmarks.md).

   Build: gcc -O2 -shared -fPIC -o live-peak.so bench/live-peak.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* each block carries a header just before it: where the underlying block
   starts and the size asked for */
typedef struct { void* base; size_t size; size_t pad[2]; } header_t;   /* 32 bytes: keeps 16-byte alignment */

static void* (*real_malloc)(size_t);
static void (*real_free)(void*);
static void* (*real_memalign)(size_t, size_t);

static _Atomic size_t live, peak, count;

/* dlsym may itself call calloc: serve that from a static buffer */
static _Alignas(64) char boot[4096];
static size_t boot_used;

static void resolve(void) {
  if (real_malloc != NULL) return;
  real_memalign = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  real_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
  real_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
}

static void account(ptrdiff_t delta) {
  const size_t now = atomic_fetch_add(&live, (size_t)delta) + (size_t)delta;
  if (delta <= 0) return;
  atomic_fetch_add(&count, 1);
  size_t old = atomic_load(&peak);
  while (now > old && !atomic_compare_exchange_weak(&peak, &old, now)) {}
}

static void* alloc(size_t align, size_t size) {
  if (align < 16) align = 16;
  if (size > SIZE_MAX / 2 || align > SIZE_MAX / 4) { errno = ENOMEM; return NULL; }
  const size_t room = (sizeof(header_t) + align - 1) / align * align;   /* header room, a multiple of align */
  void* base;
  if (real_malloc == NULL) {   /* inside dlsym */
    if (boot_used + room + size > sizeof(boot)) return NULL;
    base = boot + boot_used;
    boot_used += (room + size + 63) & ~(size_t)63;
  } else {
    base = (align <= 16 ? real_malloc(room + size) : real_memalign(align, room + size));
    if (base == NULL) return NULL;
  }
  header_t* h = (header_t*)((char*)base + room) - 1;
  h->base = base;
  h->size = size;
  account((ptrdiff_t)size);
  return (char*)base + room;
}

static header_t* header_of(void* p) { return (header_t*)p - 1; }

void* malloc(size_t size) { resolve(); return alloc(16, size); }
void* calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) { errno = ENOMEM; return NULL; }
  resolve();
  void* p = alloc(16, n * size);
  if (p != NULL && real_malloc != NULL) memset(p, 0, n * size);   /* boot is zero */
  return p;
}
void free(void* p) {
  if (p == NULL) return;
  header_t* h = header_of(p);
  account(-(ptrdiff_t)h->size);
  if ((char*)h->base >= boot && (char*)h->base < boot + sizeof(boot)) return;
  real_free(h->base);
}
void* realloc(void* p, size_t size) {
  if (p == NULL) return malloc(size);
  if (size == 0) { free(p); return NULL; }
  void* q = malloc(size);
  if (q == NULL) return NULL;
  const size_t old = header_of(p)->size;
  memcpy(q, p, old < size ? old : size);
  free(p);
  return q;
}
void* reallocarray(void* p, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) { errno = ENOMEM; return NULL; }
  return realloc(p, n * size);
}
void* memalign(size_t align, size_t size) { resolve(); return alloc(align, size); }
void* aligned_alloc(size_t align, size_t size) { return memalign(align, size); }
void* valloc(size_t size) { return memalign(4096, size); }
void* pvalloc(size_t size) { return memalign(4096, (size + 4095) & ~(size_t)4095); }
int posix_memalign(void** out, size_t align, size_t size) {
  if (align == 0 || (align & (align - 1)) != 0 || align % sizeof(void*) != 0) return EINVAL;
  void* p = memalign(align, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
size_t malloc_usable_size(void* p) { return p == NULL ? 0 : header_of(p)->size; }

__attribute__((destructor)) static void report(void) {
  fprintf(stderr, "live-peak: %zu bytes live at most, %zu allocations\n", atomic_load(&peak), atomic_load(&count));
}
