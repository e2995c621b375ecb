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
#ifndef MI_EMBED            /* 1: compiled into another project's build (doc/embedding.md): no mi_ symbol leaves it, no override */
#define MI_EMBED 0
#endif
#ifndef MI_OVERRIDE         /* 1: export malloc, free, ... */
#define MI_OVERRIDE (MI_EMBED == 0)
#endif
#ifndef MI_TRACK_VALGRIND   /* 1: describe blocks to valgrind memcheck */
#define MI_TRACK_VALGRIND 0
#endif
#ifndef MI_TRACK_ASAN       /* 1: poison free and never-allocated memory for AddressSanitizer (doc/security.md) */
#define MI_TRACK_ASAN 0
#endif
#ifndef MI_TEST_OS_PAGE_SIZE /* tests only: the OS page size mica assumes, larger than the kernel's (0: the kernel's) */
#define MI_TEST_OS_PAGE_SIZE 0
#endif
#ifndef MI_TSAN             /* 1: built for ThreadSanitizer (-fsanitize=thread): no debug fills, as in mimalloc */
#define MI_TSAN 0
#endif
#ifndef MI_DEBUG_UNINIT     /* MI_DEBUG >= 2: byte that fills a block when it is handed out (not zeroed) */
#define MI_DEBUG_UNINIT 0xD0
#endif
#ifndef MI_DEBUG_FREED      /* MI_DEBUG >= 2: byte that fills a block (after its link word) when it is freed */
#define MI_DEBUG_FREED 0xDF
#endif
#ifndef MI_DEBUG_PADDING    /* MI_PADDING: byte that fills a block's slack between its canary and its end */
#define MI_DEBUG_PADDING 0xDE
#endif
/* The thread id function: MI_THREAD_ID_FUNC, or mimalloc's name for it,
   MI_PRIM_THREAD_ID (an embedder's configuration written for mimalloc). */
#if !defined(MI_THREAD_ID_FUNC) && defined(MI_PRIM_THREAD_ID)
#define MI_THREAD_ID_FUNC MI_PRIM_THREAD_ID
#endif
#ifndef MI_BLOCK_ALIGN      /* 0: every block of at least the fundamental alignment is aligned to it, as
                               malloc must be; 8: a block only to what its size implies (a 24-byte block
                               to 8), with exact classes in 8-byte steps up to 128 bytes (doc/embedding.md) */
#define MI_BLOCK_ALIGN 0
#endif
/* MI_SECURE: hardening level (doc/security.md, "MI_SECURE levels"); each
   level includes the ones below it.
     0: free-list links xor a fixed key (release default)
     1: links encoded with per-page random keys; every link popped from a
        free list is checked (NULL, or a block boundary of the same page's
        block area: otherwise an EFAULT report and the list is cut); a free
        of a pointer that is not a block start is reported (EINVAL) and
        ignored, on the fast path too
     2: a page's new blocks enter its free list in random order, and a
        segment hands out a random one of its free pages
     3: guard pages: the last OS page of every page's area (and of a huge
        block's span) is inaccessible, and so is one after the segment
        header, so a linear overflow off a page faults (ON in CMake) */
#ifndef MI_PADDING          /* 1: a canary right after each block's requested bytes, checked on free (doc/security.md);
                               by default at MI_DEBUG >= 2, unless a checker tracks the bytes, under TSan,
                               or with MI_BLOCK_ALIGN (whose exact size classes an embedder chose) */
#define MI_PADDING (MI_DEBUG >= 2 && !MI_TRACK_VALGRIND && !MI_TRACK_ASAN && !MI_TSAN && MI_BLOCK_ALIGN == 0)
#endif
#ifndef MI_SECURE
#define MI_SECURE 0
#endif

#if MI_DEBUG < 0 || MI_DEBUG > 3
#error "MI_DEBUG must be 0..3"
#endif
#if MI_SECURE < 0 || MI_SECURE > 3
#error "MI_SECURE must be 0..3"
#endif
#if (MI_LIBC_MUSL != 0 && MI_LIBC_MUSL != 1) || (MI_THREAD_ID_TLS != 0 && MI_THREAD_ID_TLS != 1) || \
    (MI_OVERRIDE != 0 && MI_OVERRIDE != 1) || (MI_TRACK_VALGRIND != 0 && MI_TRACK_VALGRIND != 1)
#error "MI_LIBC_MUSL, MI_THREAD_ID_TLS, MI_OVERRIDE and MI_TRACK_VALGRIND take 0 or 1"
#endif
#if (MI_EMBED != 0 && MI_EMBED != 1) || (MI_TSAN != 0 && MI_TSAN != 1) || (MI_TRACK_ASAN != 0 && MI_TRACK_ASAN != 1)
#error "MI_EMBED, MI_TSAN and MI_TRACK_ASAN take 0 or 1"
#endif
#if MI_TRACK_VALGRIND && MI_TRACK_ASAN
#error "MI_TRACK_VALGRIND and MI_TRACK_ASAN: one memory checker at a time"
#endif
#if MI_EMBED && MI_OVERRIDE
#error "MI_EMBED: an embedded allocator exports nothing, so MI_OVERRIDE must be 0"
#endif
#if MI_BLOCK_ALIGN != 0 && MI_BLOCK_ALIGN != 8 && MI_BLOCK_ALIGN != 16
#error "MI_BLOCK_ALIGN takes 0 (the fundamental alignment), 8 or 16"
#endif
#if MI_OVERRIDE && MI_BLOCK_ALIGN != 0
#error "MI_BLOCK_ALIGN: malloc and operator new must give the fundamental alignment, so the override needs MI_BLOCK_ALIGN 0"
#endif
#if MI_DEBUG_UNINIT < 0 || MI_DEBUG_UNINIT > 255 || MI_DEBUG_FREED < 0 || MI_DEBUG_FREED > 255 || \
    MI_DEBUG_PADDING < 0 || MI_DEBUG_PADDING > 255
#error "MI_DEBUG_UNINIT, MI_DEBUG_FREED and MI_DEBUG_PADDING are byte values"
#endif
#if MI_PADDING != 0 && MI_PADDING != 1
#error "MI_PADDING takes 0 or 1"
#endif
#if MI_PADDING && (MI_TRACK_VALGRIND || MI_TRACK_ASAN)
#error "MI_PADDING: a memory checker sees mica write the canary past the requested bytes; build without one"
#endif

#endif
