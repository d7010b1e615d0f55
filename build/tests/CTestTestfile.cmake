# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_vectors_bp "/work/main/build/tests/test_vectors_bp")
set_tests_properties(test_vectors_bp PROPERTIES  ENVIRONMENT "CK_DEFAULT_TIMEOUT=600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;16;add_test;/work/main/tests/CMakeLists.txt;0;")
