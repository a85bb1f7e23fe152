#!/bin/sh
# run.sh: builds one native test with the core sources (no Node) under
# sanitizers, and runs it.   CXX=clang++ to change compiler
#   native/test/run.sh [kernels] [rounds] [seed]   test_kernels.cc: every x86
#                                    kernel equals the portable one (ASan, UBSan)
#   native/test/run.sh cache         page_cache_test.cc: the cache, budget and
#                                    sender core against a model (ASan, UBSan)
#   native/test/run.sh batch         batch_test.cc: chunked jobs on real threads
#                                    equal the one-thread loops (TSan, UBSan)
# No -m/-march flags: the kernels carry their own target attributes, as in
# the addon. -O1 keeps the sanitizers fast and the SIMD paths intact.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/test/out"
mkdir -p "$out"
CXX=${CXX:-g++}
. "$root/native/core/kernel-sources.sh"
name=kernels
case "${1:-}" in kernels | cache | batch) name=$1; shift ;; esac
sanitizers="-fsanitize=address,undefined"
case $name in
  kernels) src=test_kernels; set -- "$root/test/fixtures" "${1:-2}" "${2:-1}" ;;
  cache) src=page_cache_test ;;
  batch) src=batch_test; sanitizers="-fsanitize=thread,undefined -pthread" ;;
esac
# shellcheck disable=SC2086
$CXX -std=c++17 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
  $sanitizers -fno-sanitize-recover=all \
  -I"$core_dir" -o "$out/$src" "$root/native/test/$src.cc" $srcs
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1} exec "$out/$src" "$@"
