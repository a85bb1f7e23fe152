#!/usr/bin/env bash
# run.sh: builds the fuzz targets, replays the regression inputs, then fuzzes.
#
#   native/fuzz/run.sh [TARGET...]        FUZZ_SECONDS (default 60) per target,
#                                         a random seed, a corpus kept in
#                                         native/fuzz/out/corpus/ between runs
#   native/fuzz/run.sh --ci [TARGET...]   for CI: per target FUZZ_SECONDS
#                                         (default 30) split between seed 1
#                                         and a random seed that is printed;
#                                         a fresh corpus from the seeds only
#   native/fuzz/run.sh --leak             LeakSanitizer over seeds + regressions
#   native/fuzz/run.sh --replay           only build and replay the regressions
#
# FUZZ_SEED=N fixes the random seed (to replay a CI run). Exits non-zero when
# any input crashes; a crashing input is printed in base64 and kept under
# native/fuzz/out/artifacts/TARGET/. To keep it as a regression, copy it to
# test/fixtures/fuzz-regressions/TARGET/ (then every run replays it).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$here/out}
regressions=$root/test/fixtures/fuzz-regressions

mode=local
targets=()
for a in "$@"; do
  case "$a" in
    --ci) mode=ci ;;
    --leak) mode=leak ;;
    --replay) mode=replay ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *) targets+=("$a") ;;
  esac
done
# Targets marked ! in the targets file have a known bug: replayed, reported,
# not failing the run, and fuzzed only when named.
known=()
named=${#targets[@]}
while read -r name _; do
  case "$name" in '' | '#'*) continue ;; esac
  if [ "${name#!}" != "$name" ]; then
    known+=("${name#!}")
  elif [ "$named" -eq 0 ]; then
    targets+=("$name")
  fi
done <"$here/targets"
if [ "$named" -ne 0 ]; then known=(); fi
flags_of() { # the libFuzzer flags column of targets for $1
  awk -v t="$1" '$1 == t || $1 == "!" t { for (i = 3; i <= NF; i++) printf "%s ", $i }' "$here/targets"
}

"$here/build.sh" || exit 2
node "$here/make-seeds.js" "$out/seeds" || exit 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer >/dev/null 2>&1; then
  s=$(compgen -c llvm-symbolizer- | sort -t- -k3 -n | tail -1 || true)
  [ -n "$s" ] && export ASAN_SYMBOLIZER_PATH=$(command -v "$s")
fi

failed=()
passed=0

