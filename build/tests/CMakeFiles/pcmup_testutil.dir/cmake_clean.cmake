file(REMOVE_RECURSE
  "CMakeFiles/pcmup_testutil.dir/testutil.c.o"
  "CMakeFiles/pcmup_testutil.dir/testutil.c.o.d"
  "libpcmup_testutil.a"
  "libpcmup_testutil.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pcmup_testutil.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
