# SPDX-License-Identifier: MIT
# --- override: libmica.so preloaded into programs not linked with it ---------
# Included from test/CMakeLists.txt. test-preload (override/test-preload.c)
# is linked with the C library only and finds mica with dlopen(RTLD_NOLOAD).
#
# glibc (native builds, as the install/programs section): mica alone, and
# mica with jemalloc, tcmalloc or mimalloc before and after it in LD_PRELOAD
# (preload-mixed.sh: ls, sort, test-preload). An allocator that is not
# installed makes its tests skip, naming the Debian package; the readme's
# test command installs them.
# musl (native x86-64 leg only): a program built with musl-gcc, with the
# musl libmica.so in LD_PRELOAD; musl >= 1.2.1 lets a preloaded library
# replace malloc in a dynamically linked program. Under the ARM musl legs the
# test is not added: qemu-user would need LD_PRELOAD passed to the guest only.

if(NOT MI_OVERRIDE OR NOT TARGET mica OR CMAKE_CROSSCOMPILING)
  return()
endif()

add_executable(test-preload ${CMAKE_CURRENT_LIST_DIR}/test-preload.c)
set_target_properties(test-preload PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
target_include_directories(test-preload PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# -fno-builtin: the compiler may not assume what malloc & co. do (clang
# elides unused allocations and assumes they leave errno alone)
target_compile_options(test-preload PRIVATE -Wall -Wextra -Wundef -fno-builtin)
target_link_libraries(test-preload PRIVATE ${CMAKE_DL_LIBS})
add_dependencies(test-preload mica)

if(MI_LIBC_MUSL)
  add_test(NAME preload-musl
    COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:mica> MICA_SHOW_ERRORS=1
            $<TARGET_FILE:test-preload> $<TARGET_FILE:mica> mica)
  set_tests_properties(preload-musl PROPERTIES TIMEOUT 60)
else()
  set(mi_preload_script ${CMAKE_CURRENT_LIST_DIR}/preload-mixed.sh)
  add_test(NAME preload-mica
    COMMAND sh ${mi_preload_script} $<TARGET_FILE:mica> $<TARGET_FILE:test-preload> mica)
  set_tests_properties(preload-mica PROPERTIES TIMEOUT 120)
  set(mi_preload_libdir /usr/lib)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    set(mi_preload_libdir /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  # name:library:Debian package
  foreach(entry "jemalloc:libjemalloc.so.2:libjemalloc2"
                "tcmalloc:libtcmalloc_minimal.so.4:libtcmalloc-minimal4"
                "mimalloc:libmimalloc.so.2:libmimalloc2.0")
    string(REPLACE ":" ";" entry "${entry}")
    list(GET entry 0 name)
    list(GET entry 1 so)
    list(GET entry 2 package)
    foreach(order "${name}-mica:other-mica" "mica-${name}:mica-other")
      string(REPLACE ":" ";" order "${order}")
      list(GET order 0 test_name)
      list(GET order 1 order_arg)
      add_test(NAME preload-${test_name}
        COMMAND sh ${mi_preload_script} $<TARGET_FILE:mica> $<TARGET_FILE:test-preload> ${order_arg}
                ${mi_preload_libdir}/${so} ${package})
      set_tests_properties(preload-${test_name} PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
    endforeach()
  endforeach()
endif()
