/* SPDX-License-Identifier: MIT */
/* A program that is NOT linked with mica, run with libmica.so in LD_PRELOAD
   (alone, or with another allocator before or after it).

   usage: test-preload LIBMICA_SO mica|other

   `mica`:  mica must serve malloc; `other`: another allocator, preloaded
   before mica, must serve it. Either way, every function that hands out a
   block (calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
   memalign, valloc, pvalloc, the glibc names __libc_malloc, ...) and every
   block the C library allocates for the program (strdup, getline,
   open_memstream, asprintf, realpath) must come from the allocator that
   serves malloc, so that any free function may release it. Ownership is
   asked of mica itself (mi_is_in_heap_region of the loaded libmica.so, found
   with dlopen(RTLD_NOLOAD) + dlsym, so another library's mi_ names do not
   answer), and mica must report no invalid pointer (mi_register_error).
   Prints "N passed, N failed". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"

typedef void* malloc_fun(size_t);
typedef void* calloc_fun(size_t, size_t);
typedef void* realloc_fun(void*, size_t);
typedef void  free_fun(void*);
typedef void* memalign_fun(size_t, size_t);
typedef int   posix_memalign_fun(void**, size_t, size_t);

static bool (*mica_owns)(const void*);
static bool expect_mica;
static const char* owner_name;
static atomic_long mica_errors;
static atomic_bool expect_overflow;   /* set around requests that overflow on purpose */

static void on_mica_error(int err, void* arg) {
  (void)arg;
  if (err == EOVERFLOW && atomic_load(&expect_overflow)) return;
  atomic_fetch_add(&mica_errors, 1);
  fprintf(stderr, "test-preload: mica reported error %d\n", err);
}

static void* mica_lib;   /* the handle of the preloaded libmica.so */

/* the process-wide binding of `name`, as the program's own calls get it; NULL if none */
static void* global_fun(const char* name) { return dlsym(RTLD_DEFAULT, name); }

/* Is the process's `name` mica's export? Then its semantics (alignment,
   errno, usable size) are checked too, also when mica forwards it to
   another allocator; another allocator's own functions are checked only for
   where their blocks come from. */
static bool mica_serves(const char* name) {
  void* const f = global_fun(name);
  return (f != NULL && f == dlsym(mica_lib, name));
}

/* `p`, just returned by function `fn` (NULL: the C library) for `size` bytes
   aligned to `align` (0: any), is a usable block of the allocator that
   serves malloc */
static void check_block(const char* fn, void* p, size_t size, size_t align) {
  const char* const what = (fn != NULL ? fn : "the C library");
  CHECKF(p != NULL, "%s(%zu) returned NULL (errno %d)", what, size, errno);
  if (p == NULL) return;
  const bool is_mica = mica_owns(p);
  CHECKF(is_mica == expect_mica, "%s: block %p is %smica's, but malloc is served by %s",
         what, p, (is_mica ? "" : "not "), owner_name);
  if (fn != NULL && mica_serves(fn)) {
    if (align != 0) CHECKF(((uintptr_t)p % align) == 0, "%s: %p is not aligned to %zu", what, p, align);
    CHECKF(malloc_usable_size(p) >= size, "%s: malloc_usable_size(%p) = %zu < %zu", what, p, malloc_usable_size(p), size);
  }
  memset(p, 0xA5, size);
}

/* a count whose product with 4 overflows, hidden from the compiler's checks */
static volatile size_t huge_count = SIZE_MAX / 2;

