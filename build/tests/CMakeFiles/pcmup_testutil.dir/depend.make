# Empty dependencies file for pcmup_testutil.
# This may be replaced when dependencies are built.
