/* SPDX-License-Identifier: MIT */
/* early-late, early-late-static: allocations before mica's constructor has
   run and after main has returned all go to mica, with no recursion in its
   initialisation (and no other malloc to fall back on: none is looked up).
   test-early-late links libmica.so, test-early-late-static libmica.a.

   Early:
   - glibc: a .preinit_array function of the program allocates and keeps a
     block; it runs before every library's constructor, mica's included
     (musl runs no .preinit_array);
   - the constructors (priority 101 and default) of early-late-lib, a
     library that links libc only, allocate, free and keep blocks; with
     libmica.a they run before mica's constructor (the program's own
     constructors run last), with libmica.so glibc runs them first too, as
     the library is listed after mica. main checks and frees the blocks.
   Threads (8): each keeps a block in a C11 _Thread_local pointer and one
   as the value of a pthread key; the key's destructor checks and frees
   both and then allocates, reallocs and frees again, after mica's own
   thread-exit hook (whose key is older) may have torn the thread's heap
   down. With a C++ compiler a C++ thread_local object with a destructor
   that allocates is used in each thread and in main (early-late-tls.cpp).
   Late, in the order they run:
   - the main thread's C++ thread_local destructor;
   - an atexit handler frees the block main allocated and the main thread's
     _Thread_local block, and allocates, reallocs and frees;
   - the library's default destructor allocates, reallocs and frees (with
     libmica.a and, on glibc, libmica.so: after mica's destructor);
   - the library's destructor(101), the last: calloc, then the report.
   Checks after main cannot return a status: the last one prints the
   "N passed, N failed" line and _exits 0 or 1; main itself returns 3, so a
   process where the late checks never ran fails too. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mica.h"
#include "test.h"
#include "pattern.h"
#include "early-late.h"

#ifndef EL_HAVE_CXX
#define EL_HAVE_CXX 0
#endif
#if EL_HAVE_CXX
void el_cxx_touch(void);        /* early-late-tls.cpp: uses this thread's C++ thread_local */
int  el_cxx_destroyed(void);    /* how many of those objects were destroyed */
#endif
void el_note(int ok, const char* what);   /* also called from C++ */

#define THREADS 8

void el_note(int ok, const char* what) { CHECKF(ok, "%s", what); }

static int el_is_mica(const void* p) { return mi_is_in_heap_region(p); }

static int mica_block_ok(const void* p, size_t n, unsigned seed) {
  return p != NULL && mi_is_in_heap_region(p) && mi_usable_size(p) >= n && pattern_ok(p, n, seed);
}

/* ---- early: before any constructor of a library (glibc) ---------------- */
#if defined(__GLIBC__)
#define EL_HAVE_PREINIT 1
static void* el_preinit_block;
static void el_preinit(int argc, char** argv, char** envp) {
  (void)argc; (void)argv; (void)envp;
  free(malloc(16));
  el_preinit_block = malloc(777);
  if (el_preinit_block != NULL) pattern_fill(el_preinit_block, 777, 7);
}
__attribute__((section(".preinit_array"), used))
static void (*const el_preinit_entry)(int, char**, char**) = &el_preinit;
#else
#define EL_HAVE_PREINIT 0
#endif

/* ---- threads: thread-local blocks freed at thread exit ---------------- */
static pthread_key_t el_key;
static _Thread_local void* el_tls_block;
static atomic_int el_key_destroyed;

static void el_key_destructor(void* value) {
  CHECKF(mica_block_ok(value, 256, 11), "key destructor: the key's block");
  CHECKF(mica_block_ok(el_tls_block, 128, 12), "key destructor: the _Thread_local block");
  free(value);
  free(el_tls_block);
  el_tls_block = NULL;
  void* p = malloc(1000);   /* may re-initialise the thread in mica */
  if (p != NULL) pattern_fill(p, 1000, 13);
  p = realloc(p, 30000);
  CHECKF(mica_block_ok(p, 1000, 13), "key destructor: malloc and realloc");
  free(p);
  atomic_fetch_add(&el_key_destroyed, 1);
}

static void* el_thread(void* arg) {
  el_tls_block = malloc(128);
  if (el_tls_block != NULL) pattern_fill(el_tls_block, 128, 12);
  void* v = malloc(256);
  if (v != NULL) pattern_fill(v, 256, 11);
  CHECK(pthread_setspecific(el_key, v) == 0);
#if EL_HAVE_CXX
  el_cxx_touch();
#endif
  return arg;
}

/* ---- late ----------------------------------------------------------------- */
static void* el_main_block;
static atomic_int el_late_ran;   /* bit 0: atexit handler */

static void el_atexit(void) {
  CHECKF(mica_block_ok(el_main_block, 4000, 21), "atexit: main's block");
  free(el_main_block);
  CHECKF(mica_block_ok(el_tls_block, 128, 22), "atexit: the main thread's _Thread_local block");
  free(el_tls_block);
  el_tls_block = NULL;
  void* p = malloc(64);
  if (p != NULL) pattern_fill(p, 64, 23);
  p = realloc(p, 1 << 20);
  CHECKF(mica_block_ok(p, 64, 23), "atexit: malloc and realloc");
  p = realloc(p, 10);
  CHECKF(mica_block_ok(p, 10, 23), "atexit: realloc down");
  free(p);
  atomic_fetch_or(&el_late_ran, 1);
}

static void el_done(void) {
  CHECKF(atomic_load(&el_late_ran) == 1, "the atexit handler ran before the library's destructors");
#if EL_HAVE_CXX
  CHECKF(el_cxx_destroyed() == THREADS + 1, "%d of %d C++ thread_local objects destroyed", el_cxx_destroyed(), THREADS + 1);
#endif
  _exit(test_report());
}

int main(void) {
#if EL_HAVE_PREINIT
  CHECKF(mica_block_ok(el_preinit_block, 777, 7), "the .preinit_array block");
  free(el_preinit_block);
#endif
  CHECKF(el_ctor_ran() == 3, "the library's constructors ran (%d)", el_ctor_ran());
  CHECKF(el_ctor_errors() == 0, "the library's constructors found %d errors", el_ctor_errors());
  for (int i = 0; i < EL_CTOR_BLOCKS; i++) {
    size_t size = 0;
    unsigned seed = 0;
    void* p = el_ctor_block(i, &size, &seed);
    CHECKF(mica_block_ok(p, size, seed), "constructor block %d", i);
    free(p);
  }

  CHECK(pthread_key_create(&el_key, &el_key_destructor) == 0);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, &el_thread, NULL) == 0);
  for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
  CHECKF(atomic_load(&el_key_destroyed) == THREADS, "%d of %d key destructors ran", atomic_load(&el_key_destroyed), THREADS);

  el_main_block = malloc(4000);
  if (el_main_block != NULL) pattern_fill(el_main_block, 4000, 21);
  el_tls_block = malloc(128);
  if (el_tls_block != NULL) pattern_fill(el_tls_block, 128, 22);
#if EL_HAVE_CXX
  el_cxx_touch();
#endif
  CHECK(atexit(&el_atexit) == 0);
  const el_host_t host = { &el_is_mica, &el_note, &el_done };
  el_set_host(&host);
  fflush(stdout);
  return 3;   /* replaced by the last late check's _exit */
}
