/* SPDX-License-Identifier: MIT */
/* fuzz-ops: a fuzz target that reads its input as a program of allocator
   operations and checks every live block's contents.

   The input is a sequence of operations, each an opcode byte and its
   argument bytes (an input that ends in the middle of one ends there):
     malloc, zalloc, calloc (checked zero), realloc (the old contents kept,
     up to the smaller size), rezalloc (and the new tail zero), aligned
     malloc (alignments 1 B to 1 MiB, the alignment checked), malloc in one
     of 4 heaps, free, a free handed to a second thread, heap new, heap
     delete (its blocks stay valid), heap destroy (its blocks are gone),
     a write of fresh contents over the block's whole usable size, an
     option change (purge delay), mi_collect, mi_heap_collect.
   mi_usable_size is asked only where the whole block is then used (the
   rewrite, rezalloc's zero tail): with MI_TRACK_ASAN the answer makes all
   of it the program's, and the bytes past the size asked for would no
   longer be checked. Sizes come mostly from 0-1 KiB, sometimes up to 64 KiB, 1 MiB or
   8 MiB. Each block is filled with a pattern derived from a tag when it is
   made, and checked whenever it is touched and when it is freed; every
   block still live at the end is checked and freed, every heap deleted.
   Any mismatch aborts, so the fuzzer records the input.

   Built three ways (test/CMakeLists.txt, doc/testing.md): with a main that
   replays files (ctest fuzz-replay: the corpus in test/fuzz/corpus, on
   every leg), for libFuzzer (clang -fsanitize=fuzzer,address,undefined,
   linked with a MI_TRACK_ASAN mica, so ASan also sees mica's blocks) and
   for AFL++ (afl-clang-fast with its libFuzzer-style driver). */
#include "mica.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64
#define HEAPS 4

typedef struct slot_s {
  uint8_t* p;
  size_t size;      /* bytes whose contents are checked */
  uint32_t tag;
  int heap;         /* index of the heap it came from, -1: the default heap */
} slot_t;

static slot_t slots[SLOTS];
static mi_heap_t* heaps[HEAPS];

static void fuzz_fail(const char* what, const slot_t* s)
{
  fprintf(stderr, "fuzz-ops: %s (block %p, %zu bytes, tag %u)\n", what, (void*)s->p, s->size, s->tag);
  abort();
}

/* A block's contents: word `w` of the block with tag `tag`, a word at a
   time. Of a block above 16 KiB, the first and last 4 KiB and the first
   word of every 4 KiB in between: filling and checking every byte of
   blocks up to 8 MiB made the harness, not mica, what the fuzzer spent
   its time in (40 inputs a second). The comparisons are not coverage
   feedback (they find nothing in mica). */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif
#define SAMPLE_ABOVE ((size_t)16 << 10)
#define SAMPLE_STEP  ((size_t)4 << 10)

static uint64_t pattern_word(uint32_t tag, size_t w)
{
  uint64_t x = ((uint64_t)tag * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)w * 0xd6e8feb86659fd93ull);
  return x ^ (x >> 29);
}

/* the next word index to fill or check after word w of an n-byte block */
static size_t pattern_next(size_t w, size_t n)
{
  const size_t at = (w + 1) * 8;
  if (n <= SAMPLE_ABOVE || at < SAMPLE_STEP || at + SAMPLE_STEP >= n) return w + 1;
  const size_t next = (at + SAMPLE_STEP - 1) / SAMPLE_STEP * SAMPLE_STEP;   /* next 4 KiB boundary */
  return (next + SAMPLE_STEP >= n ? (n - SAMPLE_STEP) / 8 : next / 8);
}

FUZZ_NO_COVERAGE static void pattern_fill(uint8_t* p, size_t n, uint32_t tag)
{
  for (size_t w = 0; w * 8 < n; w = pattern_next(w, n)) {
    const uint64_t x = pattern_word(tag, w);
    memcpy(p + w * 8, &x, (n - w * 8 < 8 ? n - w * 8 : 8));
  }
}

