/* SPDX-License-Identifier: MIT */
/* dl-static, dl-static-ld-tls: a program on the C library's malloc (not
   linked with mica) dlopen()s dl-static-plugin, a library that links
   libmica.a statically and exports none of its symbols. Every round (10):
   - the library does not replace the program's malloc: dlsym finds neither
     mi_malloc nor a malloc of its own, and the program's blocks are not
     mica's while the library's are;
   - threads started in the library allocate with mica and exit (their
     blocks freed by later threads);
   - a thread of the program uses the library's mica (so it has a value for
     mica's thread-exit key), waits while the library is dlclose()d and then
     exits: the key's destructor must not run in the unmapped library;
   - after dlclose the library is no longer mapped (/proc/self/maps), as
     glibc unloads it even with its static TLS (DF_STATIC_TLS); not checked
     on musl, whose dlclose unloads nothing (DL_EXPECT_UNMAP=0);
   - new threads of the program allocate and exit, and a fork succeeds
     (the unloaded mica's fork handlers are gone).
   Then the program returns from main and exits. dl-static-ld-tls links a
   variant with local-dynamic TLS (MI_LOCAL_DYNAMIC_TLS), the only kind
   musl can dlopen. Usage: test-dl-static PATH-OF-THE-LIBRARY */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "dl-util.h"

#ifndef DL_EXPECT_UNMAP
#define DL_EXPECT_UNMAP 1
#endif

#define ROUNDS 10

typedef struct dls_s {
  int   (*owns)(const void*);
  void* (*alloc)(size_t, unsigned);
  int   (*check)(const void*, size_t, unsigned);
  void  (*release)(void*);
  void  (*touch)(void);
  int   (*threads)(size_t);
} dls_t;

static bool resolve(void* h, dls_t* d) {
  d->owns = (__typeof__(d->owns))dl_lookup(h, "dls_owns");
  d->alloc = (__typeof__(d->alloc))dl_lookup(h, "dls_alloc");
  d->check = (__typeof__(d->check))dl_lookup(h, "dls_check");
  d->release = (__typeof__(d->release))dl_lookup(h, "dls_free");
  d->touch = (__typeof__(d->touch))dl_lookup(h, "dls_touch");
  d->threads = (__typeof__(d->threads))dl_lookup(h, "dls_threads");
  return d->owns != NULL && d->alloc != NULL && d->check != NULL && d->release != NULL && d->touch != NULL && d->threads != NULL;
}

/* a and b are defined in the same loaded object */
static bool same_object(void* a, void* b) {
  Dl_info ia, ib;
  return a != NULL && b != NULL && dladdr(a, &ia) != 0 && dladdr(b, &ib) != 0 && ia.dli_fbase == ib.dli_fbase;
}

/* a program thread that uses the library's mica, then outlives it */
typedef struct linger_s { void (*touch)(void); sem_t used; sem_t unloaded; } linger_t;

static void* linger_main(void* arg) {
  linger_t* l = (linger_t*)arg;
  l->touch();
  sem_post(&l->used);
  while (sem_wait(&l->unloaded) != 0) { }
  free(malloc(200));   /* the program's malloc */
  return NULL;         /* thread exit: mica's key must not be called */
}

static void* plain_thread(void* arg) {
  char* p = (char*)malloc(1000);
  if (p != NULL) memset(p, 1, 1000);
  free(p);
  return arg;
}

static void round_run(int r, const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  CHECKF(h != NULL, "round %d: dlopen: %s", r, dlerror());
  if (h == NULL) return;
  dls_t d;
  if (!resolve(h, &d)) { dlclose(h); return; }

  /* mica stays inside the library */
  CHECKF(dlsym(h, "mi_malloc") == NULL, "round %d: the library exports mi_malloc", r);
  CHECKF(!same_object(dlsym(h, "malloc"), (void*)d.owns), "round %d: the library exports a malloc of its own", r);
  void* mine = malloc(100);
  CHECKF(mine != NULL && !d.owns(mine), "round %d: the program's malloc went to the library's mica", r);
  free(mine);
  void* p = d.alloc(5000, (unsigned)r);
  CHECKF(d.check(p, 5000, (unsigned)r), "round %d: the library's block", r);
  d.release(p);

  CHECKF(d.threads(4) == 0, "round %d: the library's threads found a bad block", r);

  linger_t l;
  l.touch = d.touch;
  sem_init(&l.used, 0, 0);
  sem_init(&l.unloaded, 0, 0);
  pthread_t lt;
  const bool lingering = (pthread_create(&lt, NULL, &linger_main, &l) == 0);
  CHECK(lingering);
  if (lingering) { while (sem_wait(&l.used) != 0) { } }

  CHECKF(dlclose(h) == 0, "round %d: dlclose: %s", r, dlerror());
  if (DL_EXPECT_UNMAP) CHECKF(!dl_is_mapped(path), "round %d: %s is still mapped after dlclose", r, path);

  if (lingering) {
    sem_post(&l.unloaded);
    CHECK(pthread_join(lt, NULL) == 0);
  }
  sem_destroy(&l.used);
  sem_destroy(&l.unloaded);

  for (int i = 0; i < 4; i++) {
    pthread_t t;
    void* res = NULL;
    CHECK(pthread_create(&t, NULL, &plain_thread, &l) == 0 && pthread_join(t, &res) == 0 && res == &l);
  }
  pid_t child = fork();
  if (child == 0) _exit(0);
  int status = -1;
  CHECKF(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "round %d: fork after dlclose (status %d)", r, status);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH-OF-THE-LIBRARY\n", argv[0]);
    return 2;
  }
  char path[PATH_MAX];
  CHECKF(realpath(argv[1], path) != NULL, "realpath(%s)", argv[1]);
  CHECKF(dlsym(RTLD_DEFAULT, "mi_malloc") == NULL, "mica is in the program before the library is loaded");
  for (int r = 0; r < ROUNDS; r++) round_run(r, path);
  return test_report();
}
