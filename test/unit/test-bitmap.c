/* SPDX-License-Identifier: MIT */
/* The concurrent bitmap of src/bitmap.c (arena units, purge marks, the
   segment map): a claim finds a run of clear bits inside one word and sets
   it, never a run that crosses a word; set, clear and is_any_set take any
   range, across words too; full and empty words; a claim that prefers
   the run with the most bits set in another map; and two threads racing to
   claim every bit of a map each get distinct bits, and between them all.
   Linked with the static library (internal functions). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "mica/internal.h"
#include "test.h"

#define W        ((size_t)MI_INTPTR_BITS)
#define WORDS    8
#define ALL_ONES (~(uintptr_t)0)

static mi_atomic(uintptr_t) map[WORDS];

static void map_fill(uintptr_t value) {
  for (size_t i = 0; i < WORDS; i++) mi_atomic_store_relaxed(&map[i], value);
}
static uintptr_t word(size_t i) { return mi_atomic_load_relaxed(&map[i]); }
static bool bit(size_t idx) { return ((word(idx / W) >> (idx % W)) & 1) != 0; }
static size_t popcount_all(void) {
  size_t n = 0;
  for (size_t i = 0; i < WORDS * W; i++) n += bit(i);
  return n;
}

static void test_claim_single(void) {
  map_fill(0);
  /* single bits come in order and fill the whole map */
  bool in_order = true;
  for (size_t i = 0; i < WORDS * W; i++) {
    size_t idx = SIZE_MAX;
    if (!_mi_bitmap_try_claim(map, WORDS, 1, &idx) || idx != i || !bit(i)) { in_order = false; break; }
  }
  CHECKF(in_order, "claiming single bits of an empty map gives 0, 1, 2, ...");
  CHECK(popcount_all() == WORDS * W);
  for (size_t i = 0; i < WORDS; i++) CHECKF(word(i) == ALL_ONES, "word %zu is %#jx after claiming every bit", i, (uintmax_t)word(i));
  size_t idx = 12345;
  CHECK(!_mi_bitmap_try_claim(map, WORDS, 1, &idx));
  CHECKF(idx == 12345, "a failed claim leaves the index alone");
  /* release one bit in the middle of a word and one at each word end */
  _mi_bitmap_clear(map, 3 * W + 17, 1);
  CHECK(!bit(3 * W + 17) && bit(3 * W + 16) && bit(3 * W + 18));
  CHECK(_mi_bitmap_try_claim(map, WORDS, 1, &idx) && idx == 3 * W + 17);
  _mi_bitmap_clear(map, 5 * W - 1, 1);
  _mi_bitmap_clear(map, 5 * W, 1);
  CHECK(word(4) == (ALL_ONES >> 1) && word(5) == (ALL_ONES << 1));
  CHECK(!_mi_bitmap_try_claim(map, WORDS, 2, &idx));   /* the two clear bits are in different words */
  CHECK(_mi_bitmap_try_claim(map, WORDS, 1, &idx) && idx == 5 * W - 1);
  CHECK(_mi_bitmap_try_claim(map, WORDS, 1, &idx) && idx == 5 * W);
  /* only the first `words` words are searched */
  map_fill(ALL_ONES);
  mi_atomic_store_relaxed(&map[WORDS - 1], 0);
  CHECK(!_mi_bitmap_try_claim(map, WORDS - 1, 1, &idx));
  CHECK(_mi_bitmap_try_claim(map, WORDS, 1, &idx) && idx == (WORDS - 1) * W);
  CHECK(!_mi_bitmap_try_claim(map, 0, 1, &idx));
}