static void test_standard(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* p = malloc(100);
  check_block("malloc", p, 100, 0);
  free(p);

  unsigned char* z = calloc(100, 10);
  bool zeroed = (z != NULL);
  for (size_t i = 0; z != NULL && i < 1000; i++) zeroed = zeroed && (z[i] == 0);
  CHECKF(zeroed, "calloc: the block is not zeroed");
  check_block("calloc", z, 1000, 0);
  free(z);
  atomic_store(&expect_overflow, true);
  errno = 0;
  void* volatile none = calloc(huge_count, 4);   /* volatile: the call may not be elided */
  CHECKF(none == NULL && (errno == ENOMEM || !mica_serves("calloc")), "calloc: an overflowing size gives NULL and ENOMEM");
  atomic_store(&expect_overflow, false);

  /* realloc and reallocarray of a block from malloc keep its content
     (reallocarray of malloc's block: what crashed `ls`) */
  char* s = malloc(16);
  CHECK(s != NULL);
  if (s != NULL) {
    strcpy(s, "mixed preloads");
    char* r = realloc(s, 5000);
    CHECK(r != NULL && strcmp(r, "mixed preloads") == 0);
    if (r != NULL) s = r;
    r = reallocarray(s, 1000, 40);
    CHECK(r != NULL && strcmp(r, "mixed preloads") == 0);
    if (r != NULL) s = r;
    check_block("reallocarray", s, 40000, 0);
    atomic_store(&expect_overflow, true);
    errno = 0;
    void* volatile kept = s;   /* on failure the block stays the caller's (hidden from -Wuse-after-free) */
    void* volatile none = reallocarray(kept, huge_count, 4);
    CHECKF(none == NULL && (errno == ENOMEM || !mica_serves("reallocarray")), "reallocarray: an overflowing size gives NULL and ENOMEM");
    atomic_store(&expect_overflow, false);
    free(s);
  }
  void* a = reallocarray(NULL, 10, 10);
  check_block("reallocarray", a, 100, 0);
  free(a);

  void* q = NULL;
  CHECKF(posix_memalign(&q, 64, 100) == 0, "posix_memalign(64) failed");
  check_block("posix_memalign", q, 100, 64);
  free(q);
  q = NULL;
  if (mica_serves("posix_memalign")) CHECKF(posix_memalign(&q, 3, 100) == EINVAL && q == NULL, "posix_memalign(3) is not EINVAL");
  a = aligned_alloc(256, 512);
  check_block("aligned_alloc", a, 512, 256);
  free(a);
  a = memalign(4096, 100);
  check_block("memalign", a, 100, 4096);
  free(a);
  a = memalign(8, 24);
  check_block("memalign", a, 24, 8);
  free(a);
  a = valloc(100);
  check_block("valloc", a, 100, page);
  free(a);
  malloc_fun* pvalloc_f = (malloc_fun*)global_fun("pvalloc");   /* not in every libc's headers */
  if (pvalloc_f != NULL) {
    a = pvalloc_f(100);
    check_block("pvalloc", a, page, page);
    free(a);
  }
}

/* glibc's names, where the process has them (mica exports them on glibc) */
static void test_libc_names(void) {
  malloc_fun* l_malloc = (malloc_fun*)global_fun("__libc_malloc");
  calloc_fun* l_calloc = (calloc_fun*)global_fun("__libc_calloc");
  realloc_fun* l_realloc = (realloc_fun*)global_fun("__libc_realloc");
  free_fun* l_free = (free_fun*)global_fun("__libc_free");
  free_fun* l_cfree = (free_fun*)global_fun("__libc_cfree");
  free_fun* cfree_f = (free_fun*)global_fun("cfree");
  memalign_fun* l_memalign = (memalign_fun*)global_fun("__libc_memalign");
  malloc_fun* l_valloc = (malloc_fun*)global_fun("__libc_valloc");
  malloc_fun* l_pvalloc = (malloc_fun*)global_fun("__libc_pvalloc");
  posix_memalign_fun* p_memalign = (posix_memalign_fun*)global_fun("__posix_memalign");
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* p;
  if (l_malloc != NULL) { p = l_malloc(100); check_block("__libc_malloc", p, 100, 0); free(p); }
  if (l_calloc != NULL) { p = l_calloc(10, 10); check_block("__libc_calloc", p, 100, 0); free(p); }
  if (l_realloc != NULL) {
    p = malloc(10);
    void* r = l_realloc(p, 1000);
    check_block("__libc_realloc", r, 1000, 0);
    free(r != NULL ? r : p);
  }
  if (l_memalign != NULL) { p = l_memalign(128, 100); check_block("__libc_memalign", p, 100, 128); free(p); }
  if (l_valloc != NULL) { p = l_valloc(100); check_block("__libc_valloc", p, 100, page); free(p); }
  if (l_pvalloc != NULL) { p = l_pvalloc(100); check_block("__libc_pvalloc", p, page, page); free(p); }
  if (p_memalign != NULL) {
    p = NULL;
    CHECKF(p_memalign(&p, 32, 100) == 0, "__posix_memalign failed");
    check_block("__posix_memalign", p, 100, 32);
    free(p);
  }
  /* blocks of malloc released by the other free functions */
  free_fun* frees[3] = { l_free, l_cfree, cfree_f };
  for (int i = 0; i < 3; i++) {
    if (frees[i] == NULL) continue;
    p = malloc(200);
    check_block("malloc", p, 200, 0);
    frees[i](p);
  }
}

