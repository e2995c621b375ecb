/* SPDX-License-Identifier: MIT */
/* Statistics as text (mi_stats_print, the summary at exit), as mimalloc's
   public structure (mi_stats_get) and as JSON (mi_stats_get_json). */
#include "mica/internal.h"

/* mimalloc-stats.h's public names mi_stats_t, mi_stat_count_t and
   MI_BIN_HUGE are also names of mica's internal statistics and size bins:
   its types are renamed mi_public_* and its MI_BIN_HUGE set aside while it
   is included (this also holds in the single-unit build, src/static.c). */
#pragma push_macro("MI_BIN_HUGE")
#undef MI_BIN_HUGE
#define mi_stats_s       mi_public_stats_s
#define mi_stats_t       mi_public_stats_t
#define mi_stat_count_s  mi_public_stat_count_s
#define mi_stat_count_t  mi_public_stat_count_t
#include "mimalloc-stats.h"
#undef mi_stats_s
#undef mi_stats_t
#undef mi_stat_count_s
#undef mi_stat_count_t
#undef MI_BIN_HUGE
#pragma pop_macro("MI_BIN_HUGE")

/* "12.3 MiB" style amounts */
static void mi_format_amount(char* buf, size_t size, intptr_t n, bool bytes) {
  const char* sign = (n < 0 ? "-" : "");
  uintptr_t u = (uintptr_t)(n < 0 ? -n : n);
  if (!bytes || u < 1024) { _mi_message_fmt(buf, size, "%s%zu%s", sign, (size_t)u, bytes ? " B" : ""); return; }
  const char* units[] = { "KiB", "MiB", "GiB", "TiB" };
  size_t unit = 0;
  uintptr_t scaled = u / 1024, rest = u % 1024;
  while (scaled >= 1024 && unit < 3) { rest = scaled % 1024; scaled /= 1024; unit++; }
  _mi_message_fmt(buf, size, "%s%zu.%zu %s", sign, (size_t)scaled, (size_t)(rest * 10 / 1024), units[unit]);
}

static void mi_stat_print(mi_output_fun* out, void* arg, const char* name, mi_stat_count_t* stat, bool bytes) {
  char cur[32], peak[32], total[32];
  mi_format_amount(cur, sizeof(cur), mi_atomic_load_relaxed(&stat->xcurrent), bytes);
  mi_format_amount(peak, sizeof(peak), mi_atomic_load_relaxed(&stat->xpeak), bytes);
  mi_format_amount(total, sizeof(total), mi_atomic_load_relaxed(&stat->xtotal), bytes);
  _mi_message_fprintf(out, arg, "%14s: %12s %12s %12s\n", name, cur, peak, total);
}

void mi_stats_print_out(mi_output_fun* out, void* arg) {
  mi_stats_t* s = &_mi_stats;
  _mi_message_fprintf(out, arg, "mica %d.%d.%d statistics:\n", MICA_VERSION_MAJOR, MICA_VERSION_MINOR, MICA_VERSION_PATCH);
  _mi_message_fprintf(out, arg, "%14s: %12s %12s %12s\n", "", "current", "peak", "total");
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
  mi_stat_print(out, arg, "purge-calls", &s->purge_calls, false);
  mi_stat_print(out, arg, "populated", &s->populates, true);
  mi_stat_print(out, arg, "guarded", &s->guarded, false);
  size_t elapsed, utime, stime, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &utime, &stime, &rss, &peak_rss, &commit, &peak_commit, &faults);
  char b1[32], b2[32];
  mi_format_amount(b1, sizeof(b1), (intptr_t)rss, true);
  mi_format_amount(b2, sizeof(b2), (intptr_t)peak_rss, true);
  _mi_message_fprintf(out, arg, "%14s: %zu.%03zu s elapsed, %zu.%03zu s user, %zu.%03zu s system, rss %s, peak rss %s, %zu page faults, %zu arenas\n",
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
  if (current_commit != NULL) *current_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.xcurrent);
  if (peak_commit != NULL)   *peak_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats.committed.xpeak);
  if (page_faults != NULL)   *page_faults = faults;
}

void _mi_stats_print_at_exit(void) {
  if (mi_option_is_enabled(mi_option_show_stats) || mi_option_is_enabled(mi_option_verbose)) {
    mi_stats_print_out(NULL, NULL);
  }
}

/* ---------------------------------------------------------------------------
   mi_stats_get: mica's counters in mimalloc's layout
--------------------------------------------------------------------------- */
static void mi_stat_get(mi_public_stat_count_t* out, mi_stat_count_t* stat) {
  out->total = (int64_t)mi_atomic_load_relaxed(&stat->xtotal);
  out->peak = (int64_t)mi_atomic_load_relaxed(&stat->xpeak);
  out->current = (int64_t)mi_atomic_load_relaxed(&stat->xcurrent);
}

static void mi_stats_fill(mi_public_stats_t* st) {
  mi_stats_t* s = &_mi_stats;
  memset(st, 0, sizeof(*st));
  st->size = sizeof(*st);
  st->version = MI_STAT_VERSION;
  mi_stat_get(&st->pages, &s->pages);
  mi_stat_get(&st->reserved, &s->reserved);
  mi_stat_get(&st->committed, &s->committed);
  st->purged.total = (int64_t)mi_atomic_load_relaxed(&s->purges.xtotal);
  st->purge_calls.total = (int64_t)mi_atomic_load_relaxed(&s->purge_calls.xtotal);
  mi_stat_get(&st->threads, &s->threads);
  mi_stat_get(&st->malloc_huge, &s->huge);
  st->mmap_calls.total = (int64_t)mi_atomic_load_relaxed(&s->mmap_calls.xtotal);
  st->arena_count.total = (int64_t)_mi_arena_count();
  mi_stat_get(&st->segments, &s->segments);
  mi_stat_get(&st->segments_abandoned, &s->abandoned);
  st->malloc_guarded_count.total = (int64_t)mi_atomic_load_relaxed(&s->guarded.xtotal);
}

