/* SPDX-License-Identifier: MIT */
/* wrong/interior-free: at MI_DEBUG >= 2 every free checks that its pointer
   is the start of a block. A pointer into the middle of a small, medium or
   large block is reported through mi_register_error as EINVAL and ignored:
   the block stays live and intact, is freed normally afterwards, and is
   never handed out twice. The same for pointers into aligned blocks whose
   aligned pointer lies inside the block (the aligned mark tells the two
   apart), and a double free of an aligned pointer is still reported as
   one. Linked with the MI_DEBUG=2 variant and the MI_SECURE ones (a
   release build would take the pointer at its word). */
#include "wrong.h"

#include <errno.h>
#include <stdint.h>

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
  static const size_t sizes[] = { 64, 1000, 40000, 300000 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const size_t n = sizes[i];
    unsigned char* p = (unsigned char*)mi_malloc(n);
    CHECK(p != NULL);
    if (p == NULL) continue;
    memset(p, 0x5a, n);
    wrong_reset();
    mi_option_enable(mi_option_show_errors);
    capture_begin();
    mi_free(p + 16);
    char out[512];
    capture_end(out, sizeof out);
    CHECKF(wrong_with(EINVAL) == 1, "free(p + 16) of a %zu-byte block: %d EINVAL reports", n, wrong_with(EINVAL));
    CHECKF(strstr(out, "not the start of a mica block") != NULL, "the report says why: \"%s\"", out);
    bool intact = true;
    for (size_t k = 0; k < n; k++) intact = intact && (p[k] == 0x5a);
    CHECKF(intact, "the %zu-byte block was changed by the refused free", n);
    /* not on a free list: the next allocations of its size do not return it */
    void* q[8];
    for (int k = 0; k < 8; k++) { q[k] = mi_malloc(n); CHECK(q[k] != (void*)p && q[k] != (void*)(p + 16)); }
    for (int k = 0; k < 8; k++) mi_free(q[k]);
    wrong_reset();
    mi_free(p);
    CHECKF(wrong_count == 0, "the real free of the %zu-byte block reported %d errors", n, wrong_count);
  }

  /* aligned blocks: 8 of each kind, so that some lie inside their blocks
     (aligned_at with offset 8 always does) */
  static const struct { size_t align, offset; } kinds[] = { { 4096, 0 }, { 8192, 0 }, { 4096, 8 }, { 256, 24 } };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    unsigned char* p[8];
    for (int j = 0; j < 8; j++) {
      p[j] = (unsigned char*)mi_malloc_aligned_at(200, kinds[i].align, kinds[i].offset);
      CHECK(p[j] != NULL && ((uintptr_t)(p[j] + kinds[i].offset) % kinds[i].align) == 0);
      if (p[j] != NULL) memset(p[j], 0x5a, 200);
    }
    for (int j = 0; j < 8; j++) {
      if (p[j] == NULL) continue;
      wrong_reset();
      capture_begin();
      mi_free(p[j] + 16);
      mi_free(p[j] + 64);
      char out[512];
      capture_end(out, sizeof out);
      CHECKF(wrong_with(EINVAL) == 2, "frees 16 and 64 bytes into block %d aligned to %zu at %zu: %d EINVAL reports",
             j, kinds[i].align, kinds[i].offset, wrong_with(EINVAL));
      bool intact = true;
      for (size_t k = 0; k < 200; k++) intact = intact && (p[j][k] == 0x5a);
      CHECKF(intact, "aligned block %d was changed by the refused frees", j);
    }
    for (int j = 0; j < 8; j++) {
      if (p[j] == NULL) continue;
      wrong_reset();
      mi_free(p[j]);
      CHECKF(wrong_count == 0, "the real free of aligned block %d reported %d errors", j, wrong_count);
      /* a double free: EAGAIN, "double free detected ...", or EINVAL, "in
         no page in use", once the page's last block was freed */
      mi_free(p[j]);
      CHECKF(wrong_count == 1 && wrong_with(EAGAIN) + wrong_with(EINVAL) == 1,
             "a double free of block %d aligned to %zu at %zu: %d reports, %d of them EAGAIN or EINVAL",
             j, kinds[i].align, kinds[i].offset, wrong_count, wrong_with(EAGAIN) + wrong_with(EINVAL));
    }
  }
  return test_report();
}
