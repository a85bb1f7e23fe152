#!/bin/sh
# run-cache.sh: builds native/test/page_cache_test.cc with the cache, sender
# and codec core (no Node) under AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs it.   CXX=clang++ to change compiler
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/test/out"
mkdir -p "$out"
CXX=${CXX:-g++}
. "$root/native/core/kernel-sources.sh"
$CXX -std=c++17 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=all \
  -I"$core_dir" -o "$out/page_cache_test" "$root/native/test/page_cache_test.cc" $srcs
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$out/page_cache_test"
