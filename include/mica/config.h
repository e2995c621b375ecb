/* SPDX-License-Identifier: MIT */
/* Every MI_* build knob, resolved to a value. Each is always defined and is
   tested with #if, never #ifdef; the build uses -Wundef so a misspelled
   knob is an error instead of a silent 0. */
#ifndef MICA_CONFIG_H
#define MICA_CONFIG_H

#ifndef MI_DEBUG            /* 0: none, 1: cheap assertions, 2: + consistency checks, 3: + expensive checks */
#define MI_DEBUG 0
#endif
#ifndef MI_LIBC_MUSL        /* 1: target musl libc (see src/prim/features.h) */
#define MI_LIBC_MUSL 0
#endif
#ifndef MI_THREAD_ID_TLS    /* 1: never use the thread pointer for the thread id */
#define MI_THREAD_ID_TLS 0
#endif
#ifndef MI_OVERRIDE         /* 1: export malloc, free, ... */
#define MI_OVERRIDE 1
#endif
#ifndef MI_TRACK_VALGRIND   /* 1: describe blocks to valgrind memcheck */
#define MI_TRACK_VALGRIND 0
#endif
#ifndef MI_NEW_HANDLER_CXX  /* 1: mi_new calls std::new_handler and throws (src/alloc-new-handler.cpp) */
#define MI_NEW_HANDLER_CXX 0
#endif
#ifndef MI_SECURE           /* 1: encode free-list pointers (room for further hardening levels) */
#define MI_SECURE 0
#endif

#if MI_DEBUG < 0 || MI_DEBUG > 3
#error "MI_DEBUG must be 0..3"
#endif
#if (MI_LIBC_MUSL != 0 && MI_LIBC_MUSL != 1) || (MI_THREAD_ID_TLS != 0 && MI_THREAD_ID_TLS != 1) || \
    (MI_OVERRIDE != 0 && MI_OVERRIDE != 1) || (MI_TRACK_VALGRIND != 0 && MI_TRACK_VALGRIND != 1)
#error "MI_LIBC_MUSL, MI_THREAD_ID_TLS, MI_OVERRIDE and MI_TRACK_VALGRIND take 0 or 1"
#endif

#endif
