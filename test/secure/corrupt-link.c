/* SPDX-License-Identifier: MIT */
/* secure/corrupt-link: a use after free (or an overflow from the block
   before) overwrites a free block's link with an address of the
   attacker's choosing, encoded as a release build encodes links (mica's
   fixed key; the key is no secret). Built for SECURE_LEVEL 0, 1 and 3.

   Level 0 documents the attack: the corrupted link is followed unchecked,
   so the second malloc hands out the chosen address, a static buffer
   outside mica (run in a child; nothing is asserted about its crash).
   Levels 1 and 3 assert the defence: the link decodes with the page's
   random keys into an address outside the page, the pop reports EFAULT
   ("corrupted free list entry"), the list is cut there, and the next
   thousand allocations are mica blocks of the heap, distinct and
   writable, never the chosen address.
   Levels 1 and 3, small changes: in 300 fresh heaps (fresh pages, fresh
   keys) one byte of a free block's link is flipped, as a one-byte
   overflow would (each byte of the word in turn, pattern 0x5a, as
   test/misuse's overflow-1-free): every flip is reported when the block
   is handed out, and no block is handed out twice. With a link encoding
   that did not spread such a change (a rotation did not), about one page
   in ten decoded the flipped link to another block of the page. */
#include "../wrong/wrong.h"

#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>

#ifndef SECURE_LEVEL
#error "SECURE_LEVEL: the MI_SECURE level of the library the test is linked with"
#endif

/* include/mica/internal.h, MI_LINK_KEY: the release builds' fixed key */
#if UINTPTR_MAX > 0xffffffffu
#define LINK_KEY ((uintptr_t)0xffffffffd21f6e5bULL)
#else
#define LINK_KEY ((uintptr_t)0xd21f6e5bUL)
#endif

static _Alignas(64) unsigned char target[256];   /* the attacker's chosen address */

#define BLOCK 48
#define LIVE 16

/* Allocates LIVE blocks from a fresh heap, frees one (it becomes the head
   of its page's free list) and overwrites its link. Returns the heap; the
   next two allocations are the freed block, then whatever its link says. */
static mi_heap_t* corrupt(void)
{
  mi_heap_t* heap = mi_heap_new();
  void* b[LIVE];
  for (int i = 0; i < LIVE; i++) b[i] = mi_heap_malloc(heap, BLOCK);
  mi_free(b[3]);
  *(volatile uintptr_t*)b[3] = (uintptr_t)target ^ LINK_KEY;   /* the use after free */
  return heap;
}

#if SECURE_LEVEL > 0
static void flip_bytes(void)
{
  enum { ROUNDS = 300, K = 8 };
  int reported = 0, doubled = 0;
  mi_option_disable(mi_option_show_errors);   /* 300 reports: counted, not shown */
  for (int r = 0; r < ROUNDS; r++) {
    mi_heap_t* heap = mi_heap_new();
    unsigned char* b[K];
    for (int i = 0; i < K; i++) b[i] = (unsigned char*)mi_heap_malloc(heap, BLOCK);
    for (int i = 1; i < K; i++) mi_free(b[i]);   /* b[7] is the head of the page's free list, b[1] the last freed */
    unsigned char* victim = b[1 + r % (K - 1)];
    ((volatile unsigned char*)victim)[r % sizeof(uintptr_t)] ^= 0x5a;
    wrong_reset();
    unsigned char* got[K + 8];
    for (int i = 0; i < K + 8; i++) {   /* through the corrupted link and beyond */
      got[i] = (unsigned char*)mi_heap_malloc(heap, BLOCK);
      for (int j = 0; j < i; j++) doubled += (got[j] == got[i]);
    }
    reported += (wrong_with(EFAULT) == 1);
    for (int i = 0; i < K + 8; i++) mi_free(got[i]);
    mi_free(b[0]);
    mi_heap_delete(heap);
  }
  mi_option_enable(mi_option_show_errors);
  CHECKF(reported == ROUNDS && doubled == 0, "one-byte flips of a free link: %d of %d reported, %d blocks handed out twice",
         reported, ROUNDS, doubled);
}
#endif

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
#if SECURE_LEVEL == 0
  (void)capture_begin; (void)capture_end;   /* wrong.h's capture: for the reports of levels 1 and 3 */
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    wrong_reset();
    mi_heap_t* heap = corrupt();
    void* volatile p = mi_heap_malloc(heap, BLOCK);
    p = mi_heap_malloc(heap, BLOCK);
    /* through a volatile: a compiler may take malloc's result for never equal to a static object's address */
    const volatile uintptr_t got = (uintptr_t)p;
    _exit(got == (uintptr_t)target && wrong_with(EFAULT) == 0 ? 0 : 1);   /* no further allocation: the list now runs wild */
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  printf("MI_SECURE 0: the corrupted link %s\n",
         WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "was followed: malloc handed out the chosen address, unreported"
         : WIFEXITED(status) ? "was not followed as expected" : "crashed the process");
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "at level 0 the link is unchecked, so malloc hands out the chosen address (status %#x)", status);
#else
  wrong_reset();
  mi_option_enable(mi_option_show_errors);
  mi_heap_t* heap = corrupt();
  capture_begin();
  void* first = mi_heap_malloc(heap, BLOCK);   /* the freed block: its link is read here */
  char out[1024];
  capture_end(out, sizeof out);
  CHECK(first != NULL && mi_heap_contains_block(heap, first));
  CHECKF(wrong_with(EFAULT) == 1, "one EFAULT report for the corrupted link (%d reports, %d EFAULT)", wrong_count, wrong_with(EFAULT));
  CHECKF(strstr(out, "corrupted free list entry") != NULL, "the report says what happened: \"%s\"", out);
  /* what follows is sane: mica's blocks, distinct, writable, never the target */
  enum { N = 1000 };
  static unsigned char* q[N];
  bool sane = true;
  for (int i = 0; i < N; i++) {
    q[i] = (unsigned char*)mi_heap_malloc(heap, BLOCK);
    const volatile uintptr_t got = (uintptr_t)q[i];   /* compared as a number (see above) */
    sane = sane && q[i] != NULL && got != (uintptr_t)target && mi_heap_contains_block(heap, q[i]) && q[i] != first;
    if (q[i] != NULL) memset(q[i], i & 0xff, BLOCK);
  }
  CHECKF(sane, "after the report, allocations are blocks of the heap, never the chosen address");
  bool distinct = true;
  for (int i = 0; i < N; i++) distinct = distinct && q[i][0] == (unsigned char)(i & 0xff) && q[i][BLOCK - 1] == (unsigned char)(i & 0xff);
  CHECKF(distinct, "no block was handed out twice (each kept what was written to it)");
  CHECKF(wrong_with(EFAULT) == 1, "no further reports (%d)", wrong_count);
  for (int i = 0; i < N; i++) mi_free(q[i]);
  mi_free(first);
  mi_heap_delete(heap);
  flip_bytes();
#endif
  return test_report();
}
