/* SPDX-License-Identifier: MIT */
/* test-purge: freed memory goes back to the OS once the purge delay passed.

   Resident memory is read from /proc/self/statm (resident pages x page size).
   1. purge_delay = 100 ms: allocate ~64 MiB as blocks of 256 KiB - 1 MiB and
      touch every page; free all; mi_collect(false) right away must keep the
      memory (delay not passed); after 300 ms, mi_collect(false) must have
      returned at least 75% of it.
   2. One huge 256 MiB block, touched, freed: returned after the delay.
   3. purge_delay = 0: returned by mi_collect(false) right after the free.
   3b. purge_delay = 0: a freed 1 MiB block (a span of 16 slices) goes back
      in one OS call, not one per slice (each call of a threaded process
      costs a TLB shootdown), as the purge_calls statistic counts.
   4. purge_delay = 5 s: still resident 300 ms after the free (the delay set
      is the one that counts), returned by mi_collect(true) at once.
   5. Bursts: with the default delays (10 ms; 10 x 10 ms rounds while the
      thread is busy), a program that frees 64 MiB at once, works 25 ms in
      other pages and then reuses the 64 MiB, eight times, keeps it: the
      reuse takes under a quarter of the page faults of a first touch. With
      10 ms rounds regardless, each burst was purged and faulted back in.
   6. A busy thread still returns what it leaves unused: 64 MiB freed, then
      400 ms of work in other pages; the 64 MiB must be gone from rss
      (without an explicit collect).
   7. Thread turnover (purge_delay 100 ms): a thread touches 32 MiB of
      1 KiB blocks, frees all but one block per MiB and exits, so its
      segments are abandoned with their free pages. They stay resident for
      the next thread (an exit once purged them at once, and a pool's next
      thread faulted them all back in: bench-mstress), which reuses them
      with under a quarter of the first touch's page faults. What nobody
      takes over is still returned: after that thread has exited too, a
      collect in another thread 300 ms later must drop rss by 24 MiB. A turn
      counts only if the next thread allocated within 80 ms of the last
      free (a loaded qemu-user run is slower: then the purge is right);
      after five slow turns the reuse check is skipped, not passed.
   8. abandoned_page_purge (as mimalloc's option), purge_delay 5 s: the
      same thread's exit returns its segments' free pages at once, rss at
      least 24 MiB under what the thread touched, with no collect (the
      option was accepted and did nothing).
      With MICA_TEST_NO_THREADS set (CI's i686 leg under qemu-i386, whose
      7.2 hangs in every thread creation of an i386 guest), cases 7 and 8
      are skipped. */
#define _GNU_SOURCE   /* RUSAGE_THREAD */
#include "mica.h"
#include "mimalloc-stats.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static size_t page_size(void)
{
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? (size_t)ps : 4096;
}

static size_t rss(void)
{
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  return n == 2 ? (size_t)resident * page_size() : 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0) { }
}

static void touch(void* p, size_t n)
{
  /* write every page (and a pattern the compiler cannot drop) */
  unsigned char* b = (unsigned char*)p;
  size_t ps = page_size();
  for (size_t i = 0; i < n; i += ps) b[i] = (unsigned char)(i / ps + 1);
  b[n - 1] = 1;
}

#define MAXBLOCKS 256

/* Allocate about `total` bytes in blocks of 256 KiB .. 1 MiB, touched. */
static size_t alloc_many(void** blocks, size_t total, unsigned seed)
{
  size_t n = 0, sum = 0;
  while (sum < total && n < MAXBLOCKS) {
    seed = seed * 1103515245u + 12345u;
    size_t sz = 256 * 1024 + (size_t)(seed >> 8) % (768 * 1024);
    blocks[n] = mi_malloc(sz);
    CHECKF(blocks[n] != NULL, "mi_malloc(%zu) failed", sz);
    if (blocks[n] == NULL) break;
    touch(blocks[n], sz);
    sum += sz;
    n++;
  }
  return n;
}

static void free_many(void** blocks, size_t n)
{
  for (size_t i = 0; i < n; i++) mi_free(blocks[i]);
}

