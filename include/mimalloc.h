/* SPDX-License-Identifier: MIT */
/* Compatibility header: code written against mimalloc includes this and
   gets mica, whose API keeps mimalloc's names and semantics. */
#ifndef MIMALLOC_H
#define MIMALLOC_H
#include "mica.h"
#endif
