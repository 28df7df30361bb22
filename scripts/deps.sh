#!/usr/bin/env bash
# Installs, from Debian 12's archive, everything Gantry needs to build, run and test.
# Only missing packages are installed, so a second run costs a dpkg query.
set -euo pipefail

build=(cmake ninja-build g++ pkg-config git
       libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
       liblmdb-dev libboost-dev libboost-filesystem-dev
       libtomlplusplus-dev libcli11-dev libspdlog-dev nlohmann-json3-dev
       prometheus-cpp-dev libre2-dev libssl-dev
       libarchive-dev libzstd-dev zlib1g-dev libseccomp-dev)
test=(libgtest-dev libgmock-dev libbenchmark-dev
      containerd runc crun runsc curl procps busybox-static python3
      btrfs-progs zstd docker.io util-linux criu)

want=("${build[@]}")
[ "${1:-}" = "--test" ] && want+=("${test[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