/* the C library allocates, the program frees, and the reverse */
static void test_libc_internal(void) {
  char* s = strdup("allocated by the C library");
  check_block(NULL, s, 0, 0);
  free(s);

  char* line = malloc(4);   /* the program's block, which getline reallocates */
  size_t cap = 4;
  FILE* f = tmpfile();
  CHECK(f != NULL);
  if (f != NULL) {
    for (int i = 0; i < 100; i++) fprintf(f, "line %d of a file read back with getline, long enough to grow the buffer\n", i);
    rewind(f);
    long n = 0;
    while (getline(&line, &cap, f) > 0) n++;
    CHECK(n == 100);
    check_block(NULL, line, 0, 0);
    fclose(f);   /* stdio frees the buffer it allocated */
  }
  free(line);

  char* text = NULL;
  CHECK(asprintf(&text, "%d-%s", 42, "preload") == 10);
  check_block(NULL, text, 0, 0);
  free(text);

  char* buf = NULL;
  size_t len = 0;
  FILE* ms = open_memstream(&buf, &len);
  CHECK(ms != NULL);
  if (ms != NULL) {
    for (int i = 0; i < 2000; i++) fprintf(ms, "%d,", i);
    fclose(ms);
    check_block(NULL, buf, len, 0);
  }
  free(buf);

  char* path = realpath(".", NULL);
  check_block(NULL, path, 0, 0);
  free(path);
}

/* many blocks from every function, resized and freed by others */
static void test_mixed_load(void) {
  enum { N = 2000 };
  static void* blocks[N];
  static size_t sizes[N];
  unsigned x = 12345;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < N; i++) {
      x = x * 1103515245u + 12345u;
      const size_t size = 1 + (x >> 8) % (i % 100 == 0 ? 100000 : 500);
      void* p = blocks[i];
      const bool resize = ((x >> 4) % 6 == 2 || (x >> 4) % 6 == 3);
      switch ((x >> 4) % 6) {
        case 0: free(p); p = malloc(size); break;
        case 1: free(p); p = calloc(1, size); break;
        case 2: p = realloc(p, size); break;
        case 3: p = reallocarray(p, size, 1); break;
        case 4: free(p); p = aligned_alloc(64, size); break;
        default: free(p); p = memalign(32, size); break;
      }
      blocks[i] = p;
      if (p == NULL) { CHECKF(false, "allocation of %zu bytes failed", size); sizes[i] = 0; continue; }
      if (resize) {   /* realloc keeps the old content, up to the smaller size */
        const size_t keep = (sizes[i] < size ? sizes[i] : size);
        const unsigned char* b = p;
        bool same = true;
        for (size_t k = 0; k < keep; k++) same = same && (b[k] == (unsigned char)(i & 0xFF));
        CHECKF(same, "block %d lost its content in a realloc", i);
      }
      sizes[i] = size;
      memset(p, (int)(i & 0xFF), size);
    }
    for (int i = 0; i < N; i += 97) {
      const unsigned char* b = blocks[i];
      bool same = true;
      for (size_t k = 0; b != NULL && k < sizes[i]; k++) same = same && (b[k] == (unsigned char)(i & 0xFF));
      CHECKF(same, "block %d lost its content", i);
      CHECKF(b == NULL || mica_owns(b) == expect_mica, "block %d (%p) is not from %s", i, (const void*)b, owner_name);
    }
  }
  for (int i = 0; i < N; i++) free(blocks[i]);
}

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[2], "mica") != 0 && strcmp(argv[2], "other") != 0)) {
    fprintf(stderr, "usage: %s LIBMICA_SO mica|other\n", argv[0]);
    return 2;
  }
  expect_mica = (strcmp(argv[2], "mica") == 0);
  owner_name = (expect_mica ? "mica" : "the allocator preloaded before mica");
  void* const lib = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
  mica_lib = lib;
  CHECKF(lib != NULL, "%s is not loaded: run this program with it in LD_PRELOAD", argv[1]);
  if (lib == NULL) return test_report();
  mica_owns = (bool (*)(const void*))dlsym(lib, "mi_is_in_heap_region");
  void (*register_error)(void (*)(int, void*), void*) = (void (*)(void (*)(int, void*), void*))dlsym(lib, "mi_register_error");
  CHECKF(mica_owns != NULL && register_error != NULL, "%s exports no mi_is_in_heap_region or mi_register_error", argv[1]);
  if (mica_owns == NULL || register_error == NULL) return test_report();
  register_error(&on_mica_error, NULL);
  test_standard();
  test_libc_names();
  test_libc_internal();
  test_mixed_load();
  CHECKF(atomic_load(&mica_errors) == 0, "mica reported %ld errors (an invalid pointer: a block of another allocator reached it)", atomic_load(&mica_errors));
  return test_report();
}
