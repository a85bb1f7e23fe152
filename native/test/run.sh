#!/bin/sh
# run.sh: builds native/test/test_kernels.cc with the core sources (no Node)
# under AddressSanitizer and UndefinedBehaviorSanitizer, and runs it.
#   native/test/run.sh [rounds] [seed]     CXX=clang++ to change compiler
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/test/out"
mkdir -p "$out"
CXX=${CXX:-g++}
. "$root/native/core/kernel-sources.sh"
# No -m/-march flags: the kernels carry their own target attributes, as in
# the addon. -O1 keeps the sanitizers fast and the SIMD paths intact.
$CXX -std=c++17 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=all \
  -o "$out/test_kernels" "$root/native/test/test_kernels.cc" $srcs
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$out/test_kernels" "$root/test/fixtures" "${1:-2}" "${2:-1}"
