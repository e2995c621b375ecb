/* SPDX-License-Identifier: MIT */
/* secure/guard-pages: a linear overflow off the end of a page. At
   MI_SECURE 3 the last OS page of every page's area is inaccessible, so a
   child that writes from the end of a page's last block to the end of the
   page's area dies with SIGSEGV; at MI_SECURE 0 the same writes land in
   the page's own slack and the child exits normally. Also at level 3: the
   page holds the blocks that fit before its guard (capacity accounts for
   it), and an overflow one byte past a large or huge block's usable size
   faults. Built for SECURE_LEVEL 0 and 3. */
#include "mica.h"
#include "mica/geometry.h"
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECURE_LEVEL
#error "SECURE_LEVEL: the MI_SECURE level of the library the test is linked with"
#endif

#define SLICE ((uintptr_t)MI_SLICE_SIZE)   /* a small page's area: one slice (doc/design.md) */
#define BLOCK 48                       /* at level 0 the last block leaves 32 bytes of slack (32 KiB slices), 16 (64 KiB) */

__attribute__((unused)) static inline uintptr_t align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }

/* Runs `write` in a child and returns its wait status. */
static int in_child(void (*write)(uint8_t*, size_t), uint8_t* from, size_t n)
{
  fflush(stdout); fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) { write(from, n); _exit(0); }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  return status;
}

static void overflow(uint8_t* from, size_t n)
{
  for (size_t i = 0; i < n; i++) ((volatile uint8_t*)from)[i] = 0x41;
}

static void expect(int status, bool faults, const char* what)
{
  if (faults) {
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "%s: the child dies with SIGSEGV (status %#x)", what, status);
  } else {
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: no fault without guard pages (status %#x)", what, status);
  }
}

int main(void)
{
  const size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
  if (os_page * 2 > SLICE) { test_skip("OS pages of 32 KiB or more: small pages have no guard"); return test_report(); }
  /* a fresh heap's first page of BLOCK: allocate until a block lands in
     another slice (the page is full); its highest block is the last one */
  mi_heap_t* heap = mi_heap_new();
  uint8_t* first = (uint8_t*)mi_heap_malloc(heap, BLOCK);
  const uintptr_t slice = (uintptr_t)first & ~(SLICE - 1);
  const size_t bsize = mi_usable_size(first);
  uint8_t* last = first;
  size_t count = 1;
  for (int i = 0; i < 100000; i++) {
    uint8_t* p = (uint8_t*)mi_heap_malloc(heap, BLOCK);
    if (((uintptr_t)p & ~(SLICE - 1)) != slice) break;
    count++;
    if (p > last) last = p;
  }
  uint8_t* const end = last + bsize;
  const size_t tail = (size_t)(slice + SLICE - (uintptr_t)end);   /* from the last block to the area's end */
  printf("MI_SECURE %d: %zu blocks of %zu bytes in the page, %zu bytes after the last one\n", SECURE_LEVEL, count, bsize, tail);
  CHECKF(bsize == BLOCK, "the block size is %d (%zu)", BLOCK, bsize);
#if SECURE_LEVEL >= 3
  CHECKF(count == (SLICE - os_page) / bsize, "the page holds the blocks that fit before its guard: %zu, not %zu",
         (size_t)((SLICE - os_page) / bsize), count);
  CHECKF(tail >= os_page, "the guard (%zu bytes) follows the last block (%zu bytes left)", os_page, tail);
#else
  CHECKF(count == SLICE / bsize, "without a guard the page holds %zu blocks (%zu)", (size_t)(SLICE / bsize), count);
#endif
  expect(in_child(overflow, end, tail), SECURE_LEVEL >= 3, "a write from the end of the page's last block to the end of its area");
#if SECURE_LEVEL >= 3
  /* the area's end is also what a large block (a span of slices) or a
     huge one (a segment of its own) overflows into */
  static const size_t big[] = { 300000, 5u << 20 };
  for (size_t k = 0; k < 2; k++) {
    uint8_t* p = (uint8_t*)mi_heap_malloc(heap, big[k]);
    CHECK(p != NULL);
    if (p == NULL) continue;
    const size_t usable = mi_usable_size(p);
    memset(p, 0x5a, usable);   /* all of the usable size is usable */
    uint8_t* const past = p + usable;
    /* a span ends at a slice boundary, its guard before it, after less
       than a slice of slack; a huge block's usable size ends at its guard */
    const size_t n = (k == 0 ? (size_t)(align_up((uintptr_t)past + 1, SLICE) - (uintptr_t)past) : 1);
    expect(in_child(overflow, past, n), true, big[k] < (1u << 20) ? "a write past a large block" : "a write past a huge block");
    mi_free(p);
  }
#endif
  mi_heap_destroy(heap);
  return test_report();
}
