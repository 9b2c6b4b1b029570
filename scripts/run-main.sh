#!/bin/sh
# Builds libiommu in the release preset and runs its main program: the
# iommu-bench tool when it is built, otherwise the extent demo.  Extra
# arguments go to the program.
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release -DIOMMU_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release -j "$jobs" >/dev/null

if [ -x build/release/bench/iommu-bench ]; then
	exec build/release/bench/iommu-bench "$@"
fi
exec build/release/examples/iommu-extent-demo "$@"