/* Does the n-byte block at p hold the pattern of `tag` (where sampled),
   in its first `limit` bytes? */
FUZZ_NO_COVERAGE static bool pattern_holds(const uint8_t* p, size_t n, size_t limit, uint32_t tag)
{
  for (size_t w = 0; w * 8 < n && w * 8 < limit; w = pattern_next(w, n)) {
    uint64_t x = pattern_word(tag, w), y = 0;
    size_t len = (n - w * 8 < 8 ? n - w * 8 : 8);
    if (len > limit - w * 8) len = limit - w * 8;
    memcpy(&y, p + w * 8, len);
    memset((uint8_t*)&x + len, 0, 8 - len);   /* compare the len bytes read (y's others are 0) */
    if (x != y) return false;
  }
  return true;
}

/* Are the bytes [from, n) of an n-byte block zero (where sampled)? */
FUZZ_NO_COVERAGE static bool zero_holds(const uint8_t* p, size_t from, size_t n)
{
  for (size_t w = from / 8; w * 8 < n; w = pattern_next(w, n)) {
    for (size_t i = (w * 8 < from ? from : w * 8); i < w * 8 + 8 && i < n; i++) {
      if (p[i] != 0) return false;
    }
  }
  return true;
}

static void fill(slot_t* s)
{
  pattern_fill(s->p, s->size, s->tag);
}

static void check(const slot_t* s)
{
  if (s->p != NULL && !pattern_holds(s->p, s->size, s->size, s->tag)) fuzz_fail("contents changed", s);
}

static void check_zero(const slot_t* s)
{
  if (!zero_holds(s->p, 0, s->size)) fuzz_fail("zeroed memory is not zero", s);
}

/* ---------------------------------------------------------------------------
   The second thread: frees what it is handed, in order
--------------------------------------------------------------------------- */
#define QUEUE 256
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static void* queue[QUEUE];
static size_t queue_head, queue_tail;   /* tail - head blocks waiting */
static bool worker_started;

static void* worker(void* arg)
{
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (queue_head == queue_tail) pthread_cond_wait(&queue_cond, &queue_lock);
    void* p = queue[queue_head % QUEUE];
    pthread_mutex_unlock(&queue_lock);
    mi_free(p);   /* freed before it leaves the queue: drain() waits for it */
    pthread_mutex_lock(&queue_lock);
    queue_head++;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
  }
  return NULL;
}

static void hand_over(void* p)
{
  if (!worker_started) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) { mi_free(p); return; }
    pthread_detach(t);
    worker_started = true;
  }
  pthread_mutex_lock(&queue_lock);
  while (queue_tail - queue_head == QUEUE) pthread_cond_wait(&queue_cond, &queue_lock);
  queue[queue_tail % QUEUE] = p;
  queue_tail++;
  pthread_cond_broadcast(&queue_cond);
  pthread_mutex_unlock(&queue_lock);
}

/* Wait until the second thread has freed everything it was handed (a heap
   is destroyed, or the input ends, only then). */
static void drain(void)
{
  pthread_mutex_lock(&queue_lock);
  while (queue_head != queue_tail) pthread_cond_wait(&queue_cond, &queue_lock);
  pthread_mutex_unlock(&queue_lock);
}

/* ---------------------------------------------------------------------------
   Reading the input
--------------------------------------------------------------------------- */
typedef struct input_s {
  const uint8_t* data;
  size_t size;
  size_t pos;
} input_t;

static bool take(input_t* in, size_t n, uint32_t* value)
{
  if (in->size - in->pos < n) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | in->data[in->pos + i];
  in->pos += n;
  *value = v;
  return true;
}

/* mostly small, sometimes medium, large or huge (a 2-byte argument) */
static size_t size_of(uint32_t v)
{
  switch (v >> 14) {
    case 0: case 1: return v & 0x3ff;                             /* 0-1 KiB */
    case 2: return (size_t)(v & 0x3fff) * 4;                      /* to 64 KiB */
    default: return ((v & 0x2000) ? (size_t)(v & 0x1fff) << 10    /* to 8 MiB */
                                  : (size_t)(v & 0x1fff) << 7);   /* to 1 MiB */
  }
}

