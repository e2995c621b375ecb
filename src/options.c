/* SPDX-License-Identifier: MIT */
/* Options (read lazily from MICA_<NAME> or MIMALLOC_<NAME>). A leaf: it
   calls only prim and message.c. */
#include <ctype.h>
#include <limits.h>
#include "mica/internal.h"

/* Where an option's value came from (mi_options_print shows it). */
typedef enum mi_option_source_e {
  MI_SOURCE_DEFAULT,           /* mica's default */
  MI_SOURCE_PROGRAM_DEFAULT,   /* mi_option_set_default / mi_option_set_enabled_default */
  MI_SOURCE_ENVIRONMENT,       /* MICA_<NAME> or MIMALLOC_<NAME> */
  MI_SOURCE_PROGRAM,           /* mi_option_set / enable / disable */
} mi_option_source_t;

typedef struct mi_option_desc_s {
  long        value;
  bool        init;            /* the environment was read */
  uint8_t     source;          /* mi_option_source_t */
  mi_option_t option;
  const char* name;            /* upper-cased for the environment */
  const char* legacy_name;     /* mimalloc's older name, also read from the environment (or NULL) */
} mi_option_desc_t;

#define MI_OPTION(opt)                 mi_option_##opt, #opt, NULL
#define MI_OPTION_LEGACY(opt, legacy)  mi_option_##opt, #opt, #legacy

/* Order must match mi_option_t (checked in _mi_options_init). Defaults are
   mimalloc's unless mica has a reason (see doc/options.md). */
static mi_option_desc_t mi_options[_mi_option_last] = {
  { 0,    false, 0, MI_OPTION(show_errors) },
  { 0,    false, 0, MI_OPTION(show_stats) },
  { 0,    false, 0, MI_OPTION(verbose) },
  { 1,    false, 0, MI_OPTION(eager_commit) },
  { 2,    false, 0, MI_OPTION_LEGACY(arena_eager_commit, eager_region_commit) },
  { 0,    false, 0, MI_OPTION_LEGACY(purge_decommits, reset_decommits) },
  { 0,    false, 0, MI_OPTION_LEGACY(allow_large_os_pages, large_os_pages) },
  { 0,    false, 0, MI_OPTION(reserve_huge_os_pages) },
  { -1,   false, 0, MI_OPTION(reserve_huge_os_pages_at) },
  { 0,    false, 0, MI_OPTION(reserve_os_memory) },
  { 0,    false, 0, MI_OPTION(deprecated_segment_cache) },
  { 0,    false, 0, MI_OPTION(deprecated_page_reset) },
  { 0,    false, 0, MI_OPTION_LEGACY(abandoned_page_purge, abandoned_page_reset) },
  { 0,    false, 0, MI_OPTION(deprecated_segment_reset) },
  { 1,    false, 0, MI_OPTION(eager_commit_delay) },
  { 10,   false, 0, MI_OPTION_LEGACY(purge_delay, reset_delay) },
  { 0,    false, 0, MI_OPTION(use_numa_nodes) },
  { 0,    false, 0, MI_OPTION_LEGACY(disallow_os_alloc, limit_os_alloc) },
  { 100,  false, 0, MI_OPTION(os_tag) },
  { 16,   false, 0, MI_OPTION(max_errors) },
  { 16,   false, 0, MI_OPTION(max_warnings) },
  { 8,    false, 0, MI_OPTION(max_segment_reclaim) },
  { 0,    false, 0, MI_OPTION(destroy_on_exit) },
  { (long)(MI_ARENA_SIZE / 1024), false, 0, MI_OPTION(arena_reserve) },
  { 10,   false, 0, MI_OPTION(arena_purge_mult) },
  { 10,   false, 0, MI_OPTION(purge_extend_delay) },
  { 0,    false, 0, MI_OPTION(abandoned_reclaim_on_free) },
  { 0,    false, 0, MI_OPTION(disallow_arena_alloc) },
  { 400,  false, 0, MI_OPTION(retry_on_oom) },
  { 0,    false, 0, MI_OPTION(visit_abandoned) },
  { 0,    false, 0, MI_OPTION(guarded_min) },
  { 1L << 30, false, 0, MI_OPTION(guarded_max) },   /* bytes: 1 GiB, as mimalloc */
  { 0,    false, 0, MI_OPTION(guarded_precise) },
  { 0,    false, 0, MI_OPTION(guarded_sample_rate) },
  { 0,    false, 0, MI_OPTION(guarded_sample_seed) },
  { 0,    false, 0, MI_OPTION(target_segments_per_thread) },
  { 10000, false, 0, MI_OPTION(generic_collect) },
  { 1,    false, 0, MI_OPTION(allow_thp) },
};

