#!/usr/bin/env bash
# run_fuzzers.sh: replays every fuzz target's corpus (corpus/<target>/) and its kept crash
# inputs (regressions/<target>/), then fuzzes each target for SECONDS from a copy of its
# corpus, one target at a time. Usage: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
# (BUILD_DIR: the fuzz build, e.g. build-fuzz; ./sac.sh fuzz calls it with 30 s). The mutations
# are drawn from FUZZ_SEED (default 1: a CI pass explores the same inputs each time, so a landing
# fails only for its own change; FUZZ_SEED=0 draws a new seed per run, for long runs by hand,
# and the seed each run used is printed in its JSON line). A crash, leak,
# timeout (over 1 s for one input) or allocation over 512 MB fails it: the input is saved under
# BUILD_DIR/fuzz-crashes/<target>/ and its path printed (FUZZ_TIMEOUT=N: libFuzzer's per-input
# timeout in N wall seconds, for a loaded machine; an input over 1 s still fails the run). Each run's figures (executions, edges
# reached, corpus size, seconds) are printed as one JSON line and kept in BUILD_DIR/fuzz-logs/.
set -uo pipefail
build=$(realpath "${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}")
seconds=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../.."  # the repository root: a sweep file's "base" is relative to it
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors policy checkpoint config sweep events eval_csv metrics_jsonl env_kwargs)
# the bounds every run is held to. libFuzzer's -timeout is wall time: on a loaded machine
# (FUZZ_TIMEOUT raised) an input over 1 s still fails the run through the slowest input's time
timeout=${FUZZ_TIMEOUT:-1}
limits=(-timeout="$timeout" -rss_limit_mb=2048 -malloc_limit_mb=512)
seed=${FUZZ_SEED:-1}

dict_of() {
  case "$1" in
    safetensors|policy|checkpoint) echo "-dict=$here/safetensors.dict" ;;
    config|sweep|metrics_jsonl) echo "-dict=$here/config.dict" ;;
    env_kwargs) echo "-dict=$here/env_kwargs.dict" ;;
  esac
}

failed=()
mkdir -p "$build/fuzz-logs"
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  crashes=$build/fuzz-crashes/$t
  mkdir -p "$crashes"
  # 1. replay: each kept input once
  inputs=("$here/corpus/$t"/*)
  [ -d "$here/regressions/$t" ] && inputs+=("$here/regressions/$t"/*)
  if ! "$bin" "${limits[@]}" "${inputs[@]}" > "$build/fuzz-logs/$t.replay.log" 2>&1; then
    echo "run_fuzzers.sh: $t: a corpus or regression input fails on replay:" >&2
    tail -30 "$build/fuzz-logs/$t.replay.log" >&2
    failed+=("$t (replay)")
    continue
  fi
  # 2. fuzz for a fixed time, from a copy of the corpus (the repository's stays as it is)
  work=$build/fuzz-corpus/$t
  mkdir -p "$work"
  cp -n "$here/corpus/$t"/* "$work"/
  log=$build/fuzz-logs/$t.log
  start=$(date +%s)
  # shellcheck disable=SC2046
  "$bin" "${limits[@]}" $(dict_of "$t") -seed="$seed" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work" > "$log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  slowest=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -1)
  used_seed=$(sed -n 's/^INFO: Seed: *//p' "$log" | head -1)
  files=$(ls "$work" | wc -l)
  echo "{\"target\":\"$t\",\"seconds\":$wall,\"executions\":${execs:-0},\"edges\":${edges:-0},\"corpus_files\":$files,\"slowest_input_seconds\":${slowest:-0},\"seed\":${used_seed:-0},\"exit\":$rc}"
  if [ $rc -eq 0 ] && [ "${slowest:-0}" -ge 1 ]; then
    echo "run_fuzzers.sh: $t: an input took ${slowest} s (over 1 s); the slowest inputs are in $log" >&2
    rc=1
  fi
  if [ $rc -ne 0 ]; then
    echo "run_fuzzers.sh: $t found a failing input:" >&2
    grep -E 'ERROR|SUMMARY|fuzz: |Test unit written to' "$log" | head -8 >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzzers.sh: failing: ${failed[*]} (inputs under $build/fuzz-crashes/, logs under $build/fuzz-logs/)" >&2
  exit 1
fi
