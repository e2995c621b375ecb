/* SPDX-License-Identifier: MIT */
/* The C side of ctest headers-cxx: mica's headers as the library sees them,
   and layout.h's values computed by the C compiler for the C++ program to
   compare with its own. */
#include "mica.h"
#include "mica/internal.h"
#include "layout.h"

size_t headers_layout_c(uint64_t* values);
size_t headers_layout_c(uint64_t* values) { return layout_values(values); }
