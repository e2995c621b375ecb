/* SPDX-License-Identifier: MIT */
/* The C++ side of mi_new (src/alloc-new.c): what a failed throwing or
   nothrow `new` does. Defined in alloc-new-handler.cpp where mica is built
   with a C++ compiler (MI_NEW_HANDLER_CXX), else in alloc-new.c, where
   there is no new-handler to call and no exception to throw. */
#ifndef MICA_ALLOC_NEW_H
#define MICA_ALLOC_NEW_H

#include <stdbool.h>
#include "mica/arch.h"

#ifdef __cplusplus
extern "C" {
#endif
MI_HIDDEN_BEGIN

/* Call the installed std::new_handler: true if it returned (retry the
   allocation). With none installed: false if `nothrow`, else throw
   std::bad_alloc (C-only build: print an error and abort). A handler that
   throws under `nothrow` counts as none. */
bool _mi_alloc_new_handler_try(bool nothrow);

/* A request that can never succeed (count * size overflows): throw
   std::bad_alloc (C-only build: print an error and abort). */
void _mi_alloc_new_handler_fail(void) __attribute__((noreturn));

MI_HIDDEN_END

#ifdef __cplusplus
}
#endif

#endif
