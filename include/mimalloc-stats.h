/* SPDX-License-Identifier: MIT */
/* mica: statistics as a structure and as JSON, with the layout of
   mimalloc v2.4's mimalloc-stats.h (MI_STAT_VERSION 4), so code reading
   mimalloc's statistics builds against mica unchanged. Counters mica does
   not keep (it counts nothing on the malloc/free fast paths: no per-size
   bins, no requested bytes) read as zero; doc/options.md lists which are
   filled. */
#ifndef MIMALLOC_STATS_H
#define MIMALLOC_STATS_H

#include "mimalloc.h"
#include <stdint.h>

#define MI_STAT_VERSION   4   /* changes with every incompatible change of mi_stats_t */

/* an amount over time */
typedef struct mi_stat_count_s {
  int64_t total;     /* sum of all increases */
  int64_t peak;      /* highest value of current */
  int64_t current;
} mi_stat_count_t;

/* a counter that only increases */
typedef struct mi_stat_counter_s {
  int64_t total;
} mi_stat_counter_t;

/* X-macro of the fields, in mi_stats_t order: MI_STAT_COUNT(name) is an
   mi_stat_count_t, MI_STAT_COUNTER(name) an mi_stat_counter_t. */
#define MI_STAT_FIELDS() \
  MI_STAT_COUNT(pages)                    /* pages in use */ \
  MI_STAT_COUNT(reserved)                 /* bytes of address space reserved */ \
  MI_STAT_COUNT(committed)                /* bytes committed */ \
  MI_STAT_COUNTER(reset)                  /* bytes reset */ \
  MI_STAT_COUNTER(purged)                 /* bytes purged (returned to the OS) */ \
  MI_STAT_COUNT(page_committed)           /* bytes committed inside pages */ \
  MI_STAT_COUNT(pages_abandoned)          /* abandoned pages */ \
  MI_STAT_COUNT(threads) \
  MI_STAT_COUNT(malloc_normal)            /* bytes in blocks up to the large size */ \
  MI_STAT_COUNT(malloc_huge)              /* bytes in huge blocks */ \
  MI_STAT_COUNT(malloc_requested)         /* bytes requested */ \
  \
  MI_STAT_COUNTER(mmap_calls) \
  MI_STAT_COUNTER(commit_calls) \
  MI_STAT_COUNTER(reset_calls) \
  MI_STAT_COUNTER(purge_calls) \
  MI_STAT_COUNTER(arena_count) \
  MI_STAT_COUNTER(malloc_normal_count) \
  MI_STAT_COUNTER(malloc_huge_count) \
  MI_STAT_COUNTER(malloc_guarded_count) \
  \
  MI_STAT_COUNTER(arena_rollback_count) \
  MI_STAT_COUNTER(arena_purges) \
  MI_STAT_COUNTER(pages_extended) \
  MI_STAT_COUNTER(pages_retire) \
  MI_STAT_COUNTER(page_searches) \
  MI_STAT_COUNTER(page_searches_count) \
  /* mimalloc v1 and v2 */ \
  MI_STAT_COUNT(segments) \
  MI_STAT_COUNT(segments_abandoned) \
  MI_STAT_COUNT(segments_cache) \
  MI_STAT_COUNT(_segments_reserved) \
  /* mimalloc v3 */ \
  MI_STAT_COUNTER(pages_reclaim_on_alloc) \
  MI_STAT_COUNTER(pages_reclaim_on_free) \
  MI_STAT_COUNTER(pages_reabandon_full) \
  MI_STAT_COUNTER(pages_unabandon_busy_wait)

#define MI_BIN_HUGE  (73U)   /* mimalloc's size-bin count (the bins below) */

#define MI_STAT_COUNT(stat)    mi_stat_count_t stat;
#define MI_STAT_COUNTER(stat)  mi_stat_counter_t stat;
typedef struct mi_stats_s {
  size_t size;       /* sizeof(mi_stats_t) of the caller */
  size_t version;    /* MI_STAT_VERSION of the caller */
  MI_STAT_FIELDS()
  mi_stat_count_t   _stat_reserved[4];
  mi_stat_counter_t _stat_counter_reserved[4];
  mi_stat_count_t   malloc_bins[MI_BIN_HUGE + 1];   /* per size bin (not kept by mica: zero) */
  mi_stat_count_t   page_bins[MI_BIN_HUGE + 1];
} mi_stats_t;
#undef MI_STAT_COUNT
#undef MI_STAT_COUNTER

/* declare `name` zeroed, with size and version set */
#define mi_stats_t_decl(name)  mi_stats_t name = { 0 }; name.size = sizeof(mi_stats_t); name.version = MI_STAT_VERSION;

#ifdef __cplusplus
extern "C" {
#endif

/* Fill `*stats` (declared with mi_stats_t_decl); false if its size or
   version is not one this mica knows. */
mi_decl_export bool  mi_stats_get(mi_stats_t* stats) mi_attr_noexcept;
/* The statistics as a JSON object in `buf` (of `buf_size` bytes), or, when
   `buf` is NULL, in a new block the caller frees with mi_free. NULL if it
   does not fit in `buf` or memory runs out. */
mi_decl_export char* mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept;

#ifdef __cplusplus
}
#endif

#endif /* MIMALLOC_STATS_H */
