/* Options (read lazily from MICA_<NAME> or MIMALLOC_<NAME>), message output
   and error reporting. A leaf: calls only prim. */
#include <stdarg.h>
#include <ctype.h>
#include "mica/internal.h"

typedef enum mi_init_e { MI_UNINIT, MI_DEFAULTED, MI_INITIALIZED } mi_init_t;

typedef struct mi_option_desc_s {
  long        value;
  mi_init_t   init;
  mi_option_t option;
  const char* name;        /* upper-cased for the environment */
} mi_option_desc_t;

#define MI_OPTION(opt)  mi_option_##opt, #opt

/* Order must match mi_option_t (checked in _mi_options_init). */
static mi_option_desc_t mi_options[_mi_option_last] = {
  { 0,    MI_UNINIT, MI_OPTION(show_errors) },
  { 0,    MI_UNINIT, MI_OPTION(show_stats) },
  { 0,    MI_UNINIT, MI_OPTION(verbose) },
  { 1,    MI_UNINIT, MI_OPTION(eager_commit) },
  { 2,    MI_UNINIT, MI_OPTION(arena_eager_commit) },
  { 0,    MI_UNINIT, MI_OPTION(purge_decommits) },
  { 0,    MI_UNINIT, MI_OPTION(allow_large_os_pages) },
  { 0,    MI_UNINIT, MI_OPTION(reserve_huge_os_pages) },
  { -1,   MI_UNINIT, MI_OPTION(reserve_huge_os_pages_at) },
  { 0,    MI_UNINIT, MI_OPTION(reserve_os_memory) },
  { 0,    MI_UNINIT, MI_OPTION(deprecated_segment_cache) },
  { 0,    MI_UNINIT, MI_OPTION(deprecated_page_reset) },
  { 0,    MI_UNINIT, MI_OPTION(abandoned_page_purge) },
  { 0,    MI_UNINIT, MI_OPTION(deprecated_segment_reset) },
  { 1,    MI_UNINIT, MI_OPTION(eager_commit_delay) },
  { 10,   MI_UNINIT, MI_OPTION(purge_delay) },
  { 0,    MI_UNINIT, MI_OPTION(use_numa_nodes) },
  { 0,    MI_UNINIT, MI_OPTION(disallow_os_alloc) },
  { 100,  MI_UNINIT, MI_OPTION(os_tag) },
  { 16,   MI_UNINIT, MI_OPTION(max_errors) },
  { 16,   MI_UNINIT, MI_OPTION(max_warnings) },
  { 8,    MI_UNINIT, MI_OPTION(max_segment_reclaim) },
  { 0,    MI_UNINIT, MI_OPTION(destroy_on_exit) },
  { (long)(MI_ARENA_SIZE / 1024), MI_UNINIT, MI_OPTION(arena_reserve) },
  { 10,   MI_UNINIT, MI_OPTION(arena_purge_mult) },
  { 1,    MI_UNINIT, MI_OPTION(purge_extend_delay) },
  { 0,    MI_UNINIT, MI_OPTION(abandoned_reclaim_on_free) },
  { 0,    MI_UNINIT, MI_OPTION(disallow_arena_alloc) },
  { 400,  MI_UNINIT, MI_OPTION(retry_on_oom) },
  { 0,    MI_UNINIT, MI_OPTION(visit_abandoned) },
  { 0,    MI_UNINIT, MI_OPTION(guarded_min) },
  { 0,    MI_UNINIT, MI_OPTION(guarded_max) },
  { 0,    MI_UNINIT, MI_OPTION(guarded_precise) },
  { 0,    MI_UNINIT, MI_OPTION(guarded_sample_rate) },
  { 0,    MI_UNINIT, MI_OPTION(guarded_sample_seed) },
  { 0,    MI_UNINIT, MI_OPTION(target_segments_per_thread) },
  { 10000, MI_UNINIT, MI_OPTION(generic_collect) },
  { 1,    MI_UNINIT, MI_OPTION(allow_thp) },
};

