/* SPDX-License-Identifier: MIT */
/* The OS layer for Linux (glibc and musl): the only file with OS headers and
   libc-specific code. Implements the contract in include/mica/prim.h.
   Nothing here may call malloc: mica is the malloc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <dlfcn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "mica/arch.h"
#include "mica/atomic.h"
#include "mica/prim.h"
#include "mica/hooks.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Read a small /proc file without stdio (fopen allocates). */
static ssize_t mi_prim_read_file(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

void _mi_prim_os_info(mi_os_info_t* info) {
  long psize = sysconf(_SC_PAGESIZE);
  info->page_size = (psize > 0 ? (size_t)psize : 4096);
#if MI_TEST_OS_PAGE_SIZE
  /* a test variant acts as on a kernel of larger pages (aarch64 and
     ppc64le ones have 64 KiB): every range mica gives the kernel is then
     aligned to that, which a smaller real page size accepts */
  if ((size_t)MI_TEST_OS_PAGE_SIZE > info->page_size) info->page_size = MI_TEST_OS_PAGE_SIZE;
#endif
  info->alloc_granularity = info->page_size;
  info->has_virtual_reserve = true;
  /* Linux: mode 2 ("never overcommit") charges every read-write mapping in
     full, so reservations must then stay inaccessible until committed. */
  char buf[32];
  info->has_overcommit = true;
  if (mi_prim_read_file("/proc/sys/vm/overcommit_memory", buf, sizeof(buf)) > 0) {
    info->has_overcommit = (buf[0] == '0' || buf[0] == '1');
  }
}

/* ---------------------------------------------------------------------------
   Memory
--------------------------------------------------------------------------- */
int _mi_prim_mmap(size_t size, bool commit, void** addr) {
  const int prot  = (commit ? PROT_READ | PROT_WRITE : PROT_NONE);
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  void* p = mmap(NULL, size, prot, flags, -1, 0);
  if (p == MAP_FAILED) { *addr = NULL; return errno; }
  *addr = p;
  return 0;
}

int _mi_prim_munmap(void* addr, size_t size) {
  return (munmap(addr, size) == 0 ? 0 : errno);
}

int _mi_prim_commit(void* addr, size_t size) {
  return (mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? 0 : errno);
}

int _mi_prim_decommit(void* addr, size_t size) {
  /* MADV_DONTNEED first so the pages are dropped, then remove access */
  int err = (madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno);
  if (mprotect(addr, size, PROT_NONE) != 0 && err == 0) err = errno;
  return err;
}

int _mi_prim_protect(void* addr, size_t size, bool protect) {
  return (mprotect(addr, size, protect ? PROT_NONE : PROT_READ | PROT_WRITE) == 0 ? 0 : errno);
}

int _mi_prim_reset(void* addr, size_t size) {
  /* MADV_DONTNEED (not MADV_FREE): private anonymous pages read as zero
     afterwards, which lets mica skip zeroing, and RSS drops at once. */
  return (madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno);
}

/* MADV_POPULATE_WRITE (Linux 5.14, madvise(2)): fault the pages in now, in
   one call, as if each were written. The value is the same on every
   architecture mica builds for (asm-generic/mman-common.h); older libc
   headers lack it, and older kernels answer EINVAL. */
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23
#endif

int _mi_prim_populate(void* addr, size_t size) {
#if defined(MADV_POPULATE_WRITE)
  return (madvise(addr, size, MADV_POPULATE_WRITE) == 0 ? 0 : errno);
#else
  (void)addr; (void)size;
  return ENOTSUP;
#endif
}

/* ---------------------------------------------------------------------------
   Large pages (Documentation/admin-guide/mm/hugetlbpage.rst, transhuge.rst)
--------------------------------------------------------------------------- */
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26   /* linux/mman.h; older libc headers lack it */
#endif

int _mi_prim_mmap_huge(size_t size, size_t page_size, void** addr) {
  *addr = NULL;
#if defined(MAP_HUGETLB)
  /* the page size's log2 in the flags selects the pool (hugepagesz=) */
  const int log2 = (int)mi_bsr((uintptr_t)page_size);
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (log2 << MAP_HUGE_SHIFT);
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) return errno;
  *addr = p;
  return 0;
#else
  (void)size; (void)page_size;
  return ENOTSUP;
#endif
}