static void report(const char* what, size_t base, size_t v)
{
  printf("  %-44s rss %7.1f MiB (%+.1f MiB over baseline)\n", what, (double)v / (double)MiB,
         ((double)v - (double)base) / (double)MiB);
  fflush(stdout);
}

static void test_delayed(void)
{
  printf("purge_delay 100 ms, 64 MiB in blocks of 256 KiB - 1 MiB:\n");
  mi_option_set(mi_option_purge_delay, 100);
  const size_t total = 64 * MiB;
  static void* blocks[MAXBLOCKS];
  size_t base = rss();
  report("baseline", base, base);
  size_t n = alloc_many(blocks, total, 1);
  size_t high = rss();
  report("allocated and touched", base, high);
  CHECKF(high >= base + total * 9 / 10, "touching 64 MiB raised rss by only %zu KiB", (high - base) / 1024);

  free_many(blocks, n);
  mi_collect(false);
  size_t kept = rss();
  report("freed, mi_collect(false) at once", base, kept);
  /* within the delay: the memory is kept for reuse */
  CHECKF(kept + total / 2 >= high, "memory was purged before the purge delay passed (rss %zu -> %zu KiB)",
         high / 1024, kept / 1024);

  sleep_ms(300);
  mi_collect(false);
  size_t low = rss();
  report("after 300 ms, mi_collect(false)", base, low);
  CHECKF(high >= low + total * 3 / 4, "after the purge delay rss dropped by only %zu KiB of %zu KiB",
         high > low ? (high - low) / 1024 : 0, total / 1024);

  /* the purged memory is usable again */
  n = alloc_many(blocks, total, 2);
  size_t again = rss();
  report("allocated and touched again", base, again);
  free_many(blocks, n);
  sleep_ms(300);
  mi_collect(false);
  low = rss();
  report("freed, after 300 ms, mi_collect(false)", base, low);
  CHECKF(again >= low + total * 3 / 4, "second cycle: rss dropped by only %zu KiB", again > low ? (again - low) / 1024 : 0);
}

static void test_huge(void)
{
  printf("purge_delay 100 ms, one huge block of 256 MiB:\n");
  mi_option_set(mi_option_purge_delay, 100);
  const size_t n = 256 * MiB;
  size_t base = rss();
  report("baseline", base, base);
  void* p = mi_malloc(n);
  CHECK(p != NULL);
  if (p == NULL) return;
  touch(p, n);
  size_t high = rss();
  report("allocated and touched", base, high);
  CHECKF(high >= base + n * 9 / 10, "touching 256 MiB raised rss by only %zu KiB", (high - base) / 1024);
  mi_free(p);
  sleep_ms(300);
  mi_collect(false);
  size_t low = rss();
  report("freed, after 300 ms, mi_collect(false)", base, low);
  CHECKF(high >= low + n * 3 / 4, "huge block: rss dropped by only %zu KiB of %zu KiB",
         high > low ? (high - low) / 1024 : 0, n / 1024);
}

/* 64 MiB in blocks of 256 KiB .. 1 MiB, touched and freed; returns the
   resident memory after touching (`*base`: before allocating). */
static size_t touch_and_free(unsigned seed, size_t* base)
{
  static void* blocks[MAXBLOCKS];
  *base = rss();
  report("baseline", *base, *base);
  size_t n = alloc_many(blocks, 64 * MiB, seed);
  size_t high = rss();
  report("allocated and touched", *base, high);
  free_many(blocks, n);
  return high;
}

static void test_immediate(void)
{
  printf("purge_delay 0, 64 MiB in blocks of 256 KiB - 1 MiB:\n");
  mi_option_set(mi_option_purge_delay, 0);
  size_t base;
  const size_t high = touch_and_free(3, &base);
  mi_collect(false);
  size_t low = rss();
  report("freed, mi_collect(false) at once", base, low);
  CHECKF(high >= low + 48 * MiB, "purge_delay 0: rss dropped by only %zu KiB of 64 MiB",
         high > low ? (high - low) / 1024 : 0);
}

