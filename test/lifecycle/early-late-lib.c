/* SPDX-License-Identifier: MIT */
/* The library of test early-late. It links libc only, and the program
   lists it after mica, so glibc runs its constructors before mica's (and
   its destructors after mica's); in the static test the program holds mica
   and every library constructor runs before it. Its malloc is mica's: the
   process's. Constructors allocate, free and keep blocks; destructors
   allocate, realloc and free after main has returned and report through the
   program's callbacks, the last one ending the process (el_host_t.done). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "early-late.h"
#include "pattern.h"

static void*   el_blocks[EL_CTOR_BLOCKS];
static size_t  el_sizes[EL_CTOR_BLOCKS];
static int     el_ran;
static int     el_errors;
static el_host_t el_host;

void el_set_host(const el_host_t* host) { el_host = *host; }
int  el_ctor_ran(void)    { return el_ran; }
int  el_ctor_errors(void) { return el_errors; }

void* el_ctor_block(int i, size_t* size, unsigned* seed) {
  *size = el_sizes[i];
  *seed = 40u + (unsigned)i;
  return el_blocks[i];
}

static void el_ctor_work(int first) {
  void* a = malloc(24);
  if (a == NULL) el_errors++;
  else memset(a, 0xa5, 24);
  free(a);
  char* s = strdup("allocated by libc in a constructor");   /* libc's own call to malloc */
  if (s == NULL) el_errors++;
  free(s);
  unsigned char* z = (unsigned char*)calloc(64, 8);
  for (size_t i = 0; z != NULL && i < 512; i++) { if (z[i] != 0) { el_errors++; break; } }
  void* r = realloc(NULL, 10);
  r = realloc(r, 5000);
  if (z == NULL || r == NULL) el_errors++;
  el_sizes[first] = 5000;
  el_sizes[first + 1] = 512;
  if (r != NULL) pattern_fill(r, 5000, 40u + (unsigned)first);
  if (z != NULL) pattern_fill(z, 512, 41u + (unsigned)first);
  el_blocks[first] = r;
  el_blocks[first + 1] = z;
}

__attribute__((constructor(101))) static void el_ctor_first(void) { el_ctor_work(0); el_ran |= 1; }
__attribute__((constructor))      static void el_ctor_default(void) { el_ctor_work(2); el_ran |= 2; }

/* after main, the C++ thread_local destructors and the atexit handlers;
   after mica's own destructor too (see the top of this file) */
__attribute__((destructor)) static void el_dtor_default(void) {
  if (el_host.check == NULL) {
    fputs("early-late-lib: main never handed over its callbacks\n", stderr);
    _exit(1);
  }
  void* p = malloc(300);
  if (p != NULL) pattern_fill(p, 300, 50);
  el_host.check(p != NULL && el_host.is_mica(p), "library destructor: malloc served by mica");
  p = realloc(p, 70000);
  el_host.check(p != NULL && el_host.is_mica(p) && pattern_ok(p, 300, 50), "library destructor: realloc up keeps the contents");
  p = realloc(p, 100);
  el_host.check(p != NULL && el_host.is_mica(p) && pattern_ok(p, 100, 50), "library destructor: realloc down keeps the contents");
  free(p);
  char* s = strdup("late");
  el_host.check(s != NULL && el_host.is_mica(s), "library destructor: libc's strdup served by mica");
  free(s);
}

/* destructors of priority 101 run after the default ones: the very last
   check of the test */
__attribute__((destructor(101))) static void el_dtor_last(void) {
  void* q = calloc(10, 1000);
  el_host.check(q != NULL && el_host.is_mica(q), "last destructor: calloc served by mica");
  free(q);
  el_host.done();
}