static void test_claim_runs(void) {
  size_t idx;
  map_fill(0);
  /* invalid counts */
  CHECK(!_mi_bitmap_try_claim(map, WORDS, 0, &idx));
  CHECK(!_mi_bitmap_try_claim(map, WORDS, W + 1, &idx));
  CHECK(popcount_all() == 0);
  /* whole words */
  for (size_t i = 0; i < WORDS; i++) {
    CHECKF(_mi_bitmap_try_claim(map, WORDS, W, &idx) && idx == i * W, "whole word %zu", i);
    CHECK(word(i) == ALL_ONES);
  }
  CHECK(!_mi_bitmap_try_claim(map, WORDS, 1, &idx));
  /* a run does not cross words: 4 clear bits at the top of word 0 and 4 at
     the bottom of word 1 are 8 adjacent clear bits, but no run of 5 */
  map_fill(ALL_ONES);
  _mi_bitmap_clear(map, W - 4, 8);
  CHECK(word(0) == (ALL_ONES >> 4) && word(1) == (ALL_ONES << 4));
  CHECK(!_mi_bitmap_is_any_set(map, W - 4, 8) && _mi_bitmap_is_any_set(map, W - 5, 8) && _mi_bitmap_is_any_set(map, W - 4, 9));
  for (size_t n = 5; n <= 8; n++) CHECKF(!_mi_bitmap_try_claim(map, WORDS, n, &idx), "a run of %zu across a word boundary was claimed", n);
  CHECK(_mi_bitmap_try_claim(map, WORDS, 4, &idx) && idx == W - 4);
  CHECK(_mi_bitmap_try_claim(map, WORDS, 4, &idx) && idx == W);
  CHECK(word(0) == ALL_ONES && word(1) == ALL_ONES);
  /* the lowest fitting run of a word is taken, and only its bits */
  map_fill(ALL_ONES);
  mi_atomic_store_relaxed(&map[2], ~(((uintptr_t)0x7 << 3) | ((uintptr_t)0xff << 20)));   /* holes of 3 and 8 */
  CHECK(_mi_bitmap_try_claim(map, WORDS, 5, &idx) && idx == 2 * W + 20);
  CHECK(word(2) == ~((uintptr_t)0x7 << 3 | (uintptr_t)0x7 << 25));
  CHECK(_mi_bitmap_try_claim(map, WORDS, 3, &idx) && idx == 2 * W + 3);
  CHECK(_mi_bitmap_try_claim(map, WORDS, 3, &idx) && idx == 2 * W + 25);
  CHECK(word(2) == ALL_ONES);
  /* alternate bits: no run of 2, every clear single */
  map_fill((uintptr_t)(ALL_ONES / 3));   /* 0101...01 */
  CHECK(!_mi_bitmap_try_claim(map, WORDS, 2, &idx));
  size_t n = 0;
  while (_mi_bitmap_try_claim(map, WORDS, 1, &idx)) {
    CHECKF(idx % 2 == 1, "claimed bit %zu was set", idx);
    n++;
  }
  CHECK(n == WORDS * W / 2);
  CHECK(popcount_all() == WORDS * W);
}

static void test_set_clear(void) {
  map_fill(0);
  /* a range across three words */
  _mi_bitmap_set(map, W - 3, W + 6);
  CHECK(word(0) == (ALL_ONES << (W - 3)));
  CHECK(word(1) == ALL_ONES);
  CHECK(word(2) == (((uintptr_t)1 << 3) - 1));
  CHECK(word(3) == 0);
  CHECK(popcount_all() == W + 6);
  CHECK(_mi_bitmap_is_any_set(map, W - 3, 1) && !_mi_bitmap_is_any_set(map, 0, W - 3));
  CHECK(_mi_bitmap_is_any_set(map, 2 * W + 2, 1) && !_mi_bitmap_is_any_set(map, 2 * W + 3, 5 * W - 3));
  /* clear the middle word only: the ends stay */
  _mi_bitmap_clear(map, W, W);
  CHECK(word(0) == (ALL_ONES << (W - 3)) && word(1) == 0 && word(2) == 7);
  CHECK(!_mi_bitmap_is_any_set(map, W, W) && _mi_bitmap_is_any_set(map, W - 1, 2) && _mi_bitmap_is_any_set(map, 2 * W - 1, 2));
  /* set is idempotent and does not touch its neighbours */
  _mi_bitmap_set(map, W - 3, 3);
  CHECK(word(0) == (ALL_ONES << (W - 3)) && word(1) == 0);
  /* count 0 changes nothing and finds nothing */
  _mi_bitmap_set(map, W + 5, 0);
  _mi_bitmap_clear(map, 0, 0);
  CHECK(word(1) == 0 && word(0) == (ALL_ONES << (W - 3)));
  CHECK(!_mi_bitmap_is_any_set(map, W - 3, 0));
  /* the whole map, then all of it clear */
  _mi_bitmap_set(map, 0, WORDS * W);
  CHECK(popcount_all() == WORDS * W && _mi_bitmap_is_any_set(map, WORDS * W - 1, 1));
  _mi_bitmap_clear(map, 1, WORDS * W - 2);
  CHECK(word(0) == 1 && word(WORDS - 1) == ((uintptr_t)1 << (W - 1)));
  for (size_t i = 1; i < WORDS - 1; i++) CHECK(word(i) == 0);
  _mi_bitmap_clear(map, 0, WORDS * W);
  CHECK(popcount_all() == 0 && !_mi_bitmap_is_any_set(map, 0, WORDS * W));
}

