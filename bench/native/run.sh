#!/bin/sh
# run.sh: builds and runs the native kernel benchmark (no Node).
#   bench/native/run.sh [--quick] [--regime HOT|L2|COLD] [--json FILE]
# Optimised like the addon (-O3, no -m/-march flags: the kernels carry
# their own target attributes).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/native/out"
mkdir -p "$out"
CXX=${CXX:-g++}
. "$root/native/core/kernel-sources.sh"
$CXX -std=c++17 -O3 -Wall -Wextra -o "$out/bench_kernels" "$root/bench/native/bench_kernels.cc" $srcs
exec "$out/bench_kernels" "$@"