static void purge_stats(int64_t* calls, int64_t* bytes)
{
  mi_stats_t st;
  st.size = sizeof(st);
  st.version = MI_STAT_VERSION;
  CHECKF(mi_stats_get(&st), "mi_stats_get failed");
  *calls = st.purge_calls.total;
  *bytes = st.purged.total;
}

static void test_coalesced(void)
{
  printf("purge_delay 0, one 1 MiB block:\n");
  mi_option_set(mi_option_purge_delay, 0);
  void* keep = mi_malloc(1024);   /* keeps a sliced segment in use */
  char* big = (char*)mi_malloc(MiB);
  CHECKF(big != NULL && keep != NULL, "out of memory");
  if (big == NULL || keep == NULL) return;
  touch(big, MiB);
  int64_t calls0, bytes0, calls1, bytes1;
  purge_stats(&calls0, &bytes0);
  mi_free(big);
  purge_stats(&calls1, &bytes1);
  printf("  %lld purge calls, %lld KiB purged\n", (long long)(calls1 - calls0), (long long)((bytes1 - bytes0) / 1024));
  CHECKF(bytes1 - bytes0 >= (int64_t)(MiB - 64 * 1024), "a freed 1 MiB block was not purged at once: %lld bytes",
         (long long)(bytes1 - bytes0));
  CHECKF(calls1 - calls0 >= 1 && calls1 - calls0 <= 2, "a 1 MiB span was purged in %lld OS calls (one per run of slices expected)",
         (long long)(calls1 - calls0));
  mi_free(keep);
}

static void test_long_delay(void)
{
  printf("purge_delay 5 s, 64 MiB in blocks of 256 KiB - 1 MiB:\n");
  mi_option_set(mi_option_purge_delay, 5000);
  size_t base;
  const size_t high = touch_and_free(4, &base);
  sleep_ms(300);
  mi_collect(false);
  size_t kept = rss();
  report("freed, after 300 ms, mi_collect(false)", base, kept);
  CHECKF(kept + 32 * MiB >= high, "purge_delay 5 s: purged within 300 ms (rss %zu -> %zu KiB)", high / 1024, kept / 1024);
  mi_collect(true);
  size_t low = rss();
  report("mi_collect(true)", base, low);
  CHECKF(kept >= low + 48 * MiB, "mi_collect(true) returned only %zu KiB of 64 MiB", kept > low ? (kept - low) / 1024 : 0);
}

