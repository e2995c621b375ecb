/* Statistics: process-wide counters (relaxed atomics, slow paths only) and
   their printing. A leaf: calls only prim and output. */
#include "mica/internal.h"

_Alignas(MI_CACHE_LINE) mi_stats_t _mi_stats;

void _mi_stat_increase(mi_stat_count_t* stat, size_t amount) {
  const intptr_t cur = mi_atomic_fetch_add_relaxed(&stat->current, (intptr_t)amount) + (intptr_t)amount;
  mi_atomic_fetch_add_relaxed(&stat->total, (intptr_t)amount);
  intptr_t peak = mi_atomic_load_relaxed(&stat->peak);
  while (cur > peak && !atomic_compare_exchange_weak_explicit(&stat->peak, &peak, cur, memory_order_relaxed, memory_order_relaxed)) { }
}

void _mi_stat_decrease(mi_stat_count_t* stat, size_t amount) {
  mi_atomic_fetch_sub_relaxed(&stat->current, (intptr_t)amount);
}

static void mi_stat_reset(mi_stat_count_t* stat) {
  mi_atomic_store_relaxed(&stat->peak, mi_atomic_load_relaxed(&stat->current));
  mi_atomic_store_relaxed(&stat->total, 0);
}

void mi_stats_reset(void) {
  mi_stat_count_t* stats = (mi_stat_count_t*)&_mi_stats;
  for (size_t i = 0; i < sizeof(mi_stats_t) / sizeof(mi_stat_count_t); i++) mi_stat_reset(&stats[i]);
}

void mi_stats_merge(void) {
  /* counters are process-wide already */
}

/* "12.3 MiB" style amounts */
static void mi_format_amount(char* buf, size_t size, intptr_t n, bool bytes) {
  const char* sign = (n < 0 ? "-" : "");
  uintptr_t u = (uintptr_t)(n < 0 ? -n : n);
  if (!bytes || u < 1024) { _mi_fmt(buf, size, "%s%zu%s", sign, (size_t)u, bytes ? " B" : ""); return; }
  const char* units[] = { "KiB", "MiB", "GiB", "TiB" };
  size_t unit = 0;
  uintptr_t scaled = u / 1024, rest = u % 1024;
  while (scaled >= 1024 && unit < 3) { rest = scaled % 1024; scaled /= 1024; unit++; }
  _mi_fmt(buf, size, "%s%zu.%zu %s", sign, (size_t)scaled, (size_t)(rest * 10 / 1024), units[unit]);
}

static void mi_stat_print(mi_output_fun* out, void* arg, const char* name, mi_stat_count_t* stat, bool bytes) {
  char cur[32], peak[32], total[32];
  mi_format_amount(cur, sizeof(cur), mi_atomic_load_relaxed(&stat->current), bytes);
  mi_format_amount(peak, sizeof(peak), mi_atomic_load_relaxed(&stat->peak), bytes);
  mi_format_amount(total, sizeof(total), mi_atomic_load_relaxed(&stat->total), bytes);
  _mi_fprintf(out, arg, "%14s: %12s %12s %12s\n", name, cur, peak, total);
}

void mi_stats_print_out(mi_output_fun* out, void* arg) {
  mi_stats_t* s = &_mi_stats;
  _mi_fprintf(out, arg, "mica %d.%d.%d statistics:\n", MICA_VERSION_MAJOR, MICA_VERSION_MINOR, MICA_VERSION_PATCH);
  _mi_fprintf(out, arg, "%14s: %12s %12s %12s\n", "", "current", "peak", "total");
  mi_stat_print(out, arg, "reserved", &s->reserved, true);
  mi_stat_print(out, arg, "committed", &s->committed, true);
  mi_stat_print(out, arg, "segments", &s->segments, false);
  mi_stat_print(out, arg, "pages", &s->pages, false);
  mi_stat_print(out, arg, "huge", &s->huge, true);
  mi_stat_print(out, arg, "threads", &s->threads, false);
  mi_stat_print(out, arg, "abandoned", &s->abandoned, false);
  mi_stat_print(out, arg, "reclaimed", &s->reclaimed, false);
  mi_stat_print(out, arg, "mmap-calls", &s->mmap_calls, false);
  mi_stat_print(out, arg, "purged", &s->purges, true);
  size_t elapsed, utime, stime, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &utime, &stime, &rss, &peak_rss, &commit, &peak_commit, &faults);
  char b1[32], b2[32];
  mi_format_amount(b1, sizeof(b1), (intptr_t)rss, true);
  mi_format_amount(b2, sizeof(b2), (intptr_t)peak_rss, true);
  _mi_fprintf(out, arg, "%14s: %zu.%03zu s elapsed, %zu.%03zu s user, %zu.%03zu s system, rss %s, peak rss %s, %zu page faults, %zu arenas\n",
              "process", elapsed / 1000, elapsed % 1000, utime / 1000, utime % 1000, stime / 1000, stime % 1000,
              b1, b2, faults, _mi_arena_count());
}

void mi_stats_print(void* out) {
  (void)out;   /* mimalloc's old signature: the argument is ignored */
  mi_stats_print_out(NULL, NULL);
}

void mi_thread_stats_print_out(mi_output_fun* out, void* arg) {
  mi_stats_print_out(out, arg);   /* statistics are process-wide */
}

void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs,
                     size_t* current_rss, size_t* peak_rss,
                     size_t* current_commit, size_t* peak_commit, size_t* page_faults) {
  size_t elapsed, utime, stime, rss, prss, faults;
  _mi_prim_process_info(&elapsed, &utime, &stime, &rss, &prss, &faults);
  if (elapsed_msecs != NULL) *elapsed_msecs = elapsed;
  if (user_msecs != NULL)    *user_msecs = utime;
  if (system_msecs != NULL)  *system_msecs = stime;
  if (current_rss != NULL)   *current_rss = rss;
  if (peak_rss != NULL)      *peak_rss = prss;
  if (current_commit != NULL) *current_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.current);
  if (peak_commit != NULL)   *peak_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.peak);
  if (page_faults != NULL)   *page_faults = faults;
}

void _mi_stats_print_at_exit(void) {
  if (mi_option_is_enabled(mi_option_show_stats) || mi_option_is_enabled(mi_option_verbose)) {
    mi_stats_print_out(NULL, NULL);
  }
}
