/* SPDX-License-Identifier: MIT */
// mica: every form of C++ operator new and delete on mica, in one header,
// as mimalloc-new-delete.h. For a program that links libmica.a (or a mica
// built without MI_OVERRIDE) and wants its own `new` to be mica's: include
// it in exactly ONE source file of the program. The definitions replace
// the C++ runtime's for the whole program (the standard forbids declaring
// replacement operators inline, so they cannot live in every file).
#ifndef MIMALLOC_NEW_DELETE_H
#define MIMALLOC_NEW_DELETE_H

#ifdef __cplusplus
#include <new>
#include <cstddef>
#include "mimalloc.h"

void  operator delete(void* p) noexcept   { mi_free(p); }
void  operator delete[](void* p) noexcept { mi_free(p); }
void  operator delete(void* p, const std::nothrow_t&) noexcept   { mi_free(p); }
void  operator delete[](void* p, const std::nothrow_t&) noexcept { mi_free(p); }

void* operator new(std::size_t n)   noexcept(false) { return mi_new(n); }
void* operator new[](std::size_t n) noexcept(false) { return mi_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept   { return mi_new_nothrow(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return mi_new_nothrow(n); }

#if __cplusplus >= 201402L
void  operator delete(void* p, std::size_t n) noexcept   { mi_free_size(p, n); }
void  operator delete[](void* p, std::size_t n) noexcept { mi_free_size(p, n); }
#endif

#if defined(__cpp_aligned_new)
void  operator delete(void* p, std::align_val_t al) noexcept   { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void  operator delete[](void* p, std::align_val_t al) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void  operator delete(void* p, std::size_t n, std::align_val_t al) noexcept   { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
void  operator delete[](void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
void  operator delete(void* p, std::align_val_t al, const std::nothrow_t&) noexcept   { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void  operator delete[](void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }

void* operator new(std::size_t n, std::align_val_t al)   noexcept(false) { return mi_new_aligned(n, static_cast<std::size_t>(al)); }
void* operator new[](std::size_t n, std::align_val_t al) noexcept(false) { return mi_new_aligned(n, static_cast<std::size_t>(al)); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept   { return mi_new_aligned_nothrow(n, static_cast<std::size_t>(al)); }
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_new_aligned_nothrow(n, static_cast<std::size_t>(al)); }
#endif
#endif /* __cplusplus */

#endif /* MIMALLOC_NEW_DELETE_H */
