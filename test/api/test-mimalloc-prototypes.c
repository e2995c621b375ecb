/* SPDX-License-Identifier: MIT */
/* test-mimalloc-prototypes: mica's headers against mimalloc v2.4.1's public
   API. Every function of mimalloc.h (157) and mimalloc-stats.h (2) is
   declared again below exactly as mimalloc v2.4.1 declares it: a changed
   signature in mica.h is a "conflicting types" error (in C++, also a
   changed noexcept). Every option has mimalloc's value (static asserts),
   and the program takes the address of every function, so one that is
   declared but not defined fails the link. The same file is compiled as
   C++ by test-mimalloc-prototypes.cpp. */
#include "mimalloc.h"
#include "mimalloc-stats.h"
#include <stddef.h>
#include <stdio.h>
#include <wchar.h>

#ifdef __cplusplus
#define MI_STATIC_ASSERT(c, msg)  static_assert(c, msg)
extern "C" {
#else
#define MI_STATIC_ASSERT(c, msg)  _Static_assert(c, msg)
#endif

void* mi_malloc(size_t size) mi_attr_noexcept;
void* mi_calloc(size_t count, size_t size) mi_attr_noexcept;
void* mi_realloc(void* p, size_t newsize) mi_attr_noexcept;
void* mi_expand(void* p, size_t newsize) mi_attr_noexcept;
void mi_free(void* p) mi_attr_noexcept;
char* mi_strdup(const char* s) mi_attr_noexcept;
char* mi_strndup(const char* s, size_t n) mi_attr_noexcept;
char* mi_realpath(const char* fname, char* resolved_name) mi_attr_noexcept;
void* mi_malloc_small(size_t size) mi_attr_noexcept;
void* mi_zalloc_small(size_t size) mi_attr_noexcept;
void* mi_zalloc(size_t size) mi_attr_noexcept;
void* mi_mallocn(size_t count, size_t size) mi_attr_noexcept;
void* mi_reallocn(void* p, size_t count, size_t size) mi_attr_noexcept;
void* mi_reallocf(void* p, size_t newsize) mi_attr_noexcept;
size_t mi_usable_size(const void* p) mi_attr_noexcept;
size_t mi_good_size(size_t size) mi_attr_noexcept;
void mi_free_small(void* p) mi_attr_noexcept;
void mi_register_deferred_free(mi_deferred_free_fun* deferred_free, void* arg) mi_attr_noexcept;
void mi_register_output(mi_output_fun* out, void* arg) mi_attr_noexcept;
void mi_register_error(mi_error_fun* fun, void* arg);
void mi_collect(bool force) mi_attr_noexcept;
int mi_version(void) mi_attr_noexcept;
void mi_stats_reset(void) mi_attr_noexcept;
void mi_stats_merge(void) mi_attr_noexcept;
void mi_stats_print(void* out) mi_attr_noexcept;
void mi_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
void mi_thread_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
void mi_options_print(void) mi_attr_noexcept;
void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs, size_t* current_rss, size_t* peak_rss, size_t* current_commit, size_t* peak_commit, size_t* page_faults) mi_attr_noexcept;
void mi_process_init(void) mi_attr_noexcept;
void mi_process_done(void) mi_attr_noexcept;
void mi_thread_init(void) mi_attr_noexcept;
void mi_thread_done(void) mi_attr_noexcept;
void* mi_malloc_aligned(size_t size, size_t alignment) mi_attr_noexcept;
void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_zalloc_aligned(size_t size, size_t alignment) mi_attr_noexcept;
void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_calloc_aligned(size_t count, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept;
void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_umalloc(size_t size, size_t* block_size) mi_attr_noexcept;
void* mi_ucalloc(size_t count, size_t size, size_t* block_size) mi_attr_noexcept;
void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) mi_attr_noexcept;
void mi_ufree(void* p, size_t* block_size) mi_attr_noexcept;
void* mi_umalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept;
void* mi_uzalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept;
void* mi_umalloc_small(size_t size, size_t* block_size) mi_attr_noexcept;
void* mi_uzalloc_small(size_t size, size_t* block_size) mi_attr_noexcept;
mi_heap_t* mi_heap_new(void);
void mi_heap_delete(mi_heap_t* heap);
void mi_heap_destroy(mi_heap_t* heap);
mi_heap_t* mi_heap_set_default(mi_heap_t* heap);
mi_heap_t* mi_heap_get_default(void);
mi_heap_t* mi_heap_get_backing(void);
void mi_heap_collect(mi_heap_t* heap, bool force) mi_attr_noexcept;
void* mi_heap_malloc(mi_heap_t* heap, size_t size) mi_attr_noexcept;
void* mi_heap_zalloc(mi_heap_t* heap, size_t size) mi_attr_noexcept;
void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept;
void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept;
void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept;
void* mi_heap_zalloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept;
void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept;
void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept;
void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept;
char* mi_heap_strdup(mi_heap_t* heap, const char* s) mi_attr_noexcept;
char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) mi_attr_noexcept;
char* mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) mi_attr_noexcept;
void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept;
void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_rezalloc(void* p, size_t newsize) mi_attr_noexcept;
void* mi_recalloc(void* p, size_t newcount, size_t size) mi_attr_noexcept;
void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept;
void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_recalloc_aligned(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_recalloc_aligned_at(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept;
void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t newcount, size_t size) mi_attr_noexcept;
void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept;
void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept;
void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
bool mi_heap_contains_block(mi_heap_t* heap, const void* p);
bool mi_heap_check_owned(mi_heap_t* heap, const void* p);
bool mi_check_owned(const void* p);
bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
bool mi_is_in_heap_region(const void* p) mi_attr_noexcept;
bool mi_is_redirected(void) mi_attr_noexcept;
int mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes, size_t timeout_msecs) mi_attr_noexcept;
int mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) mi_attr_noexcept;
int mi_reserve_os_memory(size_t size, bool commit, bool allow_large) mi_attr_noexcept;
bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node) mi_attr_noexcept;
void mi_debug_show_arenas(void) mi_attr_noexcept;
void mi_arenas_print(void) mi_attr_noexcept;
void* mi_arena_area(mi_arena_id_t arena_id, size_t* size);
int mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
int mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
bool mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id);
mi_subproc_id_t mi_subproc_main(void);
mi_subproc_id_t mi_subproc_new(void);
void mi_subproc_delete(mi_subproc_id_t subproc);
void mi_subproc_add_current_thread(mi_subproc_id_t subproc);
bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed);
void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max);
void mi_thread_set_in_threadpool(void) mi_attr_noexcept;
mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id);
bool mi_unsafe_heap_page_is_under_utilized(mi_heap_t* heap, void* p, size_t perc_threshold) mi_attr_noexcept;
int mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) mi_attr_noexcept;
void mi_collect_reduce(size_t target_thread_owned) mi_attr_noexcept;
bool mi_option_is_enabled(mi_option_t option);
void mi_option_enable(mi_option_t option);
void mi_option_disable(mi_option_t option);
void mi_option_set_enabled(mi_option_t option, bool enable);
void mi_option_set_enabled_default(mi_option_t option, bool enable);
long mi_option_get(mi_option_t option);
long mi_option_get_clamp(mi_option_t option, long min, long max);
size_t mi_option_get_size(mi_option_t option);
void mi_option_set(mi_option_t option, long value);
void mi_option_set_default(mi_option_t option, long value);
void mi_cfree(void* p) mi_attr_noexcept;
void* mi__expand(void* p, size_t newsize) mi_attr_noexcept;
size_t mi_malloc_size(const void* p) mi_attr_noexcept;
size_t mi_malloc_good_size(size_t size) mi_attr_noexcept;
size_t mi_malloc_usable_size(const void* p) mi_attr_noexcept;
int mi_posix_memalign(void** p, size_t alignment, size_t size) mi_attr_noexcept;
void* mi_memalign(size_t alignment, size_t size) mi_attr_noexcept;
void* mi_valloc(size_t size) mi_attr_noexcept;
void* mi_pvalloc(size_t size) mi_attr_noexcept;
void* mi_aligned_alloc(size_t alignment, size_t size) mi_attr_noexcept;
void* mi_reallocarray(void* p, size_t count, size_t size) mi_attr_noexcept;
int mi_reallocarr(void* ptrp, size_t count, size_t size) mi_attr_noexcept;
void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept;
void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
void mi_free_size(void* p, size_t size) mi_attr_noexcept;
void mi_free_size_aligned(void* p, size_t size, size_t alignment) mi_attr_noexcept;
void mi_free_aligned(void* p, size_t alignment) mi_attr_noexcept;
int mi_dupenv_s(char** buf, size_t* size, const char* name) mi_attr_noexcept;
int mi_wdupenv_s(wchar_t** buf, size_t* size, const wchar_t* name) mi_attr_noexcept;
wchar_t* mi_wcsdup(const wchar_t* s) mi_attr_noexcept;
unsigned char* mi_mbsdup(const unsigned char* s) mi_attr_noexcept;
void* mi_new(size_t size);
void* mi_new_aligned(size_t size, size_t alignment);
void* mi_new_nothrow(size_t size) mi_attr_noexcept;
void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept;
void* mi_new_n(size_t count, size_t size);
void* mi_new_realloc(void* p, size_t newsize);
void* mi_new_reallocn(void* p, size_t newcount, size_t size);
void* mi_heap_alloc_new(mi_heap_t* heap, size_t size);
void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size);
bool mi_stats_get(mi_stats_t* stats) mi_attr_noexcept;
char* mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept;
#ifdef __cplusplus
}
#endif

