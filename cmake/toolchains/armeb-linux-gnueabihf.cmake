# SPDX-License-Identifier: MIT
# ARM big-endian (armv7, BE8), compile only: Debian has no big-endian ARM
# libc to link or run against, so only the static library and mica.o are
# built (-DMI_BUILD_SHARED=OFF -DMI_BUILD_TESTS=OFF). The glibc armhf headers
# are endian-neutral.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armeb)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_C_FLAGS_INIT "-mbig-endian")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
