# SPDX-License-Identifier: MIT
# Cross build for arm-linux-musleabihf: Debian's cross gcc with musl's specs (packages
# gcc-arm-linux-gnueabihf, musl-dev:<arch> after dpkg --add-architecture), tests under
# qemu-user, which finds musl's loader in the host's /lib. Configure with
# -DMI_LIBC_MUSL=ON.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER ${CMAKE_CURRENT_LIST_DIR}/arm-linux-musleabihf-gcc)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-cpu;cortex-a9)
set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-linux-musleabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
