#!/usr/bin/env bash
# Configures and builds Gantry into BUILD_DIR (default ./build). Extra args go to cmake.
# GANTRY_SANITIZE=1 builds with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
san=OFF; [ "${GANTRY_SANITIZE:-0}" = 1 ] && san=ON
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_SANITIZE=$san "$@" >/dev/null
# Two jobs: the machines this runs on have two cores, and gRPC-generated code is memory-hungry.
ninja -C "$build" -j "${JOBS:-2}"