# 1. Regression inputs: every file ever found crashing, replayed as is.
regression_files() { # sets files=() to the regression inputs of target $1
  files=()
  [ -d "$regressions/$1" ] || return 0
  for f in "$regressions/$1"/*; do
    [ -f "$f" ] && case "$f" in *.md) ;; *) files+=("$f") ;; esac
  done
  return 0
}
for t in "${targets[@]}"; do
  regression_files "$t"
  [ ${#files[@]} -eq 0 ] && continue
  if "$out/replay_$t" "${files[@]}" >"$out/replay-$t.log" 2>&1; then
    echo "fuzz: $t: ${#files[@]} regression inputs replayed, all pass"
  else
    echo "fuzz: $t: a regression input FAILS:"
    tail -40 "$out/replay-$t.log"
    failed+=("$t(regression)")
  fi
done
for t in "${known[@]}"; do
  regression_files "$t"
  [ ${#files[@]} -eq 0 ] && continue
  if "$out/replay_$t" "${files[@]}" >"$out/replay-$t.log" 2>&1; then
    echo "fuzz: $t: KNOWN-FAILING target now passes its ${#files[@]} regression inputs:" \
         "remove the ! before it in native/fuzz/targets"
  else
    echo "fuzz: $t: known failing (a reported bug; see native/fuzz/README.md), not counted:"
    grep -E "FUZZ CHECK FAILED|ERROR: AddressSanitizer|runtime error" -A1 "$out/replay-$t.log" | head -4
  fi
done
if [ "$mode" = replay ]; then
  [ ${#failed[@]} -eq 0 ] && { echo "fuzz: replay: ${#targets[@]} passed, 0 failed"; exit 0; }
  echo "fuzz: replay: $(( ${#targets[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"; exit 1
fi

# 2. The leak check: the standalone drivers over every seed and regression.
if [ "$mode" = leak ]; then
  for t in "${targets[@]}"; do
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$out/replay_$t" "$out/seeds/$t" >"$out/leak-$t.log" 2>&1; then
      echo "fuzz: leak check $t: $(tail -1 "$out/leak-$t.log"), no leak reported"
      passed=$((passed + 1))
    else
      echo "fuzz: leak check $t FAILED:"; tail -40 "$out/leak-$t.log"; failed+=("$t")
    fi
  done
  echo "fuzz: leak: $passed passed, ${#failed[@]} failed"
  [ ${#failed[@]} -eq 0 ]; exit
fi

# 3. Fuzzing.
if [ "$mode" = ci ]; then
  seconds=${FUZZ_SECONDS:-30}
else
  seconds=${FUZZ_SECONDS:-60}
fi
random_seed=${FUZZ_SEED:-$(( $(od -An -N4 -tu4 /dev/urandom) % 2147483646 + 1 ))}
replay="FUZZ_SEED=$random_seed FUZZ_SECONDS=$seconds native/fuzz/run.sh$([ "$mode" = ci ] && echo " --ci")"
[ "$named" -ne 0 ] && replay="$replay ${targets[*]}"
echo "fuzz: mode $mode, ${seconds}s per target, random seed $random_seed (to replay: $replay)"

# run_one TARGET SEED SECONDS CORPUS: one libFuzzer run; prints executions.
run_one() {
  local t=$1 seed=$2 secs=$3 corpus=$4
  local log="$out/logs/$t-$seed.log" art="$out/artifacts/$t/"
  mkdir -p "$out/logs" "$art" "$corpus"
  local dict=()
  [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
  # shellcheck disable=SC2046
  "$out/fuzz_$t" -seed="$seed" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" $(flags_of "$t") \
    "$corpus" "$out/seeds/$t" >"$log" 2>&1
  local rc=$?
  local execs rate
  execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log" | tail -1)
  rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log" | tail -1)
  echo "$t $seed ${execs:-0}" >>"$out/execs.txt"
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t seed $seed: ${execs:-?} executions in ${secs}s (${rate:-?}/s), no crash"
    return 0
  fi
  echo "fuzz: $t seed $seed: CRASH (exit $rc) after ${execs:-?} executions; log $log"
  grep -E "FUZZ CHECK FAILED|ERROR: |SUMMARY|runtime error" -A3 "$log" | head -30
  local crash
  crash=$(grep -oE "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
  if [ -n "$crash" ] && [ -f "$crash" ]; then
    echo "fuzz: crashing input $crash ($(wc -c <"$crash") bytes), base64 (to a file: base64 -d >FILE):"
    base64 -w 100 "$crash"
    echo "fuzz: replay with: $out/fuzz_$t $crash"
    echo "fuzz: keep it:     cp $crash $regressions/$t/"
  fi
  return 1
}

: >"$out/execs.txt"
for t in "${targets[@]}"; do
  ok=1
  if [ "$mode" = ci ]; then
    corpus="$out/ci-corpus/$t"
    rm -rf "$corpus"
    half=$(( (seconds + 1) / 2 ))
    run_one "$t" 1 "$half" "$corpus" || ok=0
    [ $ok -eq 1 ] && { run_one "$t" "$random_seed" "$half" "$corpus" || ok=0; }
  else
    run_one "$t" "$random_seed" "$seconds" "$out/corpus/$t" || ok=0
  fi
  if [ $ok -eq 1 ]; then passed=$((passed + 1)); else failed+=("$t"); fi
done

total=$(awk '{ s += $3 } END { print s + 0 }' "$out/execs.txt")
echo "fuzz: $total executions in all; random seed $random_seed (to replay: $replay)"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  echo "fuzz: $passed passed, ${#failed[@]} failed"
  exit 1
fi
echo "fuzz: $passed passed, 0 failed"
