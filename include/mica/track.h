/* SPDX-License-Identifier: MIT */
/* Telling memory checkers about mica's blocks. No-ops unless a checker is
   selected at build time (MI_TRACK_VALGRIND). Every free-list read or write
   of a block's first word is bracketed so memcheck does not see mica's own
   accesses to freed blocks as errors. */
#ifndef MICA_TRACK_H
#define MICA_TRACK_H

#include "config.h"

#if MI_TRACK_VALGRIND
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define MI_TRACK_ENABLED 1
#define mi_track_malloc(p,size,zero)     VALGRIND_MALLOCLIKE_BLOCK(p, size, 0 /*red zone*/, zero)
#define mi_track_free(p)                 VALGRIND_FREELIKE_BLOCK(p, 0 /*red zone*/)
#define mi_track_mem_defined(p,size)     VALGRIND_MAKE_MEM_DEFINED(p, size)
#define mi_track_mem_undefined(p,size)   VALGRIND_MAKE_MEM_UNDEFINED(p, size)
#define mi_track_mem_noaccess(p,size)    VALGRIND_MAKE_MEM_NOACCESS(p, size)
#else
#define MI_TRACK_ENABLED 0
#define mi_track_malloc(p,size,zero)     ((void)0)
#define mi_track_free(p)                 ((void)0)
#define mi_track_mem_defined(p,size)     ((void)0)
#define mi_track_mem_undefined(p,size)   ((void)0)
#define mi_track_mem_noaccess(p,size)    ((void)0)
#endif

#endif
