#!/bin/sh
# Builds libiommu and passes every test: the unit tests (-Werror, all
# invariant checkers on), the same tests under Valgrind, under ASan+UBSan
# and under TSan, a clang-format check, and an install + find_package
# consumer build.  Exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh --tests

jobs=$(nproc 2>/dev/null || echo 2)
step() { printf '\n==== %s\n' "$*"; }

step "format check"
# shellcheck disable=SC2046
clang-format --dry-run -Werror $(git ls-files '*.c' '*.h' 2>/dev/null ||
    find src include tests bench examples -name '*.[ch]')

for preset in ci asan tsan; do
	step "build + unit tests: $preset"
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j "$jobs"
	ctest --preset "$preset"
done

step "valgrind: every unit test, errors and definite/indirect leaks fail"
ctest --test-dir build/ci -L valgrind --output-on-failure --no-tests=error \
    --timeout 600 \
    -j "$jobs"

step "install + find_package consumer"
rm -rf build/stage build/consumer
cmake --install build/ci --prefix build/stage >/dev/null
cmake -S tests/consumer -B build/consumer \
    -DCMAKE_PREFIX_PATH="$PWD/build/stage" >/dev/null
cmake --build build/consumer >/dev/null
build/consumer/iommu_consumer

printf '\nall tests passed\n'
