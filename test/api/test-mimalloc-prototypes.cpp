/* SPDX-License-Identifier: MIT */
// The prototype check of test-mimalloc-prototypes.c, compiled as C++: a
// changed noexcept is an error here as well.
#include "test-mimalloc-prototypes.c"