static void drop(slot_t* s)
{
  s->p = NULL;
  s->size = 0;
}

static void release(slot_t* s)
{
  if (s->p == NULL) return;
  check(s);
  mi_free(s->p);
  drop(s);
}

static void place(slot_t* s, void* p, size_t size, uint32_t tag, int heap, bool zeroed)
{
  release(s);
  if (p == NULL) return;   /* a size mica refused is not a failure here */
  s->p = (uint8_t*)p;
  s->size = size;
  s->tag = tag;
  s->heap = heap;
  if (zeroed) check_zero(s);
  fill(s);
}

static void heap_forget(int h)   /* its blocks went with it */
{
  for (int i = 0; i < SLOTS; i++) {
    if (slots[i].p != NULL && slots[i].heap == h) drop(&slots[i]);
  }
}

static void heap_moved(int h)   /* its blocks now belong to the default heap */
{
  for (int i = 0; i < SLOTS; i++) {
    if (slots[i].p != NULL && slots[i].heap == h) slots[i].heap = -1;
  }
}

enum {
  OP_MALLOC, OP_ZALLOC, OP_CALLOC, OP_REALLOC, OP_REZALLOC, OP_ALIGNED, OP_HEAP_MALLOC,
  OP_FREE, OP_FREE_REMOTE, OP_HEAP_NEW, OP_HEAP_DELETE, OP_HEAP_DESTROY, OP_REWRITE,
  OP_OPTION, OP_COLLECT, OP_HEAP_COLLECT, OP_COUNT
};