int _mi_prim_advise_huge(void* addr, size_t size) {
#if defined(MADV_HUGEPAGE)
  return (madvise(addr, size, MADV_HUGEPAGE) == 0 ? 0 : errno);
#else
  (void)addr; (void)size;
  return ENOTSUP;
#endif
}

int _mi_prim_thp_disable(void) {
#if defined(PR_SET_THP_DISABLE)
  return (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 ? 0 : errno);
#else
  return ENOTSUP;
#endif
}

/* ---------------------------------------------------------------------------
   NUMA: sysfs for the node count, the getcpu and mbind system calls
   (no libnuma; musl has no wrappers for either)
--------------------------------------------------------------------------- */
size_t _mi_prim_numa_node_count(void) {
  char path[64];
  size_t count = 0;
  /* nodes are numbered densely from 0 on every machine that boots (node_possible_map) */
  while (count < 1024) {
    snprintf(path, sizeof(path), "/sys/devices/system/node/node%zu", count);
    if (access(path, F_OK) != 0) break;
    count++;
  }
  return count;
}

size_t _mi_prim_numa_node(void) {
#if defined(SYS_getcpu)
  unsigned cpu = 0, node = 0;
  if (syscall(SYS_getcpu, &cpu, &node, NULL) == 0) return node;
#endif
  return 0;
}

int _mi_prim_numa_bind(void* addr, size_t size, size_t node) {
#if defined(SYS_mbind)
  /* MPOL_PREFERRED (1): allocate on `node` while it has memory, elsewhere after */
  enum { MI_MPOL_PREFERRED = 1, MI_NODEMASK_WORDS = 1024 / (8 * sizeof(unsigned long)) };
  unsigned long mask[MI_NODEMASK_WORDS];
  if (node >= 8 * sizeof(mask)) return EINVAL;
  memset(mask, 0, sizeof(mask));
  mask[node / (8 * sizeof(unsigned long))] = 1UL << (node % (8 * sizeof(unsigned long)));
  const long r = syscall(SYS_mbind, addr, (unsigned long)size, (unsigned long)MI_MPOL_PREFERRED, mask,
                         (unsigned long)(8 * sizeof(mask)), 0UL);
  return (r == 0 ? 0 : errno);
#else
  (void)addr; (void)size; (void)node;
  return ENOTSUP;
#endif
}

/* ---------------------------------------------------------------------------
   Time and process information
--------------------------------------------------------------------------- */
uint64_t _mi_prim_clock_msecs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ((uint64_t)t.tv_sec * 1000) + ((uint64_t)t.tv_nsec / 1000000);
}

static uint64_t mi_process_start_ms;

static size_t mi_timeval_msecs(struct timeval tv) {
  return (size_t)tv.tv_sec * 1000 + (size_t)tv.tv_usec / 1000;
}

void _mi_prim_process_info(size_t* elapsed_ms, size_t* utime_ms, size_t* stime_ms,
                           size_t* current_rss, size_t* peak_rss, size_t* page_faults) {
  *elapsed_ms = (size_t)(_mi_prim_clock_msecs() - mi_process_start_ms);
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    *utime_ms = mi_timeval_msecs(ru.ru_utime);
    *stime_ms = mi_timeval_msecs(ru.ru_stime);
    *peak_rss = (size_t)ru.ru_maxrss * 1024;          /* Linux reports KiB */
    *page_faults = (size_t)(ru.ru_minflt + ru.ru_majflt);
  } else {
    *utime_ms = *stime_ms = *peak_rss = *page_faults = 0;
  }
  *current_rss = 0;
  char buf[128];
  if (mi_prim_read_file("/proc/self/statm", buf, sizeof(buf)) > 0) {
    /* "size resident shared ..." in pages */
    const char* s = buf;
    while (*s && *s != ' ') s++;
    size_t pages = 0;
    while (*s == ' ') s++;
    while (*s >= '0' && *s <= '9') { pages = pages * 10 + (size_t)(*s - '0'); s++; }
    *current_rss = pages * (size_t)sysconf(_SC_PAGESIZE);
  }
  if (*peak_rss < *current_rss) *peak_rss = *current_rss;
}

