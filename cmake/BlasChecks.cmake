# SPDX-License-Identifier: MIT
# Configure-time checks of the BLAS library libpcmup links against.
include(CheckSymbolExists)
include(CMakePushCheckState)

cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_INCLUDES ${OPENBLAS_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES ${OPENBLAS_LINK_LIBRARIES})
check_symbol_exists(openblas_set_num_threads "cblas.h" PCMUP_HAVE_OPENBLAS_THREADS)
cmake_pop_check_state()

# LAPACK inside the BLAS library (OpenBLAS ships it): the dense solves of
# lib/kernel/linalg.c (Cholesky, symmetric eigendecomposition; the
# Gauss-Newton rule's Gram matrices have hundreds of rows) use dpotrf and
# dsyevd when they are there, and written-out kernels otherwise (see the
# timings there). PCMUP_USE_LAPACK=OFF forces the fallback.
if(PCMUP_USE_LAPACK)
  include(CheckFunctionExists)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_LIBRARIES ${OPENBLAS_LINK_LIBRARIES})
  check_function_exists(dpotrf_ PCMUP_HAVE_DPOTRF)
  check_function_exists(dsyevd_ PCMUP_HAVE_DSYEVD)
  cmake_pop_check_state()
endif()
if(PCMUP_USE_LAPACK AND PCMUP_HAVE_DPOTRF AND PCMUP_HAVE_DSYEVD)
  set(PCMUP_HAVE_LAPACK ON)
  message(STATUS "LAPACK (dpotrf, dsyevd) found in the BLAS library")
else()
  set(PCMUP_HAVE_LAPACK OFF)
  message(STATUS "LAPACK not used: the dense solves use the written-out kernels")
endif()

# libpcmup passes 32-bit ints to CBLAS. An ILP64 BLAS (64-bit integers)
# paired with an LP64 header, or the reverse, silently corrupts dimensions,
# so build and run a small sgemm and check both the integer width and the
# numbers.
if(CMAKE_CROSSCOMPILING AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
  # Nothing can run the check; at least make sure it compiles and links.
  try_compile(PCMUP_BLAS_COMPILE ${CMAKE_BINARY_DIR}/blas_check
    ${CMAKE_CURRENT_LIST_DIR}/blas_check.c
    CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${OPENBLAS_INCLUDE_DIRS}"
    LINK_LIBRARIES ${OPENBLAS_LINK_LIBRARIES}
    OUTPUT_VARIABLE PCMUP_BLAS_COMPILE_OUT)
  if(NOT PCMUP_BLAS_COMPILE)
    message(FATAL_ERROR "CBLAS check did not compile:\n${PCMUP_BLAS_COMPILE_OUT}")
  endif()
  message(WARNING "cross-compiling: CBLAS integer width not checked at run time")
  return()
endif()

try_run(PCMUP_BLAS_RUN PCMUP_BLAS_COMPILE
  ${CMAKE_BINARY_DIR}/blas_check ${CMAKE_CURRENT_LIST_DIR}/blas_check.c
  CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${OPENBLAS_INCLUDE_DIRS}"
  LINK_LIBRARIES ${OPENBLAS_LINK_LIBRARIES}
  COMPILE_OUTPUT_VARIABLE PCMUP_BLAS_COMPILE_OUT
  RUN_OUTPUT_VARIABLE PCMUP_BLAS_RUN_OUT)
if(NOT PCMUP_BLAS_COMPILE)
  message(FATAL_ERROR "CBLAS check did not compile:\n${PCMUP_BLAS_COMPILE_OUT}")
endif()
if(NOT PCMUP_BLAS_RUN EQUAL 0)
  # try_run caches its result; drop it so that fixing the BLAS and
  # re-running cmake checks again instead of failing on the old answer.
  unset(PCMUP_BLAS_RUN CACHE)
  message(FATAL_ERROR "CBLAS integer width does not match the header (LP64/ILP64 mismatch?): ${PCMUP_BLAS_RUN_OUT}")
endif()
message(STATUS "CBLAS check: ${PCMUP_BLAS_RUN_OUT}")
