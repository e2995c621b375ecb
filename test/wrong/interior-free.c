/* SPDX-License-Identifier: MIT */
/* wrong/interior-free: at MI_DEBUG >= 2 every free checks that its pointer
   is the start of a block. A pointer into the middle of a small, medium or
   large block is reported through mi_register_error as EINVAL and ignored:
   the block stays live and intact, is freed normally afterwards, and is
   never handed out twice. Linked with the MI_DEBUG=2 variant (a release
   build would take the pointer at its word). */
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
  return test_report();
}
