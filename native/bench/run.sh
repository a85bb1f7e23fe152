#!/bin/sh
# run.sh: builds and runs the native kernel benchmark (no Node).
#   native/bench/run.sh [--quick] [--regime HOT|L2|COLD] [--json FILE]
# Optimised like the addon (-O3, no -m/-march flags: the kernels carry
# their own target attributes).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/bench/out"
mkdir -p "$out"
CXX=${CXX:-g++}
core="cpu.cc decode.cc dispatch.cc encode_portable.cc encode_sse2.cc encode_avx2.cc encode_avx512.cc encode_neon.cc"
srcs=""
for f in $core; do srcs="$srcs $root/native/$f"; done
$CXX -std=c++17 -O3 -Wall -Wextra -o "$out/bench_kernels" "$root/native/bench/bench_kernels.cc" $srcs
exec "$out/bench_kernels" "$@"