/* a claim that prefers: the free run with the most preferred bits, the
   lowest of equals, in any word; a free run with none if that is all */
static mi_atomic(uintptr_t) liked[WORDS];
static void test_claim_most(void) {
  map_fill(0);
  for (size_t i = 0; i < WORDS; i++) mi_atomic_store_relaxed(&liked[i], 0);
  size_t idx = 0;
  /* nothing preferred: the first free run, as _mi_bitmap_try_claim */
  CHECK(_mi_bitmap_try_claim_most(map, liked, WORDS, 3, &idx) && idx == 0);
  /* preferred bits 10-11 in word 0 and 3 * W + 5 .. + 8 in word 3: a run of
     4 takes the latter (4 preferred) over any run holding 10-11 (2) */
  mi_atomic_store_relaxed(&liked[0], (uintptr_t)3 << 10);
  mi_atomic_store_relaxed(&liked[3], (uintptr_t)0xf << 5);
  CHECK(_mi_bitmap_try_claim_most(map, liked, WORDS, 4, &idx) && idx == 3 * W + 5);
  /* a run of 5: 4 preferred in word 3 from bit 4 or 5 (the lowest wins),
     against 2 in word 0 */
  _mi_bitmap_clear(map, 3 * W + 5, 4);
  CHECK(_mi_bitmap_try_claim_most(map, liked, WORDS, 5, &idx) && idx == 3 * W + 4);
  /* word 3's preferred bits taken: a run of 3 overlaps 10-11 as much as it
     can, from the lowest start that holds both */
  CHECK(_mi_bitmap_try_claim_most(map, liked, WORDS, 3, &idx) && idx == 9);
  /* 10-11 in use now: what is left prefers nothing, so the first free run */
  CHECK(_mi_bitmap_try_claim_most(map, liked, WORDS, 2, &idx) && idx == 3);
  /* a run that fits nowhere */
  map_fill(ALL_ONES / 3);
  CHECK(!_mi_bitmap_try_claim_most(map, liked, WORDS, 2, &idx));
  CHECK(!_mi_bitmap_try_claim_most(map, liked, WORDS, 0, &idx) && !_mi_bitmap_try_claim_most(map, liked, WORDS, W + 1, &idx));
}

/* ---- two threads racing to claim ----------------------------------------- */
#define RACE_WORDS 16
#define RACE_MAX_CLAIMS (RACE_WORDS * MI_INTPTR_BITS)
static mi_atomic(uintptr_t) race_map[RACE_WORDS];
static atomic_int race_go;

typedef struct racer_s {
  size_t count;                 /* run length this thread claims */
  size_t claimed;               /* runs it got */
  size_t idx[RACE_MAX_CLAIMS];
} racer_t;

