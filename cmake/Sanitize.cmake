# SPDX-License-Identifier: MIT
# PCMUP_SANITIZE: build everything this tree builds (the library, the
# tests, the tools, the examples) with the compiler's sanitizers, so that
# ctest runs the whole suite under them (docs/testing.md).
#
#   -DPCMUP_SANITIZE=address,undefined   AddressSanitizer (with LeakSanitizer)
#                                        and UndefinedBehaviorSanitizer
#   -DPCMUP_SANITIZE=thread              ThreadSanitizer (tests/test_threads.c)
#
# The first report ends the program: -fno-sanitize-recover=all makes every
# UBSan check fatal, and the tests' environment (pcmup_sanitize_tests)
# sets halt_on_error=1 and a distinct exit status, 86, so that a report can
# never pass for an expected failure (the tools' tests expect exit status 1
# for bad input, which is also the sanitizers' default status).
set(PCMUP_SANITIZE "" CACHE STRING
  "Build with these sanitizers (the list -fsanitize= takes: address,undefined or thread); empty: none")

set(PCMUP_SANITIZE_ENV)
if(PCMUP_SANITIZE)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "PCMUP_SANITIZE needs GCC or Clang, not ${CMAKE_C_COMPILER_ID}")
  endif()
  if(PCMUP_SANITIZE MATCHES "thread" AND PCMUP_SANITIZE MATCHES "address|leak|memory")
    message(FATAL_ERROR "PCMUP_SANITIZE: thread cannot be combined with ${PCMUP_SANITIZE}")
  endif()
  # -g and frame pointers: reports with file:line stacks.
  set(_pcmup_sanitize_flags -fsanitize=${PCMUP_SANITIZE} -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g)
  # Every target of every subdirectory, in C and C++ (the C++ example),
  # compiles and links with them.
  add_compile_options(${_pcmup_sanitize_flags})
  add_link_options(-fsanitize=${PCMUP_SANITIZE})
  set(_pcmup_halt "halt_on_error=1:exitcode=86")
  list(APPEND PCMUP_SANITIZE_ENV
    "ASAN_OPTIONS=${_pcmup_halt}:detect_leaks=1:detect_stack_use_after_return=1"
    "UBSAN_OPTIONS=${_pcmup_halt}:print_stacktrace=1"
    "LSAN_OPTIONS=exitcode=86"
    "TSAN_OPTIONS=${_pcmup_halt}:second_deadlock_stack=1")
  message(STATUS "Sanitizers: ${PCMUP_SANITIZE}")
endif()

# Gives every test registered so far in the calling directory the
# sanitizers' options (called at the end of each CMakeLists.txt that adds
# tests; a test's ENVIRONMENT set afterwards would replace them).
function(pcmup_sanitize_tests)
  if(NOT PCMUP_SANITIZE)
    return()
  endif()
  get_property(_tests DIRECTORY PROPERTY TESTS)
  foreach(_test IN LISTS _tests)
    set_property(TEST ${_test} APPEND PROPERTY ENVIRONMENT ${PCMUP_SANITIZE_ENV})
  endforeach()
endfunction()
