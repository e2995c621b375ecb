# SPDX-License-Identifier: MIT
# --- lifecycle: dlopen/dlclose, and allocations before mica's constructor
# and after main. Included from test/CMakeLists.txt (uses mi_test and
# mi_test_qemu); the test libraries are built here, next to the programs,
# and each program gets its library's path as its argument.

# musl's dlclose unloads nothing: there the tests assert nothing about it.
if(MI_LIBC_MUSL)
  set(mi_dl_unmap 0)
else()
  set(mi_dl_unmap 1)
endif()

# mi_test_library(<target> <source> [libraries...]): a test's shared library
function(mi_test_library tgt src)
  add_library(${tgt} SHARED ${src})
  set_target_properties(${tgt} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  target_include_directories(${tgt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lifecycle ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wundef)
  target_link_libraries(${tgt} PRIVATE Threads::Threads ${ARGN})
endfunction()

# mi_dl_program(<target> <lib> <source>): a test program that dlopen()s
function(mi_dl_program tgt lib src)
  mi_test(${tgt} ${lib} ${src} DEFS DL_EXPECT_UNMAP=${mi_dl_unmap})
  target_include_directories(${tgt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lifecycle)
  target_link_libraries(${tgt} PRIVATE ${CMAKE_DL_LIBS})
endfunction()

# dl-shared, dl-preload: the program runs on libmica.so (linked, or
# preloaded into a program that is not linked with mica) and dlopen()s and
# dlclose()s a library that allocates and frees across the boundary.
# They and early-late* need mica's malloc (MI_OVERRIDE); dl-static does not.
if(TARGET mica AND MI_OVERRIDE)
  mi_test_library(dl-plugin lifecycle/dl-plugin.c)
  mi_dl_program(test-dl mica lifecycle/test-dl.c)
  add_test(NAME dl-shared COMMAND test-dl $<TARGET_FILE:dl-plugin>)
  mi_dl_program(test-dl-preload Threads::Threads lifecycle/test-dl.c)
  add_test(NAME dl-preload COMMAND test-dl-preload $<TARGET_FILE:dl-plugin>)
  mi_test_preloaded(dl-preload)
  set_tests_properties(dl-shared dl-preload PROPERTIES TIMEOUT 120)
endif()

# dl-static: a program on the C library's malloc dlopen()s a library that
# links libmica.a (PIC) without exporting it, uses it from threads and
# dlclose()s it; threads that used it exit afterwards. libmica.a uses
# initial-exec TLS, which glibc can dlopen (from its static TLS reserve) and
# musl cannot ("initial-exec TLS resolves to dynamic definition"): musl
# runs only dl-static-ld-tls, against a local-dynamic TLS variant (what
# MI_LOCAL_DYNAMIC_TLS builds).
if(TARGET mica-static)
  mi_add_variant(mica-ld-tls)
  target_compile_options(mica-ld-tls PRIVATE -ftls-model=local-dynamic)
  set_target_properties(mica-ld-tls PROPERTIES POSITION_INDEPENDENT_CODE ON)
  mi_dl_program(test-dl-static Threads::Threads lifecycle/test-dl-static.c)
  function(mi_dl_static_test name mica_lib)
    mi_test_library(${name}-plugin lifecycle/dl-static-plugin.c ${mica_lib})
    target_link_options(${name}-plugin PRIVATE -Wl,--exclude-libs,ALL)   # export no mica symbol, no malloc
    add_test(NAME ${name} COMMAND test-dl-static $<TARGET_FILE:${name}-plugin>)
    set_tests_properties(${name} PROPERTIES TIMEOUT 120)
  endfunction()
  mi_dl_static_test(dl-static-ld-tls mica-ld-tls)
  if(NOT MI_LIBC_MUSL OR MI_LOCAL_DYNAMIC_TLS)
    mi_dl_static_test(dl-static mica-static)
  endif()
endif()

# early-late, early-late-static: allocations before mica's constructor (a
# .preinit_array function, a library's constructors) and after main (C++
# thread_local and pthread key destructors, atexit, library destructors).
function(mi_early_late tgt lib name)
  mi_test(${tgt} ${lib} lifecycle/test-early-late.c)
  target_include_directories(${tgt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lifecycle)
  target_link_libraries(${tgt} PRIVATE early-late-lib)   # after mica: see early-late-lib.c
  if(mi_cxx AND mi_have_cxx)
    target_sources(${tgt} PRIVATE lifecycle/early-late-tls.cpp)
    target_compile_features(${tgt} PRIVATE cxx_std_11)
    target_compile_definitions(${tgt} PRIVATE EL_HAVE_CXX=1)
  endif()
  add_test(NAME ${name} COMMAND ${tgt})
  set_tests_properties(${name} PROPERTIES TIMEOUT 60)
endfunction()
if(MI_OVERRIDE)
  mi_test_library(early-late-lib lifecycle/early-late-lib.c)
  if(TARGET mica)
    mi_early_late(test-early-late mica early-late)
  endif()
  if(TARGET mica-static)
    mi_early_late(test-early-late-static mica-static early-late-static)
  endif()
endif()
