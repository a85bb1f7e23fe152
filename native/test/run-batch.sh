#!/bin/sh
# run-batch.sh: builds native/test/batch_test.cc (the async batch core on
# real threads, no Node) under ThreadSanitizer and UndefinedBehaviorSanitizer,
# and runs it: races in the chunk hand-out and the in-order placement fail it.
#   native/test/run-batch.sh         CXX=clang++ to change compiler
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/native/test/out"
mkdir -p "$out"
CXX=${CXX:-g++}
core="$root/native/core"
$CXX -std=c++17 -O1 -g -pthread -Wall -Wextra -Werror -fsanitize=thread,undefined -fno-sanitize-recover=all \
  -I"$core" -o "$out/batch_test" "$root/native/test/batch_test.cc" \
  "$core/batch.cc" "$core/batch_job.cc" "$core/decode.cc" "$core/encode_portable.cc"
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1} "$out/batch_test"
