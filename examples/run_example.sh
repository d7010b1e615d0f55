#!/bin/sh
# SPDX-License-Identifier: MIT
# run_example.sh DATA_DIR PROGRAM -- runs an example that trains on
# FashionMNIST, or exits 77 (ctest's SKIP_RETURN_CODE, as the C tests do:
# tests/testutil.h's TU_SKIPPED) when DATA_DIR does not have it.
set -eu
data=$1
shift
if [ ! -r "$data/train-labels-idx1-ubyte.gz" ] && [ ! -r "$data/train-labels-idx1-ubyte" ]; then
    echo "skipped: FashionMNIST is absent from $data (install dataset-fashion-mnist)"
    exit 77
fi
exec "$@"
