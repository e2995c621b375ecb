/* SPDX-License-Identifier: MIT */
/* test-stats-json: print mi_stats_get_json's output, with a live huge block,
   for check-stats-json.py to parse. */
#include "mimalloc-stats.h"
#include <stdio.h>

int main(void) {
  void* big = mi_malloc(8u << 20);
  char* json = mi_stats_get_json(0, NULL);
  if (big == NULL || json == NULL) return 1;
  fputs(json, stdout);
  mi_free(json);
  mi_free(big);
  return 0;
}
