# Empty dependencies file for test_vectors_bp.
# This may be replaced when dependencies are built.
