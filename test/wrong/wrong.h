/* SPDX-License-Identifier: MIT */
/* Helpers for the misuse tests: count errors reported through
   mi_register_error, and capture what mica prints on stderr. */
#ifndef MICA_TEST_WRONG_H
#define MICA_TEST_WRONG_H

#include "mica.h"
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WRONG_MAX_ERRS 64
static int wrong_codes[WRONG_MAX_ERRS];
static int wrong_count;

static void wrong_on_error(int err, void* arg)
{
  (void)arg;
  if (wrong_count < WRONG_MAX_ERRS) wrong_codes[wrong_count] = err;
  wrong_count++;
}

static void wrong_reset(void) { wrong_count = 0; }

/* Number of recorded errors with this code. */
static int wrong_with(int code)
{
  int n = 0, m = wrong_count < WRONG_MAX_ERRS ? wrong_count : WRONG_MAX_ERRS;
  for (int i = 0; i < m; i++) n += (wrong_codes[i] == code);
  return n;
}

/* stderr (fd 2) redirected into a temporary file */
static FILE* capture_file;
static int capture_saved_fd = -1;

static void capture_begin(void)
{
  fflush(stderr);
  capture_file = tmpfile();
  CHECK(capture_file != NULL);
  if (capture_file == NULL) return;
  capture_saved_fd = dup(2);
  CHECK(capture_saved_fd >= 0 && dup2(fileno(capture_file), 2) == 2);
}

/* Restores stderr, copies what was captured into buf (NUL-terminated) and
   echoes it to the real stderr so the ctest log shows it. */
static size_t capture_end(char* buf, size_t size)
{
  buf[0] = 0;
  if (capture_file == NULL) return 0;
  fflush(stderr);
  if (capture_saved_fd >= 0) {
    dup2(capture_saved_fd, 2);
    close(capture_saved_fd);
    capture_saved_fd = -1;
  }
  rewind(capture_file);
  size_t n = fread(buf, 1, size - 1, capture_file);
  buf[n] = 0;
  fclose(capture_file);
  capture_file = NULL;
  fprintf(stderr, "--- captured stderr (%zu bytes) ---\n%s--- end ---\n", n, buf);
  return n;
}

#endif
