/* SPDX-License-Identifier: MIT */
/* Helpers for the arena tests: what the kernel says about a range
   (/proc/self/maps permissions, mincore residency, smaps fields) and a
   capture of mica's output (mi_arenas_print, warnings). */
#ifndef MICA_ARENA_UTIL_H
#define MICA_ARENA_UTIL_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mica.h"
#include "mica/geometry.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* mica's segment (and arena unit) size */
static inline size_t seg_size(void) { return MI_SEGMENT_SIZE; }
static inline size_t os_page(void) { long p = sysconf(_SC_PAGESIZE); return p > 0 ? (size_t)p : 4096; }

/* The permissions ("rw-p", "---p") of the mapping that holds `addr`. */
static inline bool maps_perms(const void* addr, char perms[5]) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return false;
  char line[512];
  bool found = false;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    char p[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) != 3) continue;
    if ((uintptr_t)addr >= lo && (uintptr_t)addr < hi) { memcpy(perms, p, 5); found = true; break; }
  }
  fclose(f);
  return found;
}
static inline bool is_accessible(const void* addr) {
  char p[5];
  return maps_perms(addr, p) && p[0] == 'r' && p[1] == 'w';
}

/* Resident pages of [p, p+size) (mincore). */
static inline size_t resident_bytes(const void* p, size_t size) {
  const size_t ps = os_page();
  const uintptr_t start = (uintptr_t)p & ~(uintptr_t)(ps - 1);
  const size_t n = ((uintptr_t)p + size - start + ps - 1) / ps;
  unsigned char* vec = (unsigned char*)calloc(n, 1);
  if (vec == NULL) return 0;
  size_t res = 0;
  if (mincore((void*)start, n * ps, vec) == 0) {
    for (size_t i = 0; i < n; i++) res += (vec[i] & 1) ? ps : 0;
  }
  free(vec);
  return res;
}

/* A field ("VmFlags", "KernelPageSize", ...) of the smaps entry that holds `addr`. */
static inline bool smaps_field(const void* addr, const char* field, char* value, size_t size) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return false;
  char line[512];
  bool in = false, found = false;
  const size_t flen = strlen(field);
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    const size_t hex = strspn(line, "0123456789abcdef");
    if (hex > 0 && line[hex] == '-' && sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {   /* a mapping's header line */
      in = ((uintptr_t)addr >= lo && (uintptr_t)addr < hi);
      continue;
    }
    if (in && strncmp(line, field, flen) == 0 && line[flen] == ':') {
      const char* v = line + flen + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t n = strcspn(v, "\n");
      if (n >= size) n = size - 1;
      memcpy(value, v, n);
      value[n] = 0;
      found = true;
      break;
    }
  }
  fclose(f);
  return found;
}

/* Everything mica prints while capturing. */
static char capture_buf[64 * 1024];
static size_t capture_len;
static void capture_out(const char* msg, void* arg) {
  (void)arg;
  size_t n = strlen(msg);
  if (capture_len + n >= sizeof capture_buf) n = sizeof capture_buf - capture_len - 1;
  memcpy(capture_buf + capture_len, msg, n);
  capture_len += n;
  capture_buf[capture_len] = 0;
}
static inline void capture_start(void) { capture_len = 0; capture_buf[0] = 0; mi_register_output(&capture_out, NULL); }
static inline const char* capture_stop(void) { mi_register_output(NULL, NULL); return capture_buf; }

/* The line of mi_arenas_print about arena id `id` ("  arena N (id N): ..."). */
static inline bool arena_line(int id, char* line, size_t size) {
  capture_start();
  mi_arenas_print();
  const char* out = capture_stop();
  char key[32];
  snprintf(key, sizeof key, "(id %d):", id);
  for (const char* s = out; s != NULL && *s; ) {
    const char* e = strchr(s, '\n');
    size_t n = (e == NULL ? strlen(s) : (size_t)(e - s));
    if (memmem(s, n, key, strlen(key)) != NULL && strstr(s, "  arena ") == s) {
      if (n >= size) n = size - 1;
      memcpy(line, s, n); line[n] = 0;
      return true;
    }
    s = (e == NULL ? NULL : e + 1);
  }
  return false;
}

#endif