static void mi_option_init(mi_option_desc_t* desc);

void _mi_options_init(void) {
  for (int i = 0; i < _mi_option_last; i++) {
    mi_assert(mi_options[i].option == (mi_option_t)i);
    const long value = mi_option_get((mi_option_t)i);   /* read the environment now */
    (void)value;
  }
}

long mi_option_get(mi_option_t option) {
  if (option < 0 || option >= _mi_option_last) return 0;
  mi_option_desc_t* desc = &mi_options[option];
  if (mi_unlikely(desc->init == MI_UNINIT)) mi_option_init(desc);
  return desc->value;
}

long mi_option_get_clamp(mi_option_t option, long min, long max) {
  long x = mi_option_get(option);
  return (x < min ? min : (x > max ? max : x));
}

size_t mi_option_get_size(mi_option_t option) {
  long x = mi_option_get(option);
  size_t size = (x < 0 ? 0 : (size_t)x);
  if (option == mi_option_reserve_os_memory || option == mi_option_arena_reserve) size *= 1024;  /* KiB */
  return size;
}

void mi_option_set(mi_option_t option, long value) {
  if (option < 0 || option >= _mi_option_last) return;
  mi_options[option].value = value;
  mi_options[option].init = MI_INITIALIZED;
}

void mi_option_set_default(mi_option_t option, long value) {
  if (option < 0 || option >= _mi_option_last) return;
  if (mi_options[option].init != MI_INITIALIZED) mi_options[option].value = value;
}

bool mi_option_is_enabled(mi_option_t option)   { return mi_option_get(option) != 0; }
void mi_option_set_enabled(mi_option_t option, bool enable) { mi_option_set(option, enable ? 1 : 0); }
void mi_option_set_enabled_default(mi_option_t option, bool enable) { mi_option_set_default(option, enable ? 1 : 0); }
void mi_option_enable(mi_option_t option)  { mi_option_set_enabled(option, true); }
void mi_option_disable(mi_option_t option) { mi_option_set_enabled(option, false); }

/* Parse "1/0/true/false/on/off/yes/no" or a number with an optional K/M/G
   suffix (size options are in KiB). */
static bool mi_option_parse(const char* s, bool is_size, long* value) {
  char buf[64];
  size_t len = 0;
  for (; s[len] != 0 && len + 1 < sizeof(buf); len++) buf[len] = (char)toupper((unsigned char)s[len]);
  buf[len] = 0;
  if (len == 0 || !strcmp(buf, "1") || !strcmp(buf, "TRUE") || !strcmp(buf, "YES") || !strcmp(buf, "ON")) { *value = 1; return len != 0; }
  if (!strcmp(buf, "0") || !strcmp(buf, "FALSE") || !strcmp(buf, "NO") || !strcmp(buf, "OFF")) { *value = 0; return true; }
  const char* p = buf;
  bool neg = (*p == '-');
  if (neg) p++;
  if (*p < '0' || *p > '9') return false;
  long v = 0;
  while (*p >= '0' && *p <= '9') { v = v * 10 + (*p - '0'); p++; }
  if (is_size) {
    if (*p == 'K') { p++; }
    else if (*p == 'M') { v *= 1024; p++; }
    else if (*p == 'G') { v *= 1024 * 1024; p++; }
    else if (*p == 0) { v = (v + 1023) / 1024; }   /* plain bytes */
    if (*p == 'I') p++;
    if (*p == 'B') p++;
  }
  if (*p != 0) return false;
  *value = (neg ? -v : v);
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

static void mi_option_init(mi_option_desc_t* desc) {
  char value[64];
  desc->init = MI_DEFAULTED;
  if (mi_option_getenv("MICA_", desc->name, value, sizeof(value)) ||
      mi_option_getenv("MIMALLOC_", desc->name, value, sizeof(value))) {
    const bool is_size = (desc->option == mi_option_reserve_os_memory || desc->option == mi_option_arena_reserve);
    long v;
    if (mi_option_parse(value, is_size, &v)) {
      desc->value = v;
      desc->init = MI_INITIALIZED;
    } else {
      desc->init = MI_INITIALIZED;   /* keep the default; report once */
      _mi_warning_message("environment option \"%s\" has an invalid value: %s\n", desc->name, value);
    }
  }
}

/* ---------------------------------------------------------------------------
   Output
--------------------------------------------------------------------------- */
static void mi_out_stderr(const char* msg, void* arg) { (void)arg; _mi_prim_out_stderr(msg); }
static mi_output_fun* volatile mi_out_default;
static void* volatile mi_out_arg;

void mi_register_output(mi_output_fun* out, void* arg) {
  mi_out_default = out;
  mi_out_arg = arg;
}

static mi_output_fun* mi_out_get_default(void** parg) {
  mi_output_fun* out = mi_out_default;
  *parg = mi_out_arg;
  return (out == NULL ? &mi_out_stderr : out);
}

void _mi_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message) {
  if (out == NULL) out = mi_out_get_default(&arg);
  if (prefix != NULL) out(prefix, arg);
  out(message, arg);
}

