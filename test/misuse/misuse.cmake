# SPDX-License-Identifier: MIT
# The misuse suite (issue 14; doc/security.md, "Misuse outcomes"): one
# program per misuse, built against each mode's library, one test
# misuse-<misuse>-<mode> per cell of outcomes.txt, run by run.py, which
# classifies the outcome and compares it with the cell. Included from
# test/CMakeLists.txt after the variants it names are defined.
#
# A mode whose library is built otherwise than its BUILD column says (the
# debug legs build `mica` with MI_DEBUG 1 or 3), a sanitizer build, a
# processor the table was not observed on, and a mode left out of
# MI_TEST_MISUSE_MODES give skipped tests (77), not passed ones. Without
# python3 there are no misuse tests.

set(MI_TEST_MISUSE_MODES "" CACHE STRING
  "the misuse suite's modes to build and run (a list; empty: all; none: no mode): the emulated CI legs choose to save time")
set(mi_misuse_dir ${CMAKE_CURRENT_SOURCE_DIR}/misuse)
find_program(MI_PYTHON3 python3)
if(NOT MI_PYTHON3)
  message(STATUS "mica tests: no python3: the misuse-* tests not added")
  return()
endif()
set(mi_misuse_run ${MI_PYTHON3} ${mi_misuse_dir}/run.py)

file(STRINGS ${mi_misuse_dir}/outcomes.txt mi_misuse_lines REGEX "^(mode|platform|outcome)[ \t]")
set(mi_misuse_modes)
set(mi_misuse_names)
set(mi_misuse_platforms)
foreach(line ${mi_misuse_lines})
  string(REGEX REPLACE "[ \t]+" ";" w "${line}")
  list(GET w 0 kind)
  list(GET w 1 name)
  if(kind STREQUAL "mode")
    list(GET w 2 lib)
    list(GET w 3 build)
    list(APPEND mi_misuse_modes ${name})
    set(mi_misuse_lib_${name} ${lib})
    string(REPLACE "," ";" mi_misuse_build_${name} "${build}")
  elseif(kind STREQUAL "platform")
    list(REMOVE_AT w 0)
    list(APPEND mi_misuse_platforms ${w})
  else()
    list(APPEND mi_misuse_names ${name})
  endif()
endforeach()

# why a mode cannot run here (empty: it can)
function(mi_misuse_why_not mode out)
  set(why "")
  set(lib ${mi_misuse_lib_${mode}})
  if(lib STREQUAL "mica")
    set(lib ${mi_test_lib})
  endif()
  if(MI_TEST_MISUSE_MODES AND NOT mode IN_LIST MI_TEST_MISUSE_MODES)
    set(why "mode ${mode} not selected here (MI_TEST_MISUSE_MODES=${MI_TEST_MISUSE_MODES})")
  elseif(NOT CMAKE_SYSTEM_PROCESSOR IN_LIST mi_misuse_platforms)
    set(why "outcomes.txt was observed on ${mi_misuse_platforms}, this is ${CMAKE_SYSTEM_PROCESSOR}")
  elseif(CMAKE_C_FLAGS MATCHES "-fsanitize")
    set(why "a sanitizer build: the sanitizer, not mica, meets the misuse")
  elseif(NOT TARGET ${lib})
    set(why "no library target ${lib}")
  else()
    get_target_property(defs ${lib} COMPILE_DEFINITIONS)
    foreach(req ${mi_misuse_build_${mode}})
      string(REGEX REPLACE "=.*" "" key "${req}")
      set(have "${key}=0")
      foreach(d ${defs})
        if(d MATCHES "^${key}=")
          set(have "${d}")
        endif()
      endforeach()
      if(NOT have STREQUAL req)
        set(why "${lib} is built with ${have}, outcomes.txt's ${mode} column is for ${req}")
        break()
      endif()
    endforeach()
  endif()
  set(${out} "${why}" PARENT_SCOPE)
  set(${out}_lib ${lib} PARENT_SCOPE)
endfunction()

set(mi_misuse_tests)
foreach(mode ${mi_misuse_modes})
  mi_misuse_why_not(${mode} why)
  foreach(misuse ${mi_misuse_names})
    set(t misuse-${misuse}-${mode})
    if(why)
      add_test(NAME ${t} COMMAND ${mi_misuse_run} skip "${why}")
    else()
      mi_test(test-${t} ${why_lib} misuse/${misuse}.c)
      target_include_directories(test-${t} PRIVATE ${mi_misuse_dir})
      add_test(NAME ${t} COMMAND ${mi_misuse_run} run ${mi_misuse_dir}/outcomes.txt ${misuse} ${mode}
        ${CMAKE_SYSTEM_PROCESSOR} ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:test-${t}>)
    endif()
    list(APPEND mi_misuse_tests ${t})
  endforeach()
endforeach()
set_tests_properties(${mi_misuse_tests} PROPERTIES TIMEOUT 90)

# doc/security.md's table is outcomes.txt's
add_test(NAME misuse-doc COMMAND ${mi_misuse_run} check-doc ${mi_misuse_dir}/outcomes.txt ${PROJECT_SOURCE_DIR}/doc/security.md)
