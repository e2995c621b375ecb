/* SPDX-License-Identifier: MIT */
/* The library of test dl: test-dl dlopen()s and dlclose()s it again and
   again while the process runs on mica. It links libc only, so its malloc,
   realloc, free and libc's strdup are whatever the process's are (mica's),
   and blocks cross the boundary both ways. Its constructor allocates a
   block that its destructor checks, reallocs and frees; a destructor that
   finds the block lost prints why and _exit(1)s, as it runs in dlclose. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pattern.h"

#define PLUGIN_CTOR_SIZE 3000
#define PLUGIN_CTOR_SEED 77u

static void* plugin_ctor_block;

__attribute__((constructor)) static void plugin_load(void) {
  plugin_ctor_block = malloc(PLUGIN_CTOR_SIZE);
  if (plugin_ctor_block != NULL) pattern_fill(plugin_ctor_block, PLUGIN_CTOR_SIZE, PLUGIN_CTOR_SEED);
}

__attribute__((destructor)) static void plugin_unload(void) {
  if (!pattern_ok(plugin_ctor_block, PLUGIN_CTOR_SIZE, PLUGIN_CTOR_SEED)) {
    fputs("dl-plugin: the constructor's block is lost or corrupted at unload\n", stderr);
    _exit(1);
  }
  void* q = realloc(plugin_ctor_block, 4 * PLUGIN_CTOR_SIZE);
  if (!pattern_ok(q, PLUGIN_CTOR_SIZE, PLUGIN_CTOR_SEED)) {
    fputs("dl-plugin: realloc at unload lost the block's contents\n", stderr);
    _exit(1);
  }
  free(q);
  plugin_ctor_block = NULL;
}

void* plugin_alloc(size_t n, unsigned seed) {
  void* p = malloc(n);
  if (p != NULL) pattern_fill(p, n, seed);
  return p;
}

void* plugin_realloc(void* p, size_t n) { return realloc(p, n); }
void  plugin_free(void* p)              { free(p); }
char* plugin_strdup(const char* s)      { return strdup(s); }   /* libc allocates */

/* Threads of the library: thread i checks and frees in[i] (the host's
   block of in_size bytes, seed i), allocates `count` blocks of
   pattern_size(j) with seed i*1000+j, frees the even ones and leaves the odd
   ones in out[i*count + j] (NULL for even j) for the host to free after the
   thread has exited. Returns how many host blocks were found corrupted. */
typedef struct plugin_worker_s {
  pthread_t thread;
  unsigned  index;
  void*     in;
  size_t    in_size;
  void**    out;
  size_t    count;
  int       bad;
} plugin_worker_t;

static void* plugin_worker(void* arg) {
  plugin_worker_t* w = (plugin_worker_t*)arg;
  if (!pattern_ok(w->in, w->in_size, w->index)) w->bad++;
  free(w->in);
  for (size_t j = 0; j < w->count; j++) {
    const unsigned seed = w->index * 1000u + (unsigned)j;
    void* p = plugin_alloc(pattern_size(j), seed);
    if (p == NULL) { w->bad++; continue; }
    if (j % 2 == 0) {
      if (!pattern_ok(p, pattern_size(j), seed)) w->bad++;
      free(p);
      p = NULL;
    }
    w->out[j] = p;
  }
  return NULL;
}

int plugin_threads(size_t nthreads, void** in, size_t in_size, void** out, size_t count) {
  plugin_worker_t* w = (plugin_worker_t*)calloc(nthreads, sizeof(plugin_worker_t));
  if (w == NULL) return 1;
  int bad = 0;
  for (size_t i = 0; i < nthreads; i++) {
    w[i].index = (unsigned)i;
    w[i].in = in[i];
    w[i].in_size = in_size;
    w[i].out = out + i * count;
    w[i].count = count;
    if (pthread_create(&w[i].thread, NULL, &plugin_worker, &w[i]) != 0) {
      w[i].count = 0;
      free(in[i]);
      bad++;
      w[i].thread = pthread_self();
    }
  }
  for (size_t i = 0; i < nthreads; i++) {
    if (!pthread_equal(w[i].thread, pthread_self())) pthread_join(w[i].thread, NULL);
    bad += w[i].bad;
  }
  free(w);
  return bad;
}
