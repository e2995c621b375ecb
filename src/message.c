/* SPDX-License-Identifier: MIT */
/* Messages: output (mi_register_output), verbose messages, warnings and
   errors (mi_register_error), assertion failures. A leaf: it calls only
   prim and options.c (for verbose, show_errors and the message limits). */
#include <stdarg.h>
#include "mica/internal.h"

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

void _mi_message_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message) {
  if (out == NULL) out = mi_out_get_default(&arg);
  if (prefix != NULL) out(prefix, arg);
  out(message, arg);
}

void _mi_message_fprintf(mi_output_fun* out, void* arg, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  _mi_prim_vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  _mi_message_fputs(out, arg, NULL, buf);
}

static void mi_vfmessage(const char* prefix, const char* fmt, va_list args) {
  char buf[512];
  _mi_prim_vsnprintf(buf, sizeof(buf), fmt, args);
  _mi_message_fputs(NULL, NULL, prefix, buf);
}

void _mi_message_verbose(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose)) return;
  va_list args;
  va_start(args, fmt);
  mi_vfmessage("mica: ", fmt, args);
  va_end(args);
}

static mi_atomic(uintptr_t) mi_warning_count;
static mi_atomic(uintptr_t) mi_error_count;

void _mi_message_warning(const char* fmt, ...) {
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
void _mi_message_error(int err, const char* fmt, ...) {
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

/* A validity walker (_mi_*_is_valid) found a broken invariant: report it
   as an error (EFAULT) naming the structure and the equation; returns false
   so a walker can `return _mi_message_invalid(...)`. */
bool _mi_message_invalid(const char* kind, const void* obj, const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  _mi_prim_vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  _mi_message_error(EFAULT, "%s %p: invariant broken: %s\n", kind, obj, buf);
  return false;
}

void _mi_message_assert_fail(const char* assertion, const char* fname, unsigned line, const char* func) {
  _mi_message_fprintf(NULL, NULL, "mica: assertion failed: at \"%s\":%u, %s\n  assertion: \"%s\"\n", fname, line, (func == NULL ? "" : func), assertion);
  __builtin_trap();
}

/* ---------------------------------------------------------------------------
   Async-signal-safe output, for the fault handler: formats %s, %p, %zu and
   %td itself (vsnprintf is not on POSIX's list of async-signal-safe
   functions) and writes to stderr, never to a registered output function.
--------------------------------------------------------------------------- */
typedef struct mi_safe_buf_s { char* p; char* end; } mi_safe_buf_t;

static void mi_safe_put(mi_safe_buf_t* b, char c) { if (b->p < b->end) *b->p++ = c; }

static void mi_safe_unsigned(mi_safe_buf_t* b, uintptr_t v, unsigned base) {
  char digits[2 * sizeof(uintptr_t) * 4];
  size_t n = 0;
  do { digits[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v != 0);
  while (n > 0) mi_safe_put(b, digits[--n]);
}

void _mi_message_signal_safe(const char* fmt, ...) {
  char buf[256];
  mi_safe_buf_t b = { buf, buf + sizeof(buf) - 1 };
  va_list args;
  va_start(args, fmt);
  for (const char* f = fmt; *f != 0; f++) {
    if (f[0] != '%') { mi_safe_put(&b, f[0]); continue; }
    if (f[1] == 's') {
      for (const char* s = va_arg(args, const char*); *s != 0; s++) mi_safe_put(&b, *s);
      f += 1;
    } else if (f[1] == 'p') {
      mi_safe_put(&b, '0'); mi_safe_put(&b, 'x');
      mi_safe_unsigned(&b, (uintptr_t)va_arg(args, void*), 16);
      f += 1;
    } else if (f[1] == 'z' && f[2] == 'u') {
      mi_safe_unsigned(&b, va_arg(args, size_t), 10);
      f += 2;
    } else if (f[1] == 't' && f[2] == 'd') {
      const ptrdiff_t v = va_arg(args, ptrdiff_t);
      if (v < 0) mi_safe_put(&b, '-');
      mi_safe_unsigned(&b, (v < 0 ? (uintptr_t)0 - (uintptr_t)v : (uintptr_t)v), 10);
      f += 2;
    } else {
      mi_safe_put(&b, '%');   /* not a conversion this formatter knows: shown as it is */
    }
  }
  va_end(args);
  *b.p = 0;
  _mi_prim_out_stderr(buf);
}

void _mi_message_fmt(char* buf, size_t size, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  _mi_prim_vsnprintf(buf, size, fmt, args);
  va_end(args);
}