static long minor_faults(void)
{
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

static void set_default_delays(void)
{
  mi_option_set(mi_option_purge_delay, 10);
  mi_option_set(mi_option_purge_extend_delay, 10);
  mi_option_set(mi_option_arena_purge_mult, 10);
}

static long now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Work with small blocks for `ms` milliseconds, in fresh pages that are
   given back to their segments every few hundred microseconds (a busy
   thread, as the segment layer sees it). Returns the rounds done. */
static unsigned long busy_ms(long ms)
{
  static void* small[4096];
  const long t0 = now_ms();
  unsigned long rounds = 0;
  do {
    for (size_t i = 0; i < 4096; i++) small[i] = mi_malloc(1024);   /* 64 pages */
    for (size_t i = 0; i < 4096; i++) mi_free(small[i]);
    rounds++;
  } while (now_ms() - t0 < ms);
  return rounds;
}

/* A reuse counts only if the memory was back in use within the arena purge
   delay (10 ms x 10) of being freed: on a loaded machine a round can take
   longer, and then purging the pages is right. `generic_collect`: how
   often the generic path collects (its default, 10000, or 1: on every
   call, so its collections surely fall into the busy work; they once took
   the busy thread for a quiet one and purged the whole 64 MiB). */
static void test_burst_reuse(long generic_collect)
{
  printf("purge_delay 10 ms (defaults), generic_collect %ld, 64 MiB freed and reused after 25 ms of other work, 8 times:\n", generic_collect);
  set_default_delays();
  mi_option_set(mi_option_generic_collect, generic_collect);
  const long bound_ms = 100;
  static void* blocks[MAXBLOCKS];
  const long first0 = minor_faults();
  size_t n = alloc_many(blocks, 64 * MiB, 5);
  const long first = minor_faults() - first0;
  long again = 0;
  int counted = 0, round = 0;
  for (; round < 40 && counted < 8; round++) {
    const long t0 = now_ms();
    free_many(blocks, n);
    busy_ms(25);
    const long f0 = minor_faults();
    n = alloc_many(blocks, 64 * MiB, 5);   /* the same sizes: the same spans fit */
    const long faults = minor_faults() - f0;
    if (now_ms() - t0 > bound_ms) continue;   /* too slow to be a burst */
    again += faults;
    counted++;
  }
  free_many(blocks, n);
  if (counted < 8) {
    printf("  only %d of %d rounds within %ld ms: the machine is too loaded\n", counted, round, bound_ms);
    test_skip("burst reuse: rounds too slow to measure");
  } else {
    printf("  first touch %ld page faults; 8 reuses %ld (%.1f per reuse; %d rounds)\n", first, again, (double)again / 8, round);
    CHECKF(first > 0 && again * 4 < first * 8, "memory reused after a 25 ms pause was purged and faulted back: "
           "%ld faults in 8 reuses, %ld at first touch", again, first);
  }
  mi_collect(true);
  mi_option_set(mi_option_generic_collect, 10000);
}

static void test_busy_returns_unused(void)
{
  printf("64 MiB freed, then 400 ms busy with small blocks: the 64 MiB is returned:\n");
  set_default_delays();
  size_t base;
  const size_t high = touch_and_free(6, &base);
  const unsigned long rounds = busy_ms(400);
  size_t low = rss();
  report("after 400 ms busy (no collect)", base, low);
  printf("  %lu rounds of 4096 blocks of 1 KiB\n", rounds);
  CHECKF(high >= low + 48 * MiB, "a busy thread kept memory it left unused for 400 ms: rss dropped by only %zu KiB",
         high > low ? (high - low) / 1024 : 0);
}

/* Thread turnover (7): every block of 1 KiB in `turn_blocks`. */
#define TURN_BLOCKS (32 * 1024)
#define TURN_KEEP 1024   /* one block in 1024 (one per MiB) outlives its thread */
static void* turn_blocks[TURN_BLOCKS];
static long turn_freed_ms, turn_allocated_ms;   /* when a turn thread had freed, had allocated */

static long thread_minor_faults(void)
{
  struct rusage ru;
  return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_minflt : 0;
}

/* Allocate and touch the blocks (or only those not kept, if `*arg` is
   false), free all but the kept ones, return this thread's page faults
   while it allocated. */
static void* turn_thread(void* arg)
{
  const bool all = *(const bool*)arg;
  const long f0 = thread_minor_faults();
  for (size_t i = 0; i < TURN_BLOCKS; i++) {
    if (!all && i % TURN_KEEP == 0) continue;
    turn_blocks[i] = mi_malloc(1024);
    CHECKF(turn_blocks[i] != NULL, "mi_malloc(1024) failed");
    if (turn_blocks[i] != NULL) memset(turn_blocks[i], (int)(i & 0xff), 1024);
  }
  const long faults = thread_minor_faults() - f0;
  turn_allocated_ms = now_ms();
  for (size_t i = 0; i < TURN_BLOCKS; i++) {
    if (i % TURN_KEEP == 0) continue;   /* the kept blocks */
    mi_free(turn_blocks[i]);
    turn_blocks[i] = NULL;
  }
  turn_freed_ms = now_ms();
  return (void*)(intptr_t)faults;
}

static long run_turn_thread(bool all)
{
  pthread_t t;
  void* faults = NULL;
  CHECKF(pthread_create(&t, NULL, &turn_thread, &all) == 0, "pthread_create failed");
  pthread_join(t, &faults);
  return (long)(intptr_t)faults;
}

static void test_thread_turnover(void)
{
  printf("purge_delay 100 ms, threads in turn: 32 MiB of 1 KiB blocks, one per MiB outlives its thread:\n");
  mi_option_set(mi_option_purge_delay, 100);
  mi_option_set(mi_option_purge_extend_delay, 1);
  mi_option_set(mi_option_arena_purge_mult, 10);
  /* Only a turn where the next thread has allocated within 80 ms of its
     predecessor's last free counts: after 100 ms the delay has passed, and
     a purge is right (a loaded machine under qemu-user takes that long). */
  const long bound_ms = 80;
  size_t base = 0;
  for (int attempt = 0;; attempt++) {
    mi_collect(true);
    base = rss();
    report("baseline", base, base);
    const long first = run_turn_thread(true);
    const long freed_ms = turn_freed_ms;
    const size_t left = rss();
    const long again = run_turn_thread(false);
    const long elapsed = turn_allocated_ms - freed_ms;
    if (elapsed <= bound_ms) {
      report("first thread exited, its segments abandoned", base, left);
      CHECKF(left >= base + 24 * MiB, "the exiting thread's free pages were purged at its exit: rss only %zu KiB over baseline",
             left > base ? (left - base) / 1024 : 0);
      printf("  first thread %ld page faults, the next thread %ld (%ld ms after)\n", first, again, elapsed);
      CHECKF(first > 0 && again * 4 < first, "the next thread faulted its predecessor's pages back in: %ld faults, first touch %ld",
             again, first);
      break;
    }
    printf("  the next thread allocated %ld ms after the last free (over %ld ms)\n", elapsed, bound_ms);
    if (attempt == 4) {
      test_skip("thread turnover: threads too slow to measure reuse within the delay");
      break;
    }
    for (size_t i = 0; i < TURN_BLOCKS; i += TURN_KEEP) mi_free(turn_blocks[i]);
  }
  const size_t high = rss();
  sleep_ms(300);
  mi_collect(false);
  const size_t low = rss();
  report("both exited, after 300 ms, mi_collect(false)", base, low);
  CHECKF(high >= low + 24 * MiB, "abandoned segments kept their free pages: rss dropped by only %zu KiB after the delay",
         high > low ? (high - low) / 1024 : 0);
  for (size_t i = 0; i < TURN_BLOCKS; i += TURN_KEEP) mi_free(turn_blocks[i]);
  mi_collect(true);
}

static void test_abandoned_page_purge(void)
{
  printf("abandoned_page_purge, purge_delay 5 s: a thread's exit purges its segments' free pages:\n");
  mi_option_set(mi_option_purge_delay, 5000);
  mi_option_set(mi_option_abandoned_page_purge, 1);
  mi_collect(true);
  const size_t base = rss();
  report("baseline", base, base);
  pthread_t t;
  bool all = true;
  CHECKF(pthread_create(&t, NULL, &turn_thread, &all) == 0, "pthread_create failed");
  pthread_join(t, NULL);
  const size_t left = rss();
  report("the thread exited", base, left);
  /* what it touched: 32 MiB of blocks; what stays: one 64 KiB page per MiB */
  const size_t peak = base + (size_t)TURN_BLOCKS * 1024;
  CHECKF(left + 24 * MiB <= peak, "an exiting thread's free pages stayed resident: rss %zu KiB over baseline",
         left > base ? (left - base) / 1024 : 0);
  mi_option_set(mi_option_abandoned_page_purge, 0);
  for (size_t i = 0; i < TURN_BLOCKS; i += TURN_KEEP) mi_free(turn_blocks[i]);
  mi_collect(true);
}

int main(void)
{
  CHECKF(rss() > 0, "cannot read /proc/self/statm");
  test_delayed();
  test_huge();
  test_immediate();
  test_coalesced();
  test_long_delay();
  test_burst_reuse(10000);
  test_burst_reuse(1);
  test_busy_returns_unused();
  const char* no_threads = getenv("MICA_TEST_NO_THREADS");
  if (no_threads != NULL && no_threads[0] != 0) test_skip("thread turnover: MICA_TEST_NO_THREADS (threads cannot be created here)");
  else {
    test_thread_turnover();
    test_abandoned_page_purge();
  }
  return test_report();
}
