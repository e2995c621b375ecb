# SPDX-License-Identifier: MIT
# Cross build for i686 (Debian cross gcc). The binaries run natively on the
# x86_64 kernel, started through the cross libc's own loader (no multilib
# needed). A kernel that runs no 32-bit x86 programs (IA32 emulation off, as
# in some VM guests: the loader fails with "Exec format error") gets
# qemu-i386 instead, which hangs on some threaded programs (qemu 7.2; see
# .ci/run for what that leg runs):
#   cmake -S . -B build-i686 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/i686-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(mi_i686_loader /usr/i686-linux-gnu/lib/ld-linux.so.2)
execute_process(COMMAND ${mi_i686_loader} --version RESULT_VARIABLE mi_i686_native OUTPUT_QUIET ERROR_QUIET)
if(mi_i686_native EQUAL 0)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${mi_i686_loader};--library-path;/usr/i686-linux-gnu/lib)
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-i386;-L;/usr/i686-linux-gnu)
endif()
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
