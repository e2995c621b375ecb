/* SPDX-License-Identifier: MIT */
/* A block freed by another thread, then freed again by its owner. */
#include "misuse.h"

#include <pthread.h>

static void* free_it(void* p)
{
  mi_free(p);
  return NULL;
}

int main(void)
{
  void* a = mi_malloc(32);
  misuse_fill(a, 32, 1);
  pthread_t t;
  if (pthread_create(&t, NULL, free_it, a) != 0) return 2;
  pthread_join(t, NULL);
  mi_free(misuse_opaque(a));
  misuse_done();
  return misuse_heap_sane();
}
