#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine, as root: install, build from scratch, run ctest.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$src/build}
"$src/scripts/deps.sh" --test
"$src/scripts/build.sh" -DGANTRY_BUILD_TESTS=ON
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 300 -j "${JOBS:-2}"
