file(REMOVE_RECURSE
  "CMakeFiles/pcmup.dir/lib/activation.c.o"
  "CMakeFiles/pcmup.dir/lib/activation.c.o.d"
  "CMakeFiles/pcmup.dir/lib/algo.c.o"
  "CMakeFiles/pcmup.dir/lib/algo.c.o.d"
  "CMakeFiles/pcmup.dir/lib/algo_bp.c.o"
  "CMakeFiles/pcmup.dir/lib/algo_bp.c.o.d"
  "CMakeFiles/pcmup.dir/lib/alloc.c.o"
  "CMakeFiles/pcmup.dir/lib/alloc.c.o.d"
  "CMakeFiles/pcmup.dir/lib/error.c.o"
  "CMakeFiles/pcmup.dir/lib/error.c.o.d"
  "CMakeFiles/pcmup.dir/lib/layer_dense.c.o"
  "CMakeFiles/pcmup.dir/lib/layer_dense.c.o.d"
  "CMakeFiles/pcmup.dir/lib/loss.c.o"
  "CMakeFiles/pcmup.dir/lib/loss.c.o.d"
  "CMakeFiles/pcmup.dir/lib/net.c.o"
  "CMakeFiles/pcmup.dir/lib/net.c.o.d"
  "CMakeFiles/pcmup.dir/lib/param.c.o"
  "CMakeFiles/pcmup.dir/lib/param.c.o.d"
  "CMakeFiles/pcmup.dir/lib/rng.c.o"
  "CMakeFiles/pcmup.dir/lib/rng.c.o.d"
  "CMakeFiles/pcmup.dir/lib/train.c.o"
  "CMakeFiles/pcmup.dir/lib/train.c.o.d"
  "CMakeFiles/pcmup.dir/lib/version.c.o"
  "CMakeFiles/pcmup.dir/lib/version.c.o.d"
  "libpcmup.pdb"
  "libpcmup.so"
  "libpcmup.so.0"
  "libpcmup.so.0.1.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pcmup.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
