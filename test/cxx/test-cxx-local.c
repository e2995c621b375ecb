/* SPDX-License-Identifier: MIT */
/* cxx-local: a C program under LD_PRELOAD=libmica.so does not load the C++
   runtime (mica's operators are C: libstdc++, libm and libgcc_s cost a
   small program 1.1 MiB of peak RSS). It then opens cxx-module, a C++
   library, with RTLD_LOCAL (as CPython opens C++ extensions), so that
   libstdc++ is private to the module; mica still serves its `new`, calls
   its new-handler, throws the std::bad_alloc it catches, and gives its
   nothrow forms nullptr when the handler throws. Usage: test-cxx-local
   PATH-OF-cxx-module */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "test.h"

static bool mapped(const char* name) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != NULL) found = (strstr(line, name) != NULL);
  fclose(f);
  return found;
}

int main(int argc, char** argv) {
  CHECKF(argc == 2, "usage: test-cxx-local PATH-OF-cxx-module");
  if (argc != 2) return test_report();
  bool (*in_heap)(const void*) = (bool (*)(const void*))dlsym(RTLD_DEFAULT, "mi_is_in_heap_region");
  CHECKF(in_heap != NULL, "mica is not preloaded (no mi_is_in_heap_region)");
  CHECKF(!mapped("libstdc++"), "libstdc++ is mapped in a C program on mica");
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  CHECKF(lib != NULL, "dlopen %s: %s", argv[1], dlerror());
  if (lib == NULL || in_heap == NULL) return test_report();
  CHECKF(mapped("libstdc++"), "the C++ module did not bring its libstdc++ (the test proves nothing)");
  CHECKF(dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv") == NULL, "libstdc++ is global: the module's is meant to be private");

  void* (*module_new)(size_t) = (void* (*)(size_t))dlsym(lib, "module_new");
  void (*module_delete)(void*) = (void (*)(void*))dlsym(lib, "module_delete");
  int (*new_throws)(void) = (int (*)(void))dlsym(lib, "module_new_throws");
  int (*handler_then_throw)(void) = (int (*)(void))dlsym(lib, "module_handler_then_throw");
  int (*nothrow_handler_throws)(int) = (int (*)(int))dlsym(lib, "module_nothrow_handler_throws");
  CHECK(module_new != NULL && module_delete != NULL && new_throws != NULL && handler_then_throw != NULL && nothrow_handler_throws != NULL);
  if (module_new == NULL || module_delete == NULL || new_throws == NULL || handler_then_throw == NULL || nothrow_handler_throws == NULL) return test_report();

  void* p = module_new(100);
  CHECKF(p != NULL && in_heap(p), "the module's new[] was not served by mica");
  module_delete(p);
  CHECKF(new_throws() == 1, "new of an impossible size did not throw std::bad_alloc into the module");
  int calls = handler_then_throw();
  CHECKF(calls == 1, "the module's new-handler: %d calls before the throw, expected 1", calls);
  calls = nothrow_handler_throws(0);
  CHECKF(calls == 1, "new(nothrow) with a throwing handler: %d (-1: not nullptr), expected 1 handler call", calls);
  calls = nothrow_handler_throws(1);
  CHECKF(calls == 1, "aligned new[](nothrow) with a throwing handler: %d (-1: not nullptr), expected 1 handler call", calls);
  dlclose(lib);
  return test_report();
}
