/* SPDX-License-Identifier: MIT */
/* The OS contract: everything mica needs from the operating system and the
   C library, implemented in src/prim/ (the only place with OS headers and
   per-OS or per-libc code).

   Shared preconditions: sizes and addresses passed to the memory functions
   are multiples of the OS page size (mi_os_info_t.page_size). Functions returning int return 0 on
   success and an errno value on failure. None of them allocates with malloc. */
#ifndef MICA_PRIM_H
#define MICA_PRIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include "arch.h"

MI_HIDDEN_BEGIN
MI_EXTERN_C_BEGIN

typedef struct mi_os_info_s {
  size_t page_size;          /* OS page size (4, 16 or 64 KiB on aarch64 kernels) */
  size_t alloc_granularity;  /* address granularity of mappings */
  bool   has_overcommit;     /* the kernel allows lazy commit of reserved memory */
  bool   has_virtual_reserve;/* reservations cost no memory until touched */
} mi_os_info_t;

void _mi_prim_os_info(mi_os_info_t* info);

/* Memory. `*addr` receives the mapping or NULL. Fresh memory reads as zero. */
int  _mi_prim_mmap(size_t size, bool commit, void** addr);   /* commit=false: reserved, inaccessible */
int  _mi_prim_munmap(void* addr, size_t size);
int  _mi_prim_commit(void* addr, size_t size);               /* make read-write */
int  _mi_prim_decommit(void* addr, size_t size);             /* drop contents and access */
int  _mi_prim_reset(void* addr, size_t size);                /* drop contents, keep access; reads zero after */
int  _mi_prim_protect(void* addr, size_t size, bool protect); /* keep contents; true: no access (a guard page), false: read-write */
int  _mi_prim_populate(void* addr, size_t size);             /* fault read-write memory in now (advice: may be unsupported) */

/* Large pages. _mi_prim_mmap_huge maps `size` bytes (a multiple of
   `page_size`) of the kernel's reserved huge pages of that size
   (MAP_HUGETLB), read-write; ENOMEM when it has not enough. */
int  _mi_prim_mmap_huge(size_t size, size_t page_size, void** addr);
int  _mi_prim_advise_huge(void* addr, size_t size);          /* ask for transparent huge pages */
int  _mi_prim_thp_disable(void);                             /* no transparent huge pages for the process */

/* NUMA, without libnuma: the number of nodes (0 if unknown), the node of
   the CPU the calling thread runs on, and binding (preferred policy) of a
   range to a node. */
size_t _mi_prim_numa_node_count(void);
size_t _mi_prim_numa_node(void);
int    _mi_prim_numa_bind(void* addr, size_t size, size_t node);

/* Time: a monotonic clock in milliseconds; callers keep 32 bits of it and
   compare wrap-around-safely. */
uint64_t _mi_prim_clock_msecs(void);

/* Process information (all may be 0 when unknown). */
void _mi_prim_process_info(size_t* elapsed_ms, size_t* utime_ms, size_t* stime_ms,
                           size_t* current_rss, size_t* peak_rss, size_t* page_faults);

/* Environment: copy the value of `name` into `result` (NUL terminated);
   false when unset. Safe before the C library's allocator is usable. */
bool _mi_prim_getenv(const char* name, char* result, size_t result_size);

/* Randomness from the OS; false when unavailable (caller falls back). */
bool _mi_prim_random_buf(void* buf, size_t buf_len);

/* Output: write a string to standard error. After _mi_prim_out_keep_open
   the output survives the program closing its stderr. */
void _mi_prim_out_stderr(const char* msg);
void _mi_prim_out_keep_open(void);
int  _mi_prim_vsnprintf(char* buf, size_t size, const char* fmt, va_list args);

/* Resolve a path into `buf` (at least MI_PATH_MAX bytes); false with errno set on failure. */
#define MI_PATH_MAX 4096
bool _mi_prim_realpath(const char* fname, char* buf);

/* The C++ runtime (libstdc++), if the process has loaded it, globally or
   privately (a module opened with RTLD_LOCAL, as CPython opens C++
   extensions): the address of `name` in it or its dependencies, never in
   mica; NULL without one. Only a failing C++ `new` asks (alloc-new.c), so
   libmica.so needs no C++ runtime of its own; may allocate. */
void* _mi_prim_cxx_runtime_symbol(const char* name);

/* Waiting: give up the CPU (after a short bounded spin). */
void _mi_prim_thread_yield(void);

/* Locks: a fixed set of process-wide mutexes (the platform's, never a
   hand-written spinlock). They are held only for short, non-allocating
   sections and are all taken around fork (see src/prim/prim.c). */
typedef enum mi_lock_id_e {
  MI_LOCK_ABANDONED,   /* the abandoned segment list */
  MI_LOCK_ARENA,       /* publishing a new arena */
  MI_LOCK_THREAD_DATA, /* the cache of thread data */
  MI_LOCK_GUARDED,     /* the quarantine of freed guarded blocks */
  MI_LOCK_COUNT
} mi_lock_id_t;
void _mi_prim_lock(mi_lock_id_t id);
void _mi_prim_unlock(mi_lock_id_t id);

/* Thread exit: after _mi_prim_thread_init_auto_done(), the calling thread's
   exit calls the hook _mi_thread_done(heap) (declared in internal.h), even
   for threads that never call mi_thread_done. When mica's code is unloaded
   (dlclose of a shared object that links it statically) the hook is removed
   first: threads exiting later skip it. */
void _mi_prim_thread_init_auto_done(void);   /* once per process */
void _mi_prim_thread_associate_heap(void* heap);

/* Faults: from the first call on, a SIGSEGV or SIGBUS first calls the hook
   _mi_guarded_fault_report(address) (hooks.h), then the handler the
   program had (or the default action: the process dies of the signal). */
void _mi_prim_fault_report_install(void);

/* Process start and exit hooks: prim calls _mi_process_load() as early as
   it can and _mi_process_done() at exit (both declared in internal.h). */

MI_EXTERN_C_END
MI_HIDDEN_END

#endif
