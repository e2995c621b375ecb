/* SPDX-License-Identifier: MIT */
/* Linked with libmica.a: mica's malloc replaces the C library's for the
   whole program, including what libc allocates internally and the program
   frees (strdup, getline, open_memstream, asprintf, fopen's buffer), and the
   reverse. Prints "N passed, N failed". */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mica.h"
#include "test.h"

int main(void) {
  /* plain malloc is mica's */
  void* p = malloc(100);
  CHECK(p != NULL);
  if (p != NULL) memset(p, 0, 100);
  CHECK(mi_is_in_heap_region(p));
  free(p);

  /* libc allocates, the program frees */
  char* s = strdup("static override");
  CHECK(s != NULL && mi_is_in_heap_region(s));
  free(s);

  char* line = NULL;
  size_t cap = 0;
  FILE* mem = fmemopen((void*)"first line\nsecond\n", 18, "r");
  CHECK(mem != NULL);
  if (mem != NULL) {
    CHECK(getline(&line, &cap, mem) == 11 && strcmp(line, "first line\n") == 0);
    CHECK(mi_is_in_heap_region(line));
    fclose(mem);
  }
  free(line);

  char* text = NULL;
  CHECK(asprintf(&text, "%d-%s", 42, "mica") == 7 && strcmp(text, "42-mica") == 0);
  CHECK(mi_is_in_heap_region(text));
  free(text);

  char* buf = NULL;
  size_t len = 0;
  FILE* ms = open_memstream(&buf, &len);
  CHECK(ms != NULL);
  if (ms != NULL) {
    for (int i = 0; i < 1000; i++) fprintf(ms, "%d,", i);
    fclose(ms);
    CHECK(buf != NULL && len > 3000 && mi_is_in_heap_region(buf));
  }
  free(buf);

  /* the program allocates, libc frees (realloc by libc: getline grows our block) */
  char* mine = malloc(4);
  size_t mine_cap = 4;
  FILE* mem2 = fmemopen((void*)"a much longer line than four bytes\n", 35, "r");
  if (mem2 != NULL) {
    CHECK(getline(&mine, &mine_cap, mem2) == 35);
    CHECK(mi_is_in_heap_region(mine) && mine_cap >= 36);
    fclose(mem2);
  }
  free(mine);

  /* stdio's own buffer: fopen + a write allocates it with malloc */
  FILE* f = fopen("/dev/null", "w");
  CHECK(f != NULL);
  if (f != NULL) { fputs("x", f); fclose(f); }
  return test_report();
}
