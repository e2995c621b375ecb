/* SPDX-License-Identifier: MIT */
/* Statistics: process-wide counters (relaxed atomics, slow paths only).
   A leaf: it calls nothing. Printing and mimalloc's mi_stats_get and
   mi_stats_get_json are in stats-print.c. */
#include "mica/internal.h"

_Alignas(MI_CACHE_LINE) mi_stats_t _mi_stats;

void _mi_stats_increase(mi_stat_count_t* stat, size_t amount) {
  const intptr_t cur = mi_atomic_fetch_add_relaxed(&stat->xcurrent, (intptr_t)amount) + (intptr_t)amount;
  mi_atomic_fetch_add_relaxed(&stat->xtotal, (intptr_t)amount);
  intptr_t peak = mi_atomic_load_relaxed(&stat->xpeak);
  while (cur > peak && !mi_atomic_cas_weak_relaxed(&stat->xpeak, &peak, cur)) { }
}

void _mi_stats_decrease(mi_stat_count_t* stat, size_t amount) {
  mi_atomic_fetch_sub_relaxed(&stat->xcurrent, (intptr_t)amount);
}

static void mi_stat_reset(mi_stat_count_t* stat) {
  mi_atomic_store_relaxed(&stat->xpeak, mi_atomic_load_relaxed(&stat->xcurrent));
  mi_atomic_store_relaxed(&stat->xtotal, 0);
}

void mi_stats_reset(void) {
  mi_stat_count_t* stats = (mi_stat_count_t*)&_mi_stats;
  for (size_t i = 0; i < sizeof(mi_stats_t) / sizeof(mi_stat_count_t); i++) mi_stat_reset(&stats[i]);
}

void mi_stats_merge(void) {
  /* counters are process-wide already */
}