/* ---------------------------------------------------------------------------
   Environment, randomness, output
--------------------------------------------------------------------------- */
bool _mi_prim_getenv(const char* name, char* result, size_t result_size) {
  /* getenv neither allocates nor locks on glibc and musl */
  const char* s = getenv(name);
  if (s == NULL || result_size == 0) return false;
  size_t i = 0;
  for (; i + 1 < result_size && s[i] != 0; i++) result[i] = s[i];
  result[i] = 0;
  return true;
}

bool _mi_prim_random_buf(void* buf, size_t buf_len) {
#if defined(SYS_getrandom)
  /* the syscall, not getrandom(3): older glibc and musl lack the wrapper */
  long n = syscall(SYS_getrandom, buf, buf_len, 1 /* GRND_NONBLOCK */);
  if (n >= 0 && (size_t)n == buf_len) return true;
#endif
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t count = 0;
  while (count < buf_len) {
    ssize_t r = read(fd, (char*)buf + count, buf_len - count);
    if (r <= 0) { if (r < 0 && errno == EINTR) continue; break; }
    count += (size_t)r;
  }
  close(fd);
  return (count == buf_len);
}

static int mi_stderr_fd = STDERR_FILENO;

/* Programs may close stderr in an atexit handler (coreutils do), before
   mica prints its statistics: keep a close-on-exec duplicate for mica. */
void _mi_prim_out_keep_open(void) {
  if (mi_stderr_fd != STDERR_FILENO) return;
  int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 64);
  if (fd >= 0) mi_stderr_fd = fd;
}

void _mi_prim_out_stderr(const char* msg) {
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(mi_stderr_fd, msg, len);
    if (n <= 0) { if (n < 0 && errno == EINTR) continue; return; }
    msg += n; len -= (size_t)n;
  }
}

int _mi_prim_vsnprintf(char* buf, size_t size, const char* fmt, va_list args) {
  /* libc's vsnprintf into a caller buffer allocates nothing for the
     integer and string conversions mica uses */
  return vsnprintf(buf, size, fmt, args);
}

bool _mi_prim_realpath(const char* fname, char* buf) {
  _Static_assert(MI_PATH_MAX >= PATH_MAX, "realpath buffer is large enough");
  return realpath(fname, buf) != NULL;   /* with a buffer, realpath does not allocate */
}

/* RTLD_NOLOAD: a handle only to a libstdc++ that is loaded already (the
   soname of GCC's runtime since GCC 3.4); dlsym with it looks in that
   library and its dependencies. The one call here that may allocate: only
   after a C++ `new` failed, with mica's malloc running and no lock held. */
void* _mi_prim_cxx_runtime_symbol(const char* name) {
  void* lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == NULL) return NULL;
  void* sym = dlsym(lib, name);
  dlclose(lib);   /* drops the reference NOLOAD took: the library stays */
  return sym;
}

void _mi_prim_thread_yield(void) {
  sched_yield();
}

/* ---------------------------------------------------------------------------
   Locks: pthread mutexes, all taken around fork so that a child never
   inherits one held by a thread that does not exist there.
--------------------------------------------------------------------------- */
static pthread_mutex_t mi_locks[MI_LOCK_COUNT] = {
  PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER
};
_Static_assert(MI_LOCK_COUNT == 4, "one initializer per lock");

void _mi_prim_lock(mi_lock_id_t id)     { pthread_mutex_lock(&mi_locks[id]); }
void _mi_prim_unlock(mi_lock_id_t id)   { pthread_mutex_unlock(&mi_locks[id]); }