/* the types the prototypes use */
MI_STATIC_ASSERT(sizeof(mi_arena_id_t) == sizeof(int), "mi_arena_id_t is an int");
MI_STATIC_ASSERT(sizeof(mi_subproc_id_t) == sizeof(void*), "mi_subproc_id_t is a pointer");
MI_STATIC_ASSERT(offsetof(mi_heap_area_t, heap_tag) == 6 * sizeof(size_t), "mi_heap_area_t: heap_tag after full_block_size");
MI_STATIC_ASSERT(MI_STAT_VERSION == 4, "mimalloc-stats.h of mimalloc v2.4");
MI_STATIC_ASSERT(MI_MALLOC_VERSION == 20401, "the API level of mimalloc v2.4.1");
MI_STATIC_ASSERT(offsetof(mi_stats_t, pages) == 2 * sizeof(size_t), "mi_stats_t: size and version first");
MI_STATIC_ASSERT(sizeof(mi_stats_t) == 2 * sizeof(size_t) + (13 + 4) * sizeof(mi_stat_count_t) + (20 + 4) * sizeof(mi_stat_counter_t)
                 + 2 * (73 + 1) * sizeof(mi_stat_count_t), "mi_stats_t layout of mimalloc v2.4");

/* every option, with its value in mimalloc v2.4.1 */
MI_STATIC_ASSERT(mi_option_show_errors == 0, "mi_option_show_errors");
MI_STATIC_ASSERT(mi_option_show_stats == 1, "mi_option_show_stats");
MI_STATIC_ASSERT(mi_option_verbose == 2, "mi_option_verbose");
MI_STATIC_ASSERT(mi_option_eager_commit == 3, "mi_option_eager_commit");
MI_STATIC_ASSERT(mi_option_arena_eager_commit == 4, "mi_option_arena_eager_commit");
MI_STATIC_ASSERT(mi_option_purge_decommits == 5, "mi_option_purge_decommits");
MI_STATIC_ASSERT(mi_option_allow_large_os_pages == 6, "mi_option_allow_large_os_pages");
MI_STATIC_ASSERT(mi_option_reserve_huge_os_pages == 7, "mi_option_reserve_huge_os_pages");
MI_STATIC_ASSERT(mi_option_reserve_huge_os_pages_at == 8, "mi_option_reserve_huge_os_pages_at");
MI_STATIC_ASSERT(mi_option_reserve_os_memory == 9, "mi_option_reserve_os_memory");
MI_STATIC_ASSERT(mi_option_deprecated_segment_cache == 10, "mi_option_deprecated_segment_cache");
MI_STATIC_ASSERT(mi_option_deprecated_page_reset == 11, "mi_option_deprecated_page_reset");
MI_STATIC_ASSERT(mi_option_abandoned_page_purge == 12, "mi_option_abandoned_page_purge");
MI_STATIC_ASSERT(mi_option_deprecated_segment_reset == 13, "mi_option_deprecated_segment_reset");
MI_STATIC_ASSERT(mi_option_eager_commit_delay == 14, "mi_option_eager_commit_delay");
MI_STATIC_ASSERT(mi_option_purge_delay == 15, "mi_option_purge_delay");
MI_STATIC_ASSERT(mi_option_use_numa_nodes == 16, "mi_option_use_numa_nodes");
MI_STATIC_ASSERT(mi_option_disallow_os_alloc == 17, "mi_option_disallow_os_alloc");
MI_STATIC_ASSERT(mi_option_os_tag == 18, "mi_option_os_tag");
MI_STATIC_ASSERT(mi_option_max_errors == 19, "mi_option_max_errors");
MI_STATIC_ASSERT(mi_option_max_warnings == 20, "mi_option_max_warnings");
MI_STATIC_ASSERT(mi_option_max_segment_reclaim == 21, "mi_option_max_segment_reclaim");
MI_STATIC_ASSERT(mi_option_destroy_on_exit == 22, "mi_option_destroy_on_exit");
MI_STATIC_ASSERT(mi_option_arena_reserve == 23, "mi_option_arena_reserve");
MI_STATIC_ASSERT(mi_option_arena_purge_mult == 24, "mi_option_arena_purge_mult");
MI_STATIC_ASSERT(mi_option_purge_extend_delay == 25, "mi_option_purge_extend_delay");
MI_STATIC_ASSERT(mi_option_abandoned_reclaim_on_free == 26, "mi_option_abandoned_reclaim_on_free");
MI_STATIC_ASSERT(mi_option_disallow_arena_alloc == 27, "mi_option_disallow_arena_alloc");
MI_STATIC_ASSERT(mi_option_retry_on_oom == 28, "mi_option_retry_on_oom");
MI_STATIC_ASSERT(mi_option_visit_abandoned == 29, "mi_option_visit_abandoned");
MI_STATIC_ASSERT(mi_option_guarded_min == 30, "mi_option_guarded_min");
MI_STATIC_ASSERT(mi_option_guarded_max == 31, "mi_option_guarded_max");
MI_STATIC_ASSERT(mi_option_guarded_precise == 32, "mi_option_guarded_precise");
MI_STATIC_ASSERT(mi_option_guarded_sample_rate == 33, "mi_option_guarded_sample_rate");
MI_STATIC_ASSERT(mi_option_guarded_sample_seed == 34, "mi_option_guarded_sample_seed");
MI_STATIC_ASSERT(mi_option_target_segments_per_thread == 35, "mi_option_target_segments_per_thread");
MI_STATIC_ASSERT(mi_option_generic_collect == 36, "mi_option_generic_collect");
MI_STATIC_ASSERT(mi_option_allow_thp == 37, "mi_option_allow_thp");
MI_STATIC_ASSERT(_mi_option_last == 38, "38 options");
MI_STATIC_ASSERT(mi_option_large_os_pages == mi_option_allow_large_os_pages, "legacy name mi_option_large_os_pages");
MI_STATIC_ASSERT(mi_option_eager_region_commit == mi_option_arena_eager_commit, "legacy name mi_option_eager_region_commit");
MI_STATIC_ASSERT(mi_option_reset_decommits == mi_option_purge_decommits, "legacy name mi_option_reset_decommits");
MI_STATIC_ASSERT(mi_option_reset_delay == mi_option_purge_delay, "legacy name mi_option_reset_delay");
MI_STATIC_ASSERT(mi_option_abandoned_page_reset == mi_option_abandoned_page_purge, "legacy name mi_option_abandoned_page_reset");
MI_STATIC_ASSERT(mi_option_limit_os_alloc == mi_option_disallow_os_alloc, "legacy name mi_option_limit_os_alloc");

