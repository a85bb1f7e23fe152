#!/bin/sh
# run-neon.sh: cross-builds native/test/test_kernels.cc for arm64 (NEON and
# portable kernels) and runs it under qemu-user.
#   native/test/run-neon.sh [rounds] [seed]
# Needs Debian's g++-aarch64-linux-gnu and qemu-user. The build uses ASan and
# UBSan; SANITIZE=0 gives a static build without them (for a qemu that
# cannot host ASan's shadow memory).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/test/out"
mkdir -p "$out"
CXX=${CXX:-aarch64-linux-gnu-g++}
QEMU=${QEMU:-qemu-aarch64}
. "$root/native/core/kernel-sources.sh"
if [ "${SANITIZE:-1}" = 1 ]; then
  flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
else
  flags="-O2 -static"
fi
# shellcheck disable=SC2086
$CXX -std=c++17 -Wall -Wextra -Werror $flags \
  -o "$out/test_kernels_arm64" "$root/native/test/test_kernels.cc" $srcs
QEMU_LD_PREFIX=${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
  "$QEMU" "$out/test_kernels_arm64" "$root/test/fixtures" "${1:-1}" "${2:-1}"
