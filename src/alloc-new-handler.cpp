/* SPDX-License-Identifier: MIT */
// The C++ half of mi_new (see alloc-new.h): the new-handler and bad_alloc.
// Exceptions thrown here unwind through alloc-new.c, compiled with
// -fexceptions for that reason.
#include <new>
#include "alloc-new.h"

bool _mi_alloc_new_handler_try(bool nothrow) {
  std::new_handler handler = std::get_new_handler();
  if (handler == nullptr) {
    if (nothrow) return false;
    throw std::bad_alloc();
  }
  if (nothrow) {
    try { handler(); } catch (...) { return false; }   // a handler may throw bad_alloc
  } else {
    handler();
  }
  return true;
}

void _mi_alloc_new_handler_fail(void) {
  throw std::bad_alloc();
}
