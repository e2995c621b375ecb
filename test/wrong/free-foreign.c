/* SPDX-License-Identifier: MIT */
/* wrong/free-foreign: free, realloc and usable_size of pointers mica does not
   own (stack, static data, a private mmap) are reported as EINVAL through
   mi_register_error, printed on stderr (MICA_SHOW_ERRORS=1) with "mica" in the
   message, leave the foreign memory untouched, and the allocator keeps
   working. The process must exit 0. */
#define _GNU_SOURCE
#include "wrong.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static unsigned char static_buf[4096];

static int all_equal(const unsigned char* p, size_t n, unsigned char v)
{
  for (size_t i = 0; i < n; i++) {
    if (p[i] != v) return 0;
  }
  return 1;
}

/* A pointer at the base of a live segment, where its header is, with
   foreign memory in the MI_SEGMENT_SIZE below: the free fast path finds the
   segment by `p` itself, and must not hand such a pointer to a slow path
   that looks for it by `p - 1`, in the memory below (it read that memory as
   a segment header). Reported as invalid; neither memory is written. */
static void segment_base(void)
{
  const size_t unit = (size_t)4 << 20;   /* at least a segment on every target */
  const size_t segment_size = (sizeof(void*) == 8 ? unit : unit / 2);   /* MI_SEGMENT_SIZE (mica/types.h) */
  const size_t map_size = 5 * unit;
  unsigned char* map = (unsigned char*)mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(map != MAP_FAILED);
  if (map == MAP_FAILED) return;
  memset(map, 0xA5, map_size);
  /* the arena: 2 units from the first aligned address 1 unit into the map */
  unsigned char* start = (unsigned char*)(((uintptr_t)map + 2 * unit - 1) & ~(uintptr_t)(unit - 1));
  mi_arena_id_t arena;
  CHECK(mi_manage_os_memory_ex(start, 2 * unit, true, false, false, -1, true, &arena));
  mi_heap_t* heap = mi_heap_new_in_arena(arena);
  CHECK(heap != NULL);
  if (heap == NULL) return;
  void* p = mi_heap_malloc(heap, 64);
  CHECK(p != NULL);
  unsigned char* base = (unsigned char*)((uintptr_t)p & ~(uintptr_t)(segment_size - 1));
  CHECKF(base - segment_size >= map && !mi_is_in_heap_region(base),
         "segment %p: the memory below it is not the test's (map %p)", (void*)base, (void*)map);
  wrong_reset();
  mi_free(base);
  CHECKF(wrong_count == 1 && wrong_with(EINVAL) == 1, "free(segment base): %d errors, %d EINVAL", wrong_count, wrong_with(EINVAL));
  CHECKF(all_equal(map, (size_t)(start - map), 0xA5), "the memory below the arena was written");
  mi_free(p);
  mi_heap_delete(heap);
}

int main(void)
{
  mi_register_error(wrong_on_error, NULL);

  unsigned char stack_buf[512];
  memset(stack_buf, 0x5A, sizeof stack_buf);
  memset(static_buf, 0x3C, sizeof static_buf);

  /* a private mapping, with a pointer at a large power-of-two boundary inside
     it, where an allocator might expect its own segment header */
  size_t map_size = (size_t)32 << 20;
  unsigned char* map = (unsigned char*)mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(map != MAP_FAILED);
  if (map == MAP_FAILED) return test_report();
  memset(map, 0xA5, map_size);
  uintptr_t boundary = ((uintptr_t)map + ((uintptr_t)8 << 20)) & ~(((uintptr_t)8 << 20) - 1);
  unsigned char* in_map = (unsigned char*)boundary + 64;

  static char out[16384];
  capture_begin();

  wrong_reset();
  mi_free(stack_buf + 64);
  int e_stack = wrong_count, v_stack = wrong_with(EINVAL);
  wrong_reset();
  mi_free(static_buf + 128);
  int e_static = wrong_count, v_static = wrong_with(EINVAL);
  wrong_reset();
  mi_free(map + 4096);
  int e_map = wrong_count, v_map = wrong_with(EINVAL);
  wrong_reset();
  mi_free(in_map);
  int e_bnd = wrong_count, v_bnd = wrong_with(EINVAL);
  wrong_reset();
  mi_free((void*)boundary);
  int e_bnd0 = wrong_count, v_bnd0 = wrong_with(EINVAL);

  wrong_reset();
  size_t us = mi_usable_size(static_buf + 256);
  int e_us = wrong_count, v_us = wrong_with(EINVAL);

  wrong_reset();
  void* r = mi_realloc(stack_buf + 128, 100);
  int e_re = wrong_count, v_re = wrong_with(EINVAL);

  segment_base();

  size_t nout = capture_end(out, sizeof out);

  CHECKF(e_stack >= 1 && v_stack == e_stack, "free(stack): %d errors, %d EINVAL", e_stack, v_stack);
  CHECKF(e_static >= 1 && v_static == e_static, "free(static): %d errors, %d EINVAL", e_static, v_static);
  CHECKF(e_map >= 1 && v_map == e_map, "free(mmap): %d errors, %d EINVAL", e_map, v_map);
  CHECKF(e_bnd >= 1 && v_bnd == e_bnd, "free(mmap, boundary+64): %d errors, %d EINVAL", e_bnd, v_bnd);
  CHECKF(e_bnd0 >= 1 && v_bnd0 == e_bnd0, "free(mmap, boundary): %d errors, %d EINVAL", e_bnd0, v_bnd0);
  CHECKF(us == 0, "mi_usable_size(static) = %zu", us);
  CHECKF(e_us >= 1 && v_us == e_us, "mi_usable_size(static): %d errors, %d EINVAL", e_us, v_us);
  CHECKF(e_re >= 1 && v_re >= 1, "mi_realloc(stack): %d errors, %d EINVAL", e_re, v_re);
  if (r != NULL) {
    /* a fresh block is acceptable; then it is a real mica block */
    CHECK(mi_check_owned(r));
    memset(r, 0, 100);
    mi_free(r);
  }

  CHECKF(nout > 0 && strstr(out, "mica") != NULL, "no error message containing \"mica\" on stderr");

  /* the foreign memory is untouched */
  CHECKF(all_equal(stack_buf, sizeof stack_buf, 0x5A), "stack buffer modified");
  CHECKF(all_equal(static_buf, sizeof static_buf, 0x3C), "static buffer modified");
  CHECKF(all_equal(map, map_size, 0xA5), "mapping modified");
  munmap(map, map_size);

  /* and the heap is fine */
  wrong_reset();
  enum { N = 2000 };
  static unsigned char* blocks[N];
  int ok = 1;
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i % 200) * 24 + 1;
    blocks[i] = (unsigned char*)mi_malloc(n);
    if (blocks[i] == NULL) { ok = 0; continue; }
    memset(blocks[i], i & 0xFF, n);
  }
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i % 200) * 24 + 1;
    if (blocks[i] && !all_equal(blocks[i], n, (unsigned char)(i & 0xFF))) ok = 0;
    mi_free(blocks[i]);
  }
  mi_collect(true);
  CHECKF(ok, "allocation after the bad frees failed or overlapped");
  CHECKF(wrong_count == 0, "%d errors during normal use after the bad frees", wrong_count);
  mi_register_error(NULL, NULL);
  return test_report();
}