typedef void (*mi_any_fun_t)(void);
#define MI_FUN(name)  (mi_any_fun_t)(&name),
static mi_any_fun_t const mi_functions[] = {
  MI_FUN(mi_malloc) MI_FUN(mi_calloc) MI_FUN(mi_realloc) MI_FUN(mi_expand)
  MI_FUN(mi_free) MI_FUN(mi_strdup) MI_FUN(mi_strndup) MI_FUN(mi_realpath)
  MI_FUN(mi_malloc_small) MI_FUN(mi_zalloc_small) MI_FUN(mi_zalloc) MI_FUN(mi_mallocn)
  MI_FUN(mi_reallocn) MI_FUN(mi_reallocf) MI_FUN(mi_usable_size) MI_FUN(mi_good_size)
  MI_FUN(mi_free_small) MI_FUN(mi_register_deferred_free) MI_FUN(mi_register_output) MI_FUN(mi_register_error)
  MI_FUN(mi_collect) MI_FUN(mi_version) MI_FUN(mi_stats_reset) MI_FUN(mi_stats_merge)
  MI_FUN(mi_stats_print) MI_FUN(mi_stats_print_out) MI_FUN(mi_thread_stats_print_out) MI_FUN(mi_options_print)
  MI_FUN(mi_process_info) MI_FUN(mi_process_init) MI_FUN(mi_process_done) MI_FUN(mi_thread_init)
  MI_FUN(mi_thread_done) MI_FUN(mi_malloc_aligned) MI_FUN(mi_malloc_aligned_at) MI_FUN(mi_zalloc_aligned)
  MI_FUN(mi_zalloc_aligned_at) MI_FUN(mi_calloc_aligned) MI_FUN(mi_calloc_aligned_at) MI_FUN(mi_realloc_aligned)
  MI_FUN(mi_realloc_aligned_at) MI_FUN(mi_umalloc) MI_FUN(mi_ucalloc) MI_FUN(mi_urealloc)
  MI_FUN(mi_ufree) MI_FUN(mi_umalloc_aligned) MI_FUN(mi_uzalloc_aligned) MI_FUN(mi_umalloc_small)
  MI_FUN(mi_uzalloc_small) MI_FUN(mi_heap_new) MI_FUN(mi_heap_delete) MI_FUN(mi_heap_destroy)
  MI_FUN(mi_heap_set_default) MI_FUN(mi_heap_get_default) MI_FUN(mi_heap_get_backing) MI_FUN(mi_heap_collect)
  MI_FUN(mi_heap_malloc) MI_FUN(mi_heap_zalloc) MI_FUN(mi_heap_calloc) MI_FUN(mi_heap_mallocn)
  MI_FUN(mi_heap_malloc_small) MI_FUN(mi_heap_zalloc_small) MI_FUN(mi_heap_realloc) MI_FUN(mi_heap_reallocn)
  MI_FUN(mi_heap_reallocf) MI_FUN(mi_heap_strdup) MI_FUN(mi_heap_strndup) MI_FUN(mi_heap_realpath)
  MI_FUN(mi_heap_malloc_aligned) MI_FUN(mi_heap_malloc_aligned_at) MI_FUN(mi_heap_zalloc_aligned) MI_FUN(mi_heap_zalloc_aligned_at)
  MI_FUN(mi_heap_calloc_aligned) MI_FUN(mi_heap_calloc_aligned_at) MI_FUN(mi_heap_realloc_aligned) MI_FUN(mi_heap_realloc_aligned_at)
  MI_FUN(mi_rezalloc) MI_FUN(mi_recalloc) MI_FUN(mi_rezalloc_aligned) MI_FUN(mi_rezalloc_aligned_at)
  MI_FUN(mi_recalloc_aligned) MI_FUN(mi_recalloc_aligned_at) MI_FUN(mi_heap_rezalloc) MI_FUN(mi_heap_recalloc)
  MI_FUN(mi_heap_rezalloc_aligned) MI_FUN(mi_heap_rezalloc_aligned_at) MI_FUN(mi_heap_recalloc_aligned) MI_FUN(mi_heap_recalloc_aligned_at)
  MI_FUN(mi_heap_contains_block) MI_FUN(mi_heap_check_owned) MI_FUN(mi_check_owned) MI_FUN(mi_heap_visit_blocks)
  MI_FUN(mi_is_in_heap_region) MI_FUN(mi_is_redirected) MI_FUN(mi_reserve_huge_os_pages_interleave) MI_FUN(mi_reserve_huge_os_pages_at)
  MI_FUN(mi_reserve_os_memory) MI_FUN(mi_manage_os_memory) MI_FUN(mi_debug_show_arenas) MI_FUN(mi_arenas_print)
  MI_FUN(mi_arena_area) MI_FUN(mi_reserve_huge_os_pages_at_ex) MI_FUN(mi_reserve_os_memory_ex) MI_FUN(mi_manage_os_memory_ex)
  MI_FUN(mi_heap_new_in_arena) MI_FUN(mi_subproc_main) MI_FUN(mi_subproc_new) MI_FUN(mi_subproc_delete)
  MI_FUN(mi_subproc_add_current_thread) MI_FUN(mi_abandoned_visit_blocks) MI_FUN(mi_heap_guarded_set_sample_rate) MI_FUN(mi_heap_guarded_set_size_bound)
  MI_FUN(mi_thread_set_in_threadpool) MI_FUN(mi_heap_new_ex) MI_FUN(mi_unsafe_heap_page_is_under_utilized) MI_FUN(mi_reserve_huge_os_pages)
  MI_FUN(mi_collect_reduce) MI_FUN(mi_option_is_enabled) MI_FUN(mi_option_enable) MI_FUN(mi_option_disable)
  MI_FUN(mi_option_set_enabled) MI_FUN(mi_option_set_enabled_default) MI_FUN(mi_option_get) MI_FUN(mi_option_get_clamp)
  MI_FUN(mi_option_get_size) MI_FUN(mi_option_set) MI_FUN(mi_option_set_default) MI_FUN(mi_cfree)
  MI_FUN(mi__expand) MI_FUN(mi_malloc_size) MI_FUN(mi_malloc_good_size) MI_FUN(mi_malloc_usable_size)
  MI_FUN(mi_posix_memalign) MI_FUN(mi_memalign) MI_FUN(mi_valloc) MI_FUN(mi_pvalloc)
  MI_FUN(mi_aligned_alloc) MI_FUN(mi_reallocarray) MI_FUN(mi_reallocarr) MI_FUN(mi_aligned_recalloc)
  MI_FUN(mi_aligned_offset_recalloc) MI_FUN(mi_free_size) MI_FUN(mi_free_size_aligned) MI_FUN(mi_free_aligned)
  MI_FUN(mi_dupenv_s) MI_FUN(mi_wdupenv_s) MI_FUN(mi_wcsdup) MI_FUN(mi_mbsdup)
  MI_FUN(mi_new) MI_FUN(mi_new_aligned) MI_FUN(mi_new_nothrow) MI_FUN(mi_new_aligned_nothrow)
  MI_FUN(mi_new_n) MI_FUN(mi_new_realloc) MI_FUN(mi_new_reallocn) MI_FUN(mi_heap_alloc_new)
  MI_FUN(mi_heap_alloc_new_n) MI_FUN(mi_stats_get) MI_FUN(mi_stats_get_json)
};

int main(void) {
  const size_t count = sizeof(mi_functions) / sizeof(mi_functions[0]);
  size_t null_count = 0;
  for (size_t i = 0; i < count; i++) {
    if (mi_functions[i] == NULL) null_count++;
  }
  printf("%zu functions, %zu missing\n", count, null_count);
  return (count == 159 && null_count == 0 ? 0 : 1);
}
