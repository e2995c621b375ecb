/* SPDX-License-Identifier: MIT */
/* POSIX and C standard entry points under mi_ names, with their exact
   semantics (errno, return codes); the override exports call these. */
#include <stdlib.h>   /* mbstowcs */
#include <wchar.h>    /* wcslen */
#include "mica/internal.h"

size_t mi_malloc_size(const void* p)        { return mi_usable_size(p); }
size_t mi_malloc_usable_size(const void* p) { return mi_usable_size(p); }
size_t mi_malloc_good_size(size_t size)     { return mi_good_size(size); }
void*  mi__expand(void* p, size_t newsize)  { void* res = mi_expand(p, newsize); if (res == NULL) errno = ENOMEM; return res; }

int mi_posix_memalign(void** p, size_t alignment, size_t size) {
  /* POSIX: the alignment is a power of two and a multiple of sizeof(void*) */
  if (p == NULL) return EINVAL;
  if (alignment == 0 || (alignment % sizeof(void*)) != 0 || !_mi_is_power_of_two(alignment) || alignment > MI_ALIGNMENT_MAX) return EINVAL;
  void* q = mi_malloc_aligned(size, alignment);
  if (q == NULL) return ENOMEM;
  *p = q;
  return 0;
}

void* mi_memalign(size_t alignment, size_t size) {
  return mi_malloc_aligned(size, alignment);
}

void* mi_valloc(size_t size) {
  return mi_malloc_aligned(size, _mi_os_page_size());
}

void* mi_pvalloc(size_t size) {
  const size_t psize = _mi_os_page_size();
  const size_t asize = _mi_align_up(size, psize);
  if (asize < size) { errno = ENOMEM; return NULL; }
  return mi_malloc_aligned((asize == 0 ? psize : asize), psize);
}

void* mi_aligned_alloc(size_t alignment, size_t size) {
  /* C11 only requires a valid (power of two) alignment; size need not be a multiple */
  return mi_malloc_aligned(size, alignment);
}

void* mi_reallocarray(void* p, size_t count, size_t size) {
  void* newp = mi_reallocn(p, count, size);
  if (newp == NULL) errno = ENOMEM;
  return newp;
}

/* NetBSD reallocarr: `p` points to the pointer; 0 or an errno value. */
int mi_reallocarr(void* p, size_t count, size_t size) {
  if (p == NULL) return EINVAL;
  void** op = (void**)p;
  const int saved = errno;
  void* newp = mi_reallocarray(*op, count, size);
  if (newp == NULL) { const int err = errno; errno = saved; return err; }
  *op = newp;
  return 0;
}

char* mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) {
  if (resolved_name != NULL) return (_mi_prim_realpath(fname, resolved_name) ? resolved_name : NULL);
  char buf[MI_PATH_MAX];
  if (!_mi_prim_realpath(fname, buf)) return NULL;
  return mi_heap_strdup(heap, buf);
}
char* mi_realpath(const char* fname, char* resolved_name) { return mi_heap_realpath(mi_get_default_heap(), fname, resolved_name); }

/* ---------------------------------------------------------------------------
   Strings of other character types, and environment copies (Windows CRT)
--------------------------------------------------------------------------- */
unsigned char* mi_mbsdup(const unsigned char* s) {
  return (unsigned char*)mi_strdup((const char*)s);
}

wchar_t* mi_wcsdup(const wchar_t* s) {
  if (s == NULL) return NULL;
  const size_t n = wcslen(s) + 1;
  wchar_t* t = (wchar_t*)mi_mallocn(n, sizeof(wchar_t));
  if (t != NULL) memcpy(t, s, n * sizeof(wchar_t));
  return t;
}

/* The value of `name` in a new block, or NULL (*err: 0 unset, else ENOMEM).
   The prim reads into a buffer it may truncate: grow until it fits. */
static char* mi_getenv_dup(const char* name, int* err) {
  *err = 0;
  for (size_t size = 256; size != 0; size *= 2) {
    char* buf = (char*)mi_malloc(size);
    if (buf == NULL) { *err = ENOMEM; return NULL; }
    if (!_mi_prim_getenv(name, buf, size)) { mi_free(buf); return NULL; }
    if (strlen(buf) + 1 < size) return buf;   /* not truncated */
    mi_free(buf);
  }
  *err = ENOMEM;
  return NULL;
}

int mi_dupenv_s(char** buf, size_t* size, const char* name) {
  if (buf == NULL || name == NULL) return EINVAL;
  if (size != NULL) *size = 0;
  int err;
  *buf = mi_getenv_dup(name, &err);
  if (*buf != NULL && size != NULL) *size = strlen(*buf);
  return err;
}

/* Wide names are converted as plain ASCII (environment names are); the
   value through the multibyte conversion of the current locale. */
int mi_wdupenv_s(wchar_t** buf, size_t* size, const wchar_t* name) {
  if (buf == NULL || name == NULL) return EINVAL;
  *buf = NULL;
  if (size != NULL) *size = 0;
  char cname[256];
  size_t i = 0;
  for (; name[i] != 0; i++) {
    if (i + 1 >= sizeof(cname) || (unsigned long)name[i] > 127) return EINVAL;
    cname[i] = (char)name[i];
  }
  cname[i] = 0;
  int err;
  char* value = mi_getenv_dup(cname, &err);
  if (value == NULL) return err;
  const size_t n = mbstowcs(NULL, value, 0);
  if (n == (size_t)-1) { mi_free(value); return EILSEQ; }
  wchar_t* w = (wchar_t*)mi_mallocn(n + 1, sizeof(wchar_t));
  if (w == NULL) { mi_free(value); return ENOMEM; }
  mbstowcs(w, value, n + 1);
  mi_free(value);
  *buf = w;
  if (size != NULL) *size = n;
  return 0;
}
