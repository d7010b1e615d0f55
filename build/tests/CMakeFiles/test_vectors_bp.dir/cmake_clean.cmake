file(REMOVE_RECURSE
  "CMakeFiles/test_vectors_bp.dir/test_vectors_bp.c.o"
  "CMakeFiles/test_vectors_bp.dir/test_vectors_bp.c.o.d"
  "test_vectors_bp"
  "test_vectors_bp.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_vectors_bp.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