/* Size options take K/M/G/T suffixes in the environment. The first two hold
   KiB (a long would overflow on 32-bit otherwise), the others bytes. */
static bool mi_option_in_kib(mi_option_t option) {
  return (option == mi_option_reserve_os_memory || option == mi_option_arena_reserve);
}
static bool mi_option_is_size(mi_option_t option) {
  return (mi_option_in_kib(option) || option == mi_option_guarded_min || option == mi_option_guarded_max);
}

static void mi_option_init(mi_option_desc_t* desc);

void _mi_options_init(void) {
  for (int i = 0; i < _mi_option_last; i++) {
    mi_assert(mi_options[i].option == (mi_option_t)i);
    const long value = mi_option_get((mi_option_t)i);   /* read the environment now */
    (void)value;
  }
  if (mi_option_is_enabled(mi_option_verbose)) mi_options_print();
}

static mi_option_desc_t* mi_option_desc(mi_option_t option) {
  if (option < 0 || option >= _mi_option_last) return NULL;
  mi_option_desc_t* desc = &mi_options[option];
  if (mi_unlikely(!desc->init)) mi_option_init(desc);
  return desc;
}

long mi_option_get(mi_option_t option) {
  const mi_option_desc_t* desc = mi_option_desc(option);
  return (desc == NULL ? 0 : desc->value);
}

long mi_option_get_clamp(mi_option_t option, long min, long max) {
  long x = mi_option_get(option);
  return (x < min ? min : (x > max ? max : x));
}

size_t mi_option_get_size(mi_option_t option) {
  long x = mi_option_get(option);
  size_t size = (x < 0 ? 0 : (size_t)x);
  if (mi_option_in_kib(option)) size = (size > SIZE_MAX / 1024 ? SIZE_MAX : size * 1024);
  return size;
}

/* A value the program sets wins over the environment (as in mimalloc). */
void mi_option_set(mi_option_t option, long value) {
  mi_option_desc_t* desc = mi_option_desc(option);
  if (desc == NULL) return;
  desc->value = value;
  desc->source = MI_SOURCE_PROGRAM;
}

/* A new default: it loses against the environment and against mi_option_set. */
void mi_option_set_default(mi_option_t option, long value) {
  mi_option_desc_t* desc = mi_option_desc(option);
  if (desc == NULL) return;
  if (desc->source == MI_SOURCE_DEFAULT || desc->source == MI_SOURCE_PROGRAM_DEFAULT) {
    desc->value = value;
    desc->source = MI_SOURCE_PROGRAM_DEFAULT;
  }
}

bool mi_option_is_enabled(mi_option_t option)   { return mi_option_get(option) != 0; }
void mi_option_set_enabled(mi_option_t option, bool enable) { mi_option_set(option, enable ? 1 : 0); }
void mi_option_set_enabled_default(mi_option_t option, bool enable) { mi_option_set_default(option, enable ? 1 : 0); }
void mi_option_enable(mi_option_t option)  { mi_option_set_enabled(option, true); }
void mi_option_disable(mi_option_t option) { mi_option_set_enabled(option, false); }

/* Parse "1/0/true/false/on/off/yes/no", or a number; a size option takes
   a suffix K, M, G or T, optionally followed by "B" or "iB" (1K = 1KiB =
   1024 bytes) and without one is in bytes. `*value` is in the option's
   unit (KiB or bytes). */
