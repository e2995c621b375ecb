/* SPDX-License-Identifier: MIT */
/* fork under allocation load: while worker threads allocate and free, the
   main thread forks many times. Each child must be able to allocate and
   free (also from a new thread), which deadlocks if it inherits a lock held
   by a thread that does not exist in the child; an alarm turns a deadlock
   into a failure. With "exec", every fourth child then runs `/bin/true`
   (fork+exec). Prints "N passed, N failed". */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mica.h"
#include "test.h"

static atomic_int stop;
static atomic_int started;   /* workers that are past thread start-up */

static void* worker(void* arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  void* live[64] = { 0 };
  atomic_fetch_add(&started, 1);
  while (!atomic_load(&stop)) {
    seed = seed * 1103515245u + 12345u;
    const unsigned i = (seed >> 8) % 64;
    mi_free(live[i]);
    size_t size = 1 + (seed >> 12) % ((seed & 1) ? 200 : 300000);
    live[i] = mi_malloc(size);
    if (live[i] != NULL) memset(live[i], 0x5a, size < 64 ? size : 64);
  }
  for (int i = 0; i < 64; i++) mi_free(live[i]);
  return NULL;
}

static void* child_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) { void* p = mi_malloc((size_t)(i % 500) + 1); if (p == NULL) return (void*)1; mi_free(p); }
  return NULL;
}

/* in the child: allocate, check, free; exit 0 on success */
static int child_work(void) {
  alarm(20);   /* a deadlock becomes SIGALRM */
  char* blocks[200];
  for (int i = 0; i < 200; i++) {
    size_t size = (size_t)(i * 997) % 200000 + 1;
    blocks[i] = mi_malloc(size);
    if (blocks[i] == NULL) return 2;
    /* both ends: writing all 20 MB made each fork take 200 ms */
    memset(blocks[i], i & 0xff, size < 64 ? size : 64);
    blocks[i][size - 1] = (char)(i & 0xff);
  }
  for (int i = 0; i < 200; i++) {
    size_t size = (size_t)(i * 997) % 200000 + 1;
    if ((unsigned char)blocks[i][0] != (i & 0xff) || (unsigned char)blocks[i][size - 1] != (i & 0xff)) return 3;
    mi_free(blocks[i]);
  }
  pthread_t t;
  void* res = (void*)1;
  if (pthread_create(&t, NULL, child_thread, NULL) != 0 || pthread_join(t, &res) != 0 || res != NULL) return 4;
  char* s = strdup("after fork");   /* the C library's allocations too */
  if (s == NULL || strcmp(s, "after fork") != 0) return 5;
  free(s);
  return 0;
}

int main(int argc, char** argv) {
  const bool with_exec = (argc > 1 && strcmp(argv[1], "exec") == 0);
  const long forks = test_scaled(200);
  pthread_t workers[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&workers[i], NULL, worker, (void*)(uintptr_t)(i + 1)) == 0);
  /* Fork only once every worker is running. A thread that is still starting
     may hold a lock of the C runtime or of a sanitizer (clang 14's ASan
     allocator takes no lock around fork: a child forked then hung in
     pthread_create, its new thread waiting on an allocator mutex in
     pthread_getattr_np's free). Those locks are not mica's to fix; mica's
     own locks are what this test checks. */
  while (atomic_load(&started) < 4) sched_yield();
  long ok = 0;
  for (long n = 0; n < forks; n++) {
    pid_t pid = fork();
    if (pid == 0) {
      int rc = child_work();
      if (rc == 0 && with_exec && n % 4 == 0) {
        execl("/bin/true", "true", (char*)NULL);
        _exit(6);   /* exec failed */
      }
      _exit(rc);
    }
    CHECK(pid > 0);
    if (pid <= 0) break;
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ok++;
    else CHECKF(0, "child %ld: %s %d", n, WIFSIGNALED(status) ? "killed by signal" : "exit status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 4; i++) pthread_join(workers[i], NULL);
  CHECKF(ok == forks, "%ld of %ld children succeeded", ok, forks);
  return test_report();
}
