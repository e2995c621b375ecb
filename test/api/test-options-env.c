/* SPDX-License-Identifier: MIT */
/* test-options-env: options from the environment (run by ctest with the
   variables below set): MICA_ and MIMALLOC_ prefixes, legacy names, size
   suffixes, invalid values, and mi_options_print showing each source.
     MICA_ARENA_RESERVE=64MiB       MIMALLOC_GUARDED_MIN=4KiB
     MIMALLOC_GUARDED_MAX=1M
     MIMALLOC_RESET_DELAY=25        (legacy name of purge_delay)
     MICA_MAX_WARNINGS=7            MIMALLOC_MAX_WARNINGS=9  (MICA_ wins)
     MIMALLOC_MAX_ERRORS=0x10       (invalid: the default stays)
     MIMALLOC_RETRY_ON_OOM=2G       (not a size option: invalid)
     MICA_EAGER_COMMIT_DELAY=off    MICA_VISIT_ABANDONED=yes */
#include "mimalloc.h"
#include "test.h"
#include "output-capture.h"

#include <string.h>

/* the line of mi_options_print for `name` contains `text` */
static bool printed(const char* name, const char* text) {
  char key[64];
  snprintf(key, sizeof(key), " %s ", name);
  const char* line = strstr(out_buf, key);
  if (line == NULL) return false;
  const char* end = strchr(line, '\n');
  const char* hit = strstr(line, text);
  return (hit != NULL && (end == NULL || hit < end));
}

int main(void) {
  CHECK(mi_option_get(mi_option_arena_reserve) == 64 * 1024);            /* KiB */
  CHECK(mi_option_get_size(mi_option_arena_reserve) == (size_t)64 << 20);
  CHECK(mi_option_get(mi_option_guarded_min) == 4096);                   /* bytes */
  CHECK(mi_option_get(mi_option_guarded_max) == 1 << 20);
  CHECK(mi_option_get(mi_option_purge_delay) == 25);
  CHECK(mi_option_get(mi_option_max_warnings) == 7);
  CHECK(mi_option_get(mi_option_max_errors) == 16);                      /* default kept */
  CHECK(mi_option_get(mi_option_retry_on_oom) == 400);                   /* default kept */
  CHECK(mi_option_get(mi_option_eager_commit_delay) == 0);
  CHECK(mi_option_is_enabled(mi_option_visit_abandoned));

  /* the program's value wins; a new default does not beat the environment */
  mi_option_set_default(mi_option_purge_delay, 99);
  CHECK(mi_option_get(mi_option_purge_delay) == 25);
  mi_option_set_default(mi_option_os_tag, 101);
  CHECK(mi_option_get(mi_option_os_tag) == 101);
  mi_option_set(mi_option_max_warnings, 5);
  CHECK(mi_option_get(mi_option_max_warnings) == 5);
  mi_option_set_default(mi_option_max_warnings, 3);
  CHECK(mi_option_get(mi_option_max_warnings) == 5);

  output_capture();
  mi_options_print();
  output_release();
  CHECKF(printed("arena_reserve", "65536 KiB (environment)"), "arena_reserve:\n%s", out_buf);
  CHECK(printed("guarded_min", "4096 (environment)"));
  CHECK(printed("purge_delay", "25 (environment)"));
  CHECK(printed("max_warnings", "5 (program)"));
  CHECK(printed("os_tag", "101 (program default)"));
  CHECK(printed("max_errors", "16 (default)"));
  CHECK(printed("show_stats", "0 (default)"));
  return test_report();
}
