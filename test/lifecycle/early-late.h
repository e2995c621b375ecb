/* SPDX-License-Identifier: MIT */
/* Between test-early-late and its library early-late-lib, which links libc
   only (not mica): the library cannot call mica, so the program hands it
   mica's ownership test and the test counters before main returns. */
#ifndef MICA_TEST_EARLY_LATE_H
#define MICA_TEST_EARLY_LATE_H

#include <stddef.h>

typedef struct el_host_s {
  int  (*is_mica)(const void* p);            /* mica served p */
  void (*check)(int ok, const char* what);   /* one check, counted by the program */
  void (*done)(void);                        /* the last late check: report and _exit */
} el_host_t;

/* set by main; the library's destructors use it after main has returned */
void el_set_host(const el_host_t* host);

/* The constructors of the library (priority 101 and default) each keep two
   blocks: 0 and 2 of 5000 bytes, 1 and 3 of 512 (calloc'ed, checked zero),
   filled with pattern_fill(..., seed). NULL if never allocated. */
#define EL_CTOR_BLOCKS 4
void* el_ctor_block(int i, size_t* size, unsigned* seed);
int   el_ctor_ran(void);      /* bit 0: constructor(101) ran; bit 1: the default one */
int   el_ctor_errors(void);   /* what the constructors found wrong (NULL, non-zero calloc) */

#endif
