# Empty dependencies file for pcmup.
# This may be replaced when dependencies are built.