/* The caller's structure must be this version; a smaller (older, same
   version) one gets its prefix. */
bool mi_stats_get(mi_public_stats_t* stats) {
  if (stats == NULL || stats->version != MI_STAT_VERSION ||
      stats->size < offsetof(mi_public_stats_t, pages) || stats->size > sizeof(mi_public_stats_t)) {
    return false;
  }
  mi_public_stats_t all;
  mi_stats_fill(&all);
  const size_t size = stats->size;
  memcpy(stats, &all, size);
  stats->size = size;
  return true;
}

/* ---------------------------------------------------------------------------
   mi_stats_get_json: into the caller's buffer, or a growing mi_malloc block
--------------------------------------------------------------------------- */
typedef struct mi_json_s {
  char*  buf;
  size_t size;
  size_t len;
  bool   grow;     /* buf is ours: realloc when full */
  bool   failed;   /* out of space or memory */
} mi_json_t;

static void mi_json_add(mi_json_t* j, const char* fmt, ...) {
  if (j->failed) return;
  char tmp[512];
  va_list args;
  va_start(args, fmt);
  const int n = _mi_prim_vsnprintf(tmp, sizeof(tmp), fmt, args);
  va_end(args);
  if (n < 0 || (size_t)n >= sizeof(tmp)) { j->failed = true; return; }
  if (j->len + (size_t)n + 1 > j->size) {
    if (!j->grow) { j->failed = true; return; }
    const size_t newsize = 2 * j->size + (size_t)n + 1;
    char* newbuf = (char*)mi_realloc(j->buf, newsize);
    if (newbuf == NULL) { j->failed = true; return; }
    j->buf = newbuf;
    j->size = newsize;
  }
  memcpy(j->buf + j->len, tmp, (size_t)n + 1);
  j->len += (size_t)n;
}

static void mi_json_count(mi_json_t* j, const char* name, const mi_public_stat_count_t* c) {
  mi_json_add(j, ",\n  \"%s\": { \"total\": %lld, \"peak\": %lld, \"current\": %lld }", name,
              (long long)c->total, (long long)c->peak, (long long)c->current);
}

static void mi_json_counter(mi_json_t* j, const char* name, const mi_stat_counter_t* c) {
  mi_json_add(j, ",\n  \"%s\": { \"total\": %lld }", name, (long long)c->total);
}

static void mi_json_bins(mi_json_t* j, const char* name, const mi_public_stat_count_t* bins, size_t count) {
  mi_json_add(j, ",\n  \"%s\": [", name);
  for (size_t i = 0; i < count; i++) {
    mi_json_add(j, "%s{ \"total\": %lld, \"peak\": %lld, \"current\": %lld }", (i == 0 ? "" : ", "),
                (long long)bins[i].total, (long long)bins[i].peak, (long long)bins[i].current);
  }
  mi_json_add(j, "]");
}

char* mi_stats_get_json(size_t buf_size, char* buf) {
  if (buf != NULL && buf_size == 0) return NULL;
  mi_json_t j = { buf, buf_size, 0, (buf == NULL), false };
  if (j.grow) {
    j.size = 4096;
    j.buf = (char*)mi_malloc(j.size);
    if (j.buf == NULL) return NULL;
  }
  mi_public_stats_t st;
  mi_stats_fill(&st);
  size_t elapsed, utime, stime, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &utime, &stime, &rss, &peak_rss, &commit, &peak_commit, &faults);
  mi_json_add(&j, "{\n  \"version\": %d,\n  \"mimalloc_version\": %d,\n  \"allocator\": \"mica %d.%d.%d\"",
              MI_STAT_VERSION, MI_MALLOC_VERSION, MICA_VERSION_MAJOR, MICA_VERSION_MINOR, MICA_VERSION_PATCH);
  mi_json_add(&j, ",\n  \"process\": { \"elapsed_msecs\": %zu, \"user_msecs\": %zu, \"system_msecs\": %zu, "
              "\"current_rss\": %zu, \"peak_rss\": %zu, \"current_commit\": %zu, \"peak_commit\": %zu, \"page_faults\": %zu }",
              elapsed, utime, stime, rss, peak_rss, commit, peak_commit, faults);
#define MI_STAT_COUNT(stat)    mi_json_count(&j, #stat, &st.stat);
#define MI_STAT_COUNTER(stat)  mi_json_counter(&j, #stat, &st.stat);
  MI_STAT_FIELDS()
#undef MI_STAT_COUNT
#undef MI_STAT_COUNTER
  mi_json_bins(&j, "malloc_bins", st.malloc_bins, sizeof(st.malloc_bins) / sizeof(st.malloc_bins[0]));
  mi_json_bins(&j, "page_bins", st.page_bins, sizeof(st.page_bins) / sizeof(st.page_bins[0]));
  mi_json_add(&j, "\n}\n");
  if (j.failed) {
    if (j.grow) mi_free(j.buf);
    return NULL;
  }
  return j.buf;
}
