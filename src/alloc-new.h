/* SPDX-License-Identifier: MIT */
/* The C++ side of mi_new (src/alloc-new.c) that the C++ operators
   (src/override/override-new.c) call. */
#ifndef MICA_ALLOC_NEW_H
#define MICA_ALLOC_NEW_H

#include <stdbool.h>
#include <stddef.h>
#include "mica/arch.h"

#ifdef __cplusplus
extern "C" {
#endif
MI_HIDDEN_BEGIN

/* A nothrow operator new (its mangled name; `alignment` 0 if none) failed:
   what the standard says it returns, nullptr or a block after the handler
   made room (src/override/override-new.c). */
void* _mi_alloc_new_nothrow_failed(const char* mangled_name, size_t size, size_t alignment, const void* nothrow_tag);

MI_HIDDEN_END

#ifdef __cplusplus
}
#endif

#endif
