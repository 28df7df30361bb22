#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install what is missing, build, install,
# start gantryd with its default configuration, and show it serving.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$src/build}
"$src/scripts/deps.sh"
"$src/scripts/build.sh"
cmake --install "$BUILD_DIR" --prefix /usr/local >/dev/null

sock=/run/gantry/gantryd.sock
if gantry --address "$sock" version >/dev/null 2>&1; then
  echo "gantryd is already running on $sock"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now gantryd
else
  # No systemd as PID 1 (containers, CI): run it in the background with a log file.
  mkdir -p /var/log
  nohup /usr/local/bin/gantryd >>/var/log/gantryd.log 2>&1 &
  echo "gantryd started (pid $!), logging to /var/log/gantryd.log"
fi
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
gantry version
echo
gantry plugins ls
