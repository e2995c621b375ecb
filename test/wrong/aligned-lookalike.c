/* SPDX-License-Identifier: MIT */
/* wrong/aligned-lookalike: an aligned allocation places its pointer inside
   its block, and the block's first word, which the program does not own,
   happens to decode like a free-list link. Malloc clears that word, but at
   MI_SECURE the cleared word decodes with the page's random keys, and on
   32-bit it lands in the page's own 2 MiB segment for one page in 2,048
   (CI, armhf-musl: 4 of 8 blocks aligned to 8192 lost to frees 16 bytes
   in). A free 16 or 64 bytes into such a block must still be refused as
   EINVAL, not taken for the block's own free: the block stays live and
   intact, its real free reports nothing, and a second free of it is
   reported. Here the word is forced to the page's list-end link.
   Built with each library that checks interior frees (MI_DEBUG=2, MI_SECURE
   1 and 3), with that library's definitions (it reads internals). */
#include "wrong.h"
#include "mica/internal.h"

#include <errno.h>
#include <stdint.h>

int main(void)
{
  mi_register_error(wrong_on_error, NULL);
  mi_option_enable(mi_option_show_errors);
  int tested = 0;
  enum { N = 16 };
  unsigned char* ps[N];
  /* 4096 at offset 8: never at its block's start (blocks are 16-aligned) */
  for (int j = 0; j < N; j++) ps[j] = (unsigned char*)mi_malloc_aligned_at(200, 4096, 8);
  for (int j = 0; j < N; j++) {
    unsigned char* p = ps[j];
    CHECK(p != NULL && ((uintptr_t)(p + 8) % 4096) == 0);
    if (p == NULL) continue;
    memset(p, 0x5a, 200);
    mi_page_t* page = _mi_ptr_page(p);
    mi_block_t* block = _mi_page_block_start(page, p);
    CHECK((void*)block != (void*)p);
    /* the first word is the aligned mark when the pointer is one word in */
    if ((size_t)(p - (unsigned char*)block) >= 2 * sizeof(uintptr_t)) {
      tested++;
      mi_track_mem_undefined(block, sizeof(*block));   /* not the program's bytes (a checker's view) */
      block->next = mi_link_encode(page, NULL);
      mi_track_mem_noaccess(block, sizeof(*block));
      CHECKF(mi_block_may_be_free(page, block), "block %d: the forced word looks like a free link", j);
      wrong_reset();
      capture_begin();
      mi_free(p + 16);
      mi_free(p + 64);
      char out[512];
      capture_end(out, sizeof out);
      CHECKF(wrong_with(EINVAL) == 2 && wrong_count == 2, "frees 16 and 64 bytes into block %d: %d reports, %d EINVAL",
             j, wrong_count, wrong_with(EINVAL));
      if (tested == 1) {   /* only the first: mi_option_max_errors caps the messages */
        CHECKF(strstr(out, "not the start of a mica block") != NULL, "the report says why: \"%s\"", out);
      }
      bool intact = true;
      for (size_t k = 0; k < 200; k++) intact = intact && (p[k] == 0x5a);
      CHECKF(intact, "block %d was changed by the refused frees", j);
    }
    wrong_reset();
    mi_free(p);
    CHECKF(wrong_count == 0, "the real free of block %d reported %d errors", j, wrong_count);
    mi_free(p);
    CHECKF(wrong_count == 1 && wrong_with(EAGAIN) + wrong_with(EINVAL) == 1,
           "a double free of block %d: %d reports, %d of them EAGAIN or EINVAL", j, wrong_count,
           wrong_with(EAGAIN) + wrong_with(EINVAL));
  }
  CHECKF(tested > 0, "no aligned pointer lay two words into its block (%d)", tested);
  return test_report();
}
