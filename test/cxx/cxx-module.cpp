// SPDX-License-Identifier: MIT
// cxx-module: a C++ library that test-cxx-local (a C program on mica)
// opens with RTLD_LOCAL, as CPython opens C++ extension modules, so its
// libstdc++ is private to it. Its `new`s are served by mica's operators,
// which must still call its new-handler and throw the std::bad_alloc it
// catches.
#include <cstddef>
#include <cstdint>
#include <new>

// volatile, and every result kept: a new whose result is only deleted may be elided
static volatile std::size_t impossible = (std::size_t)1 << (sizeof(void*) == 8 ? 62 : 31);
void* volatile module_kept;
static int handler_calls = 0;
static void handler_throws() { handler_calls++; throw std::bad_alloc(); }
static void handler_gives_up() { handler_calls++; std::set_new_handler(nullptr); }

extern "C" {
__attribute__((visibility("default"))) void* module_new(std::size_t n) { return new char[n]; }
__attribute__((visibility("default"))) void module_delete(void* p) { delete[] static_cast<char*>(p); }

// 1 if new of an impossible size throws std::bad_alloc, caught here
__attribute__((visibility("default"))) int module_new_throws(void) {
  try { module_kept = new char[impossible]; } catch (const std::bad_alloc&) { return 1; }
  return 0;
}

// the handler is called, gives up, and then the throw comes
__attribute__((visibility("default"))) int module_handler_then_throw(void) {
  handler_calls = 0;
  std::set_new_handler(handler_gives_up);
  try { module_kept = ::operator new(impossible); } catch (const std::bad_alloc&) { return handler_calls; }
  return -1;
}

// nothrow forms with a handler that throws: nullptr, the handler called once
__attribute__((visibility("default"))) int module_nothrow_handler_throws(int aligned) {
  handler_calls = 0;
  std::set_new_handler(handler_throws);
  void* p = (aligned ? ::operator new[](impossible, std::align_val_t(64), std::nothrow) : ::operator new(impossible, std::nothrow));
  std::set_new_handler(nullptr);
  return (p == nullptr ? handler_calls : -1);
}
}
