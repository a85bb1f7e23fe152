#!/bin/sh
# run.sh: builds and runs the native kernel benchmark (no Node).
#   bench/native/run.sh [--quick] [--regime HOT|L2|COLD] [--json FILE]
#   ARM64=1 bench/native/run.sh --cpu --regime L2 --kernels neon,portable
#   BENCH=job bench/native/run.sh [PAGES] [CHUNK_PAGES] [MAX_THREADS] [ROUNDS]
# Optimised like the addon (-O3, no -m/-march flags: the kernels carry
# their own target attributes). ARM64=1 cross-builds a static arm64 binary
# (g++-aarch64-linux-gnu) and runs it under qemu-aarch64 (qemu-user): its
# timings are of the emulation, good for parity and a rough ratio only.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/native/out"
mkdir -p "$out"
. "$root/native/core/kernel-sources.sh"
if [ "${ARM64:-0}" = 1 ]; then
  CXX=${CXX:-aarch64-linux-gnu-g++}
  # shellcheck disable=SC2086
  $CXX -std=c++17 -O3 -static -Wall -Wextra -o "$out/bench_kernels_arm64" "$root/bench/native/bench_kernels.cc" $srcs
  exec "${QEMU:-qemu-aarch64}" "$out/bench_kernels_arm64" "$@"
fi
CXX=${CXX:-g++}
bench=bench_${BENCH:-kernels}  # bench_kernels.cc, or bench_job.cc (the async split)
# shellcheck disable=SC2086
$CXX -std=c++17 -O3 -pthread -Wall -Wextra -o "$out/$bench" "$root/bench/native/$bench.cc" $srcs
exec "$out/$bench" "$@"
