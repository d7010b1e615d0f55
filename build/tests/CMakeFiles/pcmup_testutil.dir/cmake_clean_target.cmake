file(REMOVE_RECURSE
  "libpcmup_testutil.a"
)
