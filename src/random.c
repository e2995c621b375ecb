/* SPDX-License-Identifier: MIT */
/* Randomness for cookies and free-list keys: a small PRNG (xorshift128+ on
   two 64-bit words; plain variables, never atomics) seeded from the OS. Not
   for cryptography. A leaf: calls only prim. */
#include "mica/internal.h"

static uint64_t mi_splitmix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uintptr_t mi_random_weak(uintptr_t extra_seed) {
  uint64_t x = (uint64_t)extra_seed ^ _mi_prim_clock_msecs() ^ (uint64_t)(uintptr_t)&x;
  return (uintptr_t)mi_splitmix64(&x);
}

void _mi_random_init(mi_random_ctx_t* ctx) {
  uint64_t seed[2];
  if (!_mi_prim_random_buf(seed, sizeof(seed))) {
    uint64_t x = (uint64_t)mi_random_weak((uintptr_t)ctx);
    seed[0] = mi_splitmix64(&x);
    seed[1] = mi_splitmix64(&x);
  }
  ctx->state[0] = seed[0] | 1;   /* never all-zero */
  ctx->state[1] = seed[1];
}

uintptr_t _mi_random_next(mi_random_ctx_t* ctx) {
  uint64_t s1 = ctx->state[0];
  const uint64_t s0 = ctx->state[1];
  ctx->state[0] = s0;
  s1 ^= s1 << 23;
  ctx->state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
  return (uintptr_t)(ctx->state[1] + s0);
}

void _mi_random_split(mi_random_ctx_t* ctx, mi_random_ctx_t* new_ctx) {
  uint64_t x = (uint64_t)_mi_random_next(ctx) ^ ((uint64_t)_mi_random_next(ctx) << 17);
  new_ctx->state[0] = mi_splitmix64(&x) | 1;
  new_ctx->state[1] = mi_splitmix64(&x);
}