static void run_op(input_t* in, uint32_t op, uint32_t tag)
{
  uint32_t a, b, c;
  if (!take(in, 1, &a)) return;
  slot_t* s = &slots[a % SLOTS];
  switch (op % OP_COUNT) {
    case OP_MALLOC:
      if (take(in, 2, &b)) place(s, mi_malloc(size_of(b)), size_of(b), tag, -1, false);
      break;
    case OP_ZALLOC:
      if (take(in, 2, &b)) place(s, mi_zalloc(size_of(b)), size_of(b), tag, -1, true);
      break;
    case OP_CALLOC:
      if (take(in, 2, &b)) {
        const size_t n = (b >> 8) + 1, m = (b & 0xff) + 1;
        place(s, mi_calloc(n, m), n * m, tag, -1, true);
      }
      break;
    case OP_REALLOC:
    case OP_REZALLOC:
      if (take(in, 2, &b) && s->p != NULL) {
        check(s);
        const size_t newsize = size_of(b);
        const bool zero = (op % OP_COUNT == OP_REZALLOC);
        /* rezalloc zeroes beyond the old usable size only */
        const size_t old_usable = mi_usable_size(s->p);
        uint8_t* q = (uint8_t*)(zero ? mi_rezalloc(s->p, newsize) : mi_realloc(s->p, newsize));
        if (q == NULL) {
          if (newsize == 0) fuzz_fail("realloc to 0 returned NULL", s);
          break;   /* the old block stays valid */
        }
        /* in place, the block stays in its heap; moved, it is the default heap's */
        slot_t n = { q, newsize, s->tag, (q == s->p ? s->heap : -1) };
        const size_t kept = (newsize < s->size ? newsize : s->size);
        if (!pattern_holds(q, s->size, kept, s->tag)) fuzz_fail("realloc lost the contents", &n);
        if (zero && newsize > old_usable && !zero_holds(q, old_usable, newsize)) fuzz_fail("rezalloc's new tail is not zero", &n);
        n.tag = tag;
        fill(&n);
        *s = n;
      }
      break;
    case OP_ALIGNED:
      if (take(in, 2, &b) && take(in, 1, &c)) {
        const size_t align = (size_t)1 << (c % 21);
        const size_t size = size_of(b);
        void* p = mi_malloc_aligned(size, align);
        if (p != NULL && ((uintptr_t)p & (align - 1)) != 0) {
          slot_t n = { (uint8_t*)p, size, tag, -1 };
          fuzz_fail("misaligned block", &n);
        }
        place(s, p, size, tag, -1, false);
      }
      break;
    case OP_HEAP_MALLOC:
      if (take(in, 2, &b)) {
        const int h = (int)(b % HEAPS);
        if (heaps[h] != NULL) place(s, mi_heap_malloc(heaps[h], size_of(b)), size_of(b), tag, h, false);
      }
      break;
    case OP_FREE:
      release(s);
      break;
    case OP_FREE_REMOTE:
      if (s->p != NULL) {
        check(s);
        hand_over(s->p);
        drop(s);
      }
      break;
    case OP_HEAP_NEW:
      if (heaps[a % HEAPS] == NULL) heaps[a % HEAPS] = mi_heap_new();
      break;
    case OP_HEAP_DELETE:
      if (heaps[a % HEAPS] != NULL) {
        mi_heap_delete(heaps[a % HEAPS]);
        heaps[a % HEAPS] = NULL;
        heap_moved((int)(a % HEAPS));
      }
      break;
    case OP_HEAP_DESTROY:
      if (heaps[a % HEAPS] != NULL) {
        drain();   /* a block handed over must not be freed after its heap is gone */
        mi_heap_destroy(heaps[a % HEAPS]);
        heaps[a % HEAPS] = NULL;
        heap_forget((int)(a % HEAPS));
      }
      break;
    case OP_REWRITE:
      if (s->p != NULL) {
        check(s);
        s->size = mi_usable_size(s->p);   /* all of it is the program's */
        s->tag = tag;
        fill(s);
      }
      break;
    case OP_OPTION: {
      if ((a & 4) == 0) {
        static const long delays[4] = { -1, 0, 1, 10 };
        mi_option_set(mi_option_purge_delay, delays[a % 4]);
      } else if (heaps[(a >> 3) % HEAPS] != NULL) {
        /* guarded sampling on one heap (a no-op in MI_TRACK_* builds: the
           replay test, without a checker, runs it) */
        static const size_t rates[4] = { 0, 1, 3, 50 };
        mi_heap_guarded_set_sample_rate(heaps[(a >> 3) % HEAPS], rates[a % 4], a >> 5);
      }
      break;
    }
    case OP_COLLECT:
      mi_collect((a & 1) != 0);
      break;
    case OP_HEAP_COLLECT:
      if (heaps[a % HEAPS] != NULL) mi_heap_collect(heaps[a % HEAPS], (a & 4) != 0);
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  input_t in = { data, size, 0 };
  uint32_t op, tag = 0;
  while (take(&in, 1, &op)) run_op(&in, op, ++tag);
  drain();
  for (int i = 0; i < SLOTS; i++) release(&slots[i]);
  for (int h = 0; h < HEAPS; h++) {
    if (heaps[h] != NULL) { mi_heap_delete(heaps[h]); heaps[h] = NULL; }
  }
  mi_option_set(mi_option_purge_delay, 10);
  return 0;
}

#if FUZZ_REPLAY_MAIN
/* ctest: run every file given, then print the test line (test/test.h's
   format). A file that cannot be read fails the run. */
int main(int argc, char** argv)
{
  long passed = 0, failed = 0;
  for (int i = 1; i < argc; i++) {
    FILE* f = fopen(argv[i], "rb");
    if (f == NULL) { fprintf(stderr, "fuzz-ops: cannot open %s\n", argv[i]); failed++; continue; }
    static uint8_t buf[1 << 20];
    const size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);   /* aborts on a failed check */
    passed++;
  }
  if (passed == 0) failed++;   /* no input: nothing was tested */
  printf("%ld passed, %ld failed\n", passed, failed);
  return failed != 0;
}
#endif