static void* racer(void* arg) {
  racer_t* r = (racer_t*)arg;
  r->claimed = 0;
  while (atomic_load(&race_go) == 0) { /* start together */ }
  size_t idx;
  while (r->claimed < RACE_MAX_CLAIMS && _mi_bitmap_try_claim(race_map, RACE_WORDS, r->count, &idx)) {
    r->idx[r->claimed++] = idx;
  }
  return NULL;
}

static void* releaser(void* arg) {
  racer_t* r = (racer_t*)arg;
  while (atomic_load(&race_go) == 0) { /* start together */ }
  for (size_t c = 0; c < r->claimed; c++) _mi_bitmap_clear(race_map, r->idx[c], r->count);
  return NULL;
}

/* One race: both threads claim until the map has no room; then every bit
   is owned by at most one run, runs stay inside a word, the map's set bits
   are exactly the claimed ones, and (with single bits) all are claimed. */
static void race_once(racer_t* r, size_t count_a, size_t count_b, long round) {
  static unsigned char owner[RACE_MAX_CLAIMS];
  for (size_t i = 0; i < RACE_WORDS; i++) mi_atomic_store_relaxed(&race_map[i], 0);
  memset(owner, 0, sizeof owner);
  atomic_store(&race_go, 0);
  r[0].count = count_a;
  r[1].count = count_b;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, racer, &r[i]) == 0);
  atomic_store(&race_go, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  long overlaps = 0, crossing = 0;
  size_t total = 0;
  for (int i = 0; i < 2; i++) {
    for (size_t c = 0; c < r[i].claimed; c++) {
      const size_t idx = r[i].idx[c];
      if (idx / W != (idx + r[i].count - 1) / W || idx + r[i].count > RACE_MAX_CLAIMS) { crossing++; continue; }
      for (size_t b = idx; b < idx + r[i].count; b++) {
        if (owner[b] != 0) overlaps++;
        owner[b] = (unsigned char)(i + 1);
        total++;
      }
    }
  }
  CHECKF(overlaps == 0, "round %ld (runs of %zu and %zu): %ld bits claimed twice", round, count_a, count_b, overlaps);
  CHECKF(crossing == 0, "round %ld: %ld runs cross a word or the end", round, crossing);
  long mismatch = 0;
  for (size_t b = 0; b < RACE_MAX_CLAIMS; b++) {
    const bool set = ((mi_atomic_load_relaxed(&race_map[b / W]) >> (b % W)) & 1) != 0;
    if (set != (owner[b] != 0)) mismatch++;
  }
  CHECKF(mismatch == 0, "round %ld: %ld bits of the map differ from the claims", round, mismatch);
  if (count_a == 1 && count_b == 1) {
    CHECKF(total == RACE_MAX_CLAIMS, "round %ld: %zu of %d bits claimed", round, total, (int)RACE_MAX_CLAIMS);
  }
  else {
    /* no thread stopped while a run of its length was still free */
    size_t idx;
    CHECK(!_mi_bitmap_try_claim(race_map, RACE_WORDS, count_a < count_b ? count_a : count_b, &idx));
  }
  /* both release their runs at once (clears of one word interleave): the map ends empty */
  atomic_store(&race_go, 0);
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, releaser, &r[i]) == 0);
  atomic_store(&race_go, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  CHECKF(!_mi_bitmap_is_any_set(race_map, 0, RACE_MAX_CLAIMS), "round %ld: bits left after the releases", round);
}

static void test_race(void) {
  static racer_t r[2];
  const long rounds = test_scaled(200);
  static const size_t counts[][2] = { { 1, 1 }, { 1, 3 }, { 5, 2 }, { 7, 7 }, { MI_INTPTR_BITS / 2, 1 } };
  for (long round = 0; round < rounds; round++) {
    const size_t* c = counts[round % (long)(sizeof counts / sizeof counts[0])];
    race_once(r, c[0], c[1], round);
    if (test_failures() > 0) break;
  }
  printf("%ld racing rounds, last: %zu and %zu runs claimed\n", rounds, r[0].claimed, r[1].claimed);
}

int main(void) {
  test_claim_single();
  test_claim_runs();
  test_set_clear();
  test_claim_most();
  test_race();
  return test_report();
}