static void mi_fork_prepare(void) {
  for (int i = 0; i < MI_LOCK_COUNT; i++) pthread_mutex_lock(&mi_locks[i]);
}
static void mi_fork_parent(void) {
  for (int i = MI_LOCK_COUNT - 1; i >= 0; i--) pthread_mutex_unlock(&mi_locks[i]);
}
static void mi_fork_child(void) {
  /* the forking thread held them, and it is this thread in the child */
  for (int i = MI_LOCK_COUNT - 1; i >= 0; i--) pthread_mutex_unlock(&mi_locks[i]);
}

/* ---------------------------------------------------------------------------
   Fault reports: a SIGSEGV/SIGBUS handler (on the alternate stack if the
   thread has one) that lets guarded.c name the block, then hands the
   signal on: to the program's handler from before, or to the default
   action, by restoring it and returning, so that the access faults again
   and the process dies of the signal as it would have (POSIX sigaction;
   a return from a fault handler re-executes the instruction on Linux).
--------------------------------------------------------------------------- */
static struct sigaction mi_fault_prev[2];   /* SIGSEGV, SIGBUS */
static mi_atomic(uintptr_t) mi_fault_installed;

static void mi_fault_handler(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;   /* the report's write may set it */
  _mi_guarded_fault_report(info->si_addr);
  errno = saved_errno;
  const struct sigaction* prev = &mi_fault_prev[sig == SIGBUS ? 1 : 0];
  if ((prev->sa_flags & SA_SIGINFO) != 0 && prev->sa_sigaction != NULL) {
    prev->sa_sigaction(sig, info, context);
    return;
  }
  if ((prev->sa_flags & SA_SIGINFO) == 0 && prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  struct sigaction dfl;   /* a fault cannot be ignored: SIG_IGN would spin */
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
}

void _mi_prim_fault_report_install(void) {
  uintptr_t expected = 0;
  if (!mi_atomic_cas_strong_acq_rel(&mi_fault_installed, &expected, 1)) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &mi_fault_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &mi_fault_prev[0]);
  sigaction(SIGBUS, &sa, &mi_fault_prev[1]);
}

/* ---------------------------------------------------------------------------
   Thread exit: a pthread key whose destructor runs at every thread's exit.
   The key goes when mica's code goes: when mica is linked into a shared
   object that is dlclose'd, a thread that used that copy of mica and exits
   afterwards must not call a destructor whose code is unmapped (test
   dl-static). So the library destructor below deletes the key; a thread
   exiting after that (dlclose, or the end of exit) keeps its thread data.
--------------------------------------------------------------------------- */
static pthread_key_t mi_heap_key;
static mi_atomic(uintptr_t) mi_heap_key_valid;   /* 1 between create and delete */

static void mi_pthread_done(void* value) {
  if (value != NULL) _mi_thread_done((struct mi_heap_s*)value);
}

void _mi_prim_thread_init_auto_done(void) {
  if (pthread_key_create(&mi_heap_key, &mi_pthread_done) == 0) mi_atomic_store_release(&mi_heap_key_valid, 1);
  /* glibc unregisters these when the object that registered them is
     unloaded (pthread_atfork passes its __dso_handle) */
  pthread_atfork(&mi_fork_prepare, &mi_fork_parent, &mi_fork_child);
}

void _mi_prim_thread_associate_heap(void* heap) {
  if (mi_atomic_load_acquire(&mi_heap_key_valid) != 0) pthread_setspecific(mi_heap_key, heap);
}
/* Once: a deleted key's slot can be reused by another key, never set again. */
static void mi_prim_thread_auto_done_remove(void) {
  if (mi_atomic_exchange_acq_rel(&mi_heap_key_valid, 0) != 0) pthread_key_delete(mi_heap_key);
}

/* ---------------------------------------------------------------------------
   Process load and exit (or unload: a shared object linking mica statically
   runs these at dlopen and dlclose)
--------------------------------------------------------------------------- */
__attribute__((constructor(101))) static void mi_prim_process_load(void) {
  mi_process_start_ms = _mi_prim_clock_msecs();
  _mi_process_load();
}

__attribute__((destructor(101))) static void mi_prim_process_done(void) {
  _mi_process_done();
  mi_prim_thread_auto_done_remove();
}
