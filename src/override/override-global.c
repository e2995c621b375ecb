/* SPDX-License-Identifier: MIT */
/* The process-wide binding of each C allocator name (see override-global.h).
   This file must define none of those names: compiled on its own with -fPIC,
   every `&name` below is a load from the GOT, which the dynamic loader filled
   from its global lookup (the program, then LD_PRELOAD libraries in order,
   then the rest) before any code of the library runs, so it is valid from
   the very first call, needs no initialization and calls no dlsym. In
   mica.o (every source in one unit) or a program linked with libmica.a the
   compiler may fold the address to mica's own definition, which is then
   the right answer: a program's own malloc precedes every preload. */
#include "mica/internal.h"
#include "../prim/features.h"
#include "override-global.h"

#if MI_OVERRIDE
#define MI_GLOBAL_DEFINE(ret, name, params) \
  ret name params; \
  ret (*_mi_override_global_##name(void)) params { return &name; }
MI_GLOBAL_ALLOC_FUNS(MI_GLOBAL_DEFINE)
#if MI_PRIM_HAS_LIBC_ALLOC_NAMES
MI_GLOBAL_LIBC_ALLOC_FUNS(MI_GLOBAL_DEFINE)
#endif
#undef MI_GLOBAL_DEFINE
#endif