void _mi_fprintf(mi_output_fun* out, void* arg, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  _mi_prim_vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  _mi_fputs(out, arg, NULL, buf);
}

static void mi_vfmessage(const char* prefix, const char* fmt, va_list args) {
  char buf[512];
  _mi_prim_vsnprintf(buf, sizeof(buf), fmt, args);
  _mi_fputs(NULL, NULL, prefix, buf);
}

void _mi_verbose_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose)) return;
  va_list args;
  va_start(args, fmt);
  mi_vfmessage("mica: ", fmt, args);
  va_end(args);
}

static mi_atomic(uintptr_t) mi_warning_count;
static mi_atomic(uintptr_t) mi_error_count;

void _mi_warning_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose)) {
    if (!mi_option_is_enabled(mi_option_show_errors)) return;
    if (mi_atomic_fetch_add_relaxed(&mi_warning_count, 1) >= (uintptr_t)mi_option_get(mi_option_max_warnings)) return;
  }
  va_list args;
  va_start(args, fmt);
  mi_vfmessage("mica: warning: ", fmt, args);
  va_end(args);
}

static mi_error_fun* volatile mi_error_handler;
static void* volatile mi_error_arg;

void mi_register_error(mi_error_fun* fun, void* arg) {
  mi_error_handler = fun;
  mi_error_arg = arg;
}

/* Report an error: printed when show_errors (or verbose, or a debug build),
   then passed to the registered handler. Errors never abort in release
   builds: the operation that found them fails cleanly instead. */
void _mi_error_message(int err, const char* fmt, ...) {
  const bool show = (MI_DEBUG > 0 || mi_option_is_enabled(mi_option_show_errors) || mi_option_is_enabled(mi_option_verbose));
  if (show && mi_atomic_fetch_add_relaxed(&mi_error_count, 1) < (uintptr_t)mi_option_get(mi_option_max_errors)) {
    va_list args;
    va_start(args, fmt);
    mi_vfmessage("mica: error: ", fmt, args);
    va_end(args);
  }
  mi_error_fun* handler = mi_error_handler;
  if (handler != NULL) handler(err, mi_error_arg);
}

void _mi_assert_fail(const char* assertion, const char* fname, unsigned line, const char* func) {
  _mi_fprintf(NULL, NULL, "mica: assertion failed: at \"%s\":%u, %s\n  assertion: \"%s\"\n", fname, line, (func == NULL ? "" : func), assertion);
  __builtin_trap();
}

void _mi_fmt(char* buf, size_t size, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  _mi_prim_vsnprintf(buf, size, fmt, args);
  va_end(args);
}
