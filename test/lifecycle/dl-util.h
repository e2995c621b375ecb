/* SPDX-License-Identifier: MIT */
/* Helpers of the dl-* test programs (after test.h). */
#ifndef MICA_TEST_DL_UTIL_H
#define MICA_TEST_DL_UTIL_H

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* dlsym, counted as a check */
static inline void* dl_lookup(void* handle, const char* name) {
  void* f = dlsym(handle, name);
  CHECKF(f != NULL, "dlsym(%s): %s", name, dlerror());
  return f;
}

/* some mapping of the process is of the file `path` (a real path) */
static inline bool dl_is_mapped(const char* path) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return false;
  char line[PATH_MAX + 128];
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != NULL) found = (strstr(line, path) != NULL);
  fclose(f);
  return found;
}

#endif