static bool mi_option_parse(const char* s, mi_option_t option, long* value) {
  char buf[64];
  size_t len = 0;
  for (; s[len] != 0 && len + 1 < sizeof(buf); len++) buf[len] = (char)toupper((unsigned char)s[len]);
  buf[len] = 0;
  if (len == 0 || s[len] != 0) return false;   /* empty or too long */
  if (!strcmp(buf, "1") || !strcmp(buf, "TRUE") || !strcmp(buf, "YES") || !strcmp(buf, "ON")) { *value = 1; return true; }
  if (!strcmp(buf, "0") || !strcmp(buf, "FALSE") || !strcmp(buf, "NO") || !strcmp(buf, "OFF")) { *value = 0; return true; }
  const char* p = buf;
  const bool neg = (*p == '-');
  if (neg) p++;
  if (*p < '0' || *p > '9') return false;
  uint64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > (uint64_t)LONG_MAX) return false;
  }
  if (mi_option_is_size(option) && !neg) {
    unsigned shift = 0;   /* of the suffix, in bytes */
    if (*p == 'K') shift = 10;
    else if (*p == 'M') shift = 20;
    else if (*p == 'G') shift = 30;
    else if (*p == 'T') shift = 40;
    if (shift != 0) {
      p++;
      if (p[0] == 'I' && p[1] == 'B') p += 2;
      else if (p[0] == 'B') p++;
    }
    else if (p[0] == 'B') p++;   /* "4096B" */
    if (mi_option_in_kib(option)) {
      if (shift == 0) v = (v + 1023) / 1024;   /* bytes, rounded up to KiB */
      else shift -= 10;
    }
    if (shift != 0 && v > ((uint64_t)LONG_MAX >> shift)) return false;   /* does not fit a long */
    v <<= shift;
  }
  if (*p != 0) return false;
  *value = (neg ? -(long)v : (long)v);
  return true;
}

static bool mi_option_getenv(const char* prefix, const char* name, char* buf, size_t size) {
  char var[80];
  size_t i = 0;
  for (const char* s = prefix; *s && i + 1 < sizeof(var); s++) var[i++] = *s;
  for (const char* s = name; *s && i + 1 < sizeof(var); s++) var[i++] = (char)toupper((unsigned char)*s);
  var[i] = 0;
  return _mi_prim_getenv(var, buf, size);
}

/* MICA_<NAME> first, then MIMALLOC_<NAME>, then both with the legacy name. */
static void mi_option_init(mi_option_desc_t* desc) {
  char value[80];
  desc->init = true;
  const char* found = NULL;
  const char* names[2] = { desc->name, desc->legacy_name };
  for (size_t i = 0; i < 2 && found == NULL; i++) {
    if (names[i] == NULL) continue;
    if (mi_option_getenv("MICA_", names[i], value, sizeof(value))) found = names[i];
    else if (mi_option_getenv("MIMALLOC_", names[i], value, sizeof(value))) found = names[i];
  }
  if (found == NULL) return;
  long v;
  if (mi_option_parse(value, desc->option, &v)) {
    desc->value = v;
    desc->source = MI_SOURCE_ENVIRONMENT;
  }
  else {
    _mi_message_warning("environment option \"%s\" has an invalid value: %s (the default %ld is kept)\n", found, value, desc->value);
  }
}

void mi_options_print(void) {
  static const char* const sources[] = { "default", "program default", "environment", "program" };
  _mi_message_fprintf(NULL, NULL, "mica %d.%d.%d options (mimalloc API %d):\n", MICA_VERSION_MAJOR, MICA_VERSION_MINOR, MICA_VERSION_PATCH, MI_MALLOC_VERSION);
  for (int i = 0; i < _mi_option_last; i++) {
    const mi_option_desc_t* desc = mi_option_desc((mi_option_t)i);
    _mi_message_fprintf(NULL, NULL, "  option %-28s %ld%s (%s)\n", desc->name, desc->value,
                (mi_option_in_kib(desc->option) ? " KiB" : ""), sources[desc->source]);
  }
}
