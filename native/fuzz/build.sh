#!/usr/bin/env bash
# build.sh: builds the fuzz targets listed in native/fuzz/targets.
#
#   out/fuzz_NAME      libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer
#   out/replay_NAME    the same checks without libFuzzer (standalone.cc), for
#                      replaying inputs and the leak check (ASan + UBSan)
#
# The core is native/core/kernel-sources.sh's list, so new kernels and core
# files are fuzzed as soon as they are listed there.
# Environment: FUZZ_CXX (default: clang++, else the newest clang++-NN),
# FUZZ_OPT (default -O2), FUZZ_OUT (default native/fuzz/out).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/native/core/kernel-sources.sh"
out=${FUZZ_OUT:-$here/out}

cxx=${FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  if command -v clang++ >/dev/null 2>&1; then
    cxx=clang++
  else
    cxx=$(compgen -c clang++- | sort -t- -k2 -n | tail -1 || true)
  fi
fi
if [ -z "$cxx" ] || ! command -v "$cxx" >/dev/null 2>&1; then
  echo "build.sh: clang++ not found. On Debian: apt-get install -y clang libclang-rt-14-dev llvm-14" >&2
  exit 2
fi

opt=${FUZZ_OPT:--O2}
common=(-std=c++17 "$opt" -g -fno-omit-frame-pointer -Wall -Wextra
        -fno-sanitize-recover=all -I"$core_dir")
fuzz_flags=(-fsanitize=fuzzer,address,undefined)
cov_flags=(-fsanitize=fuzzer-no-link,address,undefined)
ignore=(-fsanitize-coverage-ignorelist="$here/coverage-ignore.txt")
asan_flags=(-fsanitize=address,undefined)

read -r -a core <<<"$srcs"

mkdir -p "$out/obj-fuzz" "$out/obj-asan"
core_fuzz=()
core_asan=()
for f in "${core[@]}"; do
  name=$(basename "$f" .cc)
  "$cxx" "${common[@]}" "${cov_flags[@]}" -c "$f" -o "$out/obj-fuzz/$name.o"
  "$cxx" "${common[@]}" "${asan_flags[@]}" -c "$f" -o "$out/obj-asan/$name.o"
  core_fuzz+=("$out/obj-fuzz/$name.o")
  core_asan+=("$out/obj-asan/$name.o")
done
"$cxx" "${common[@]}" "${asan_flags[@]}" -c "$here/standalone.cc" -o "$out/obj-asan/standalone.o"

built=()
while read -r name _; do
  case "$name" in '' | '#'*) continue ;; esac
  name=${name#!}
  src="$here/fuzz_$name.cc"
  [ -f "$src" ] || { echo "build.sh: $src is listed in targets but missing" >&2; exit 2; }
  "$cxx" "${common[@]}" "${fuzz_flags[@]}" "${ignore[@]}" "$src" "${core_fuzz[@]}" -o "$out/fuzz_$name"
  "$cxx" "${common[@]}" "${asan_flags[@]}" "$src" "${core_asan[@]}" "$out/obj-asan/standalone.o" \
    -o "$out/replay_$name"
  built+=("$name")
done <"$here/targets"

echo "build.sh: $("$cxx" --version | head -1); core: ${core[*]##*/}; targets: ${built[*]}"
