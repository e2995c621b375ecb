# SPDX-License-Identifier: MIT
# AArch64 big-endian, compile only (no big-endian libc in Debian): static
# library and mica.o (-DMI_BUILD_SHARED=OFF -DMI_BUILD_TESTS=OFF). The arm64
# glibc headers lack gnu/stubs-lp64_be.h: be-shim/ supplies it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64_be)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_C_FLAGS_INIT "-mbig-endian -mno-outline-atomics -isystem ${CMAKE_CURRENT_LIST_DIR}/be-shim")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
