/* SPDX-License-Identifier: MIT */
/* The library of test arena-destroy: links mica statically (exporting
   none of it) and allocates with it; its destructor is mica's exit. */
#include <string.h>
#include "mica.h"

void* dp_alloc(size_t n) {
  void* p = mi_malloc(n);
  if (p != NULL) memset(p, 0x3c, n);
  return p;
}

void dp_destroy_on_exit(int on) { mi_option_set(mi_option_destroy_on_exit, on); }
