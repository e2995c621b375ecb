# SPDX-License-Identifier: MIT
# Cross build for aarch64-linux-musl: Debian's cross gcc with musl's specs (packages
# gcc-aarch64-linux-gnu, musl-dev:<arch> after dpkg --add-architecture), tests under
# qemu-user, which finds musl's loader in the host's /lib. Configure with
# -DMI_LIBC_MUSL=ON.
# -mno-outline-atomics: libgcc's LSE detection calls __getauxval, which
# musl's libc.so does not export.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER ${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-musl-gcc)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;cortex-a53)
set(CMAKE_FIND_ROOT_PATH /usr/lib/aarch64-linux-musl)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
