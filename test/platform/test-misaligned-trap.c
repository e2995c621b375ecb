/* SPDX-License-Identifier: MIT */
/* Negative control for the alignment proofs: a deliberately misaligned
   64-bit atomic store (the failure class of the field's SIGBUS on ARM) must
   trap here. Registered only for ARM targets under qemu-user, which, like
   the hardware, faults on misaligned exclusive and ordered accesses. If
   this test passes, the emulated legs can see that class of bug, so their
   passing alignment checks mean something. Prints "N passed, N failed". */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include "test.h"

static sigjmp_buf env;
static volatile sig_atomic_t trapped_signal;

static void on_signal(int sig) {
  trapped_signal = sig;
  siglongjmp(env, 1);
}

int main(void) {
  static _Alignas(16) unsigned char buf[64];
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  volatile uint64_t* misaligned = (volatile uint64_t*)(void*)(buf + 4);
  if (sigsetjmp(env, 1) == 0) {
    __atomic_store_n(misaligned, 0x0123456789abcdefull, __ATOMIC_SEQ_CST);
  }
  CHECKF(trapped_signal == SIGBUS, "a 64-bit atomic store at an address 4 mod 8 did not raise SIGBUS (signal %d)", (int)trapped_signal);
  /* the aligned store does not trap */
  trapped_signal = 0;
  if (sigsetjmp(env, 1) == 0) {
    __atomic_store_n((volatile uint64_t*)(void*)(buf + 8), 1, __ATOMIC_SEQ_CST);
  }
  CHECK(trapped_signal == 0);
  return test_report();
}
