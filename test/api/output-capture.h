/* SPDX-License-Identifier: MIT */
/* mica's output (mi_register_output) captured in out_buf, for the tests of
   what mica prints (mi_options_print, statistics). */
#ifndef MICA_TEST_OUTPUT_CAPTURE_H
#define MICA_TEST_OUTPUT_CAPTURE_H
#include <string.h>
#include "mimalloc.h"

static char out_buf[1 << 16];
static size_t out_len;

static void on_output(const char* msg, void* arg) {
  (void)arg;
  const size_t n = strlen(msg);
  if (out_len + n + 1 < sizeof(out_buf)) { memcpy(out_buf + out_len, msg, n + 1); out_len += n; }
}
static inline void output_capture(void) { out_len = 0; out_buf[0] = 0; mi_register_output(on_output, NULL); }
static inline void output_release(void) { mi_register_output(NULL, NULL); }
#endif
