#!/usr/bin/env bash
# steady_state_test.sh SAC_BINARY MALLOC_COUNTER_SO SOURCE_DIR: training allocates nothing per
# step once it runs. Each run is trained twice, to N and to 2N env steps, under the malloc
# counter (malloc_counter.c); the two processes must make the same number of allocations, so
# the N steps more made none. Runs: RLtools' Pendulum benchmark settings (64x64 nets, default
# threads) and Hopper-v5 with 256x256 nets, 4 envs on 2 env threads (GEMM blocks handed to the
# pool's threads, the env pool's blocks).
set -euo pipefail
SAC=$1
COUNTER=$2
SRC=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

quiet_run=(--set train.eval_every=0 --set train.checkpoint_every=0 --set train.log_every=1000000
           --quiet)
allocations() {  # NAME STEPS CONFIG [--set ...]: the allocation count of one training process
  local name=$1 steps=$2 cfg=$3
  shift 3
  LD_PRELOAD=$COUNTER "$SAC" train "$cfg" "$@" "${quiet_run[@]}" \
    --set train.total_steps="$steps" --run-dir "$work/$name-$steps" \
    > "$work/$name-$steps.out" 2> "$work/$name-$steps.err"
  sed -n 's/^allocations: //p' "$work/$name-$steps.err"
}

failed=0
check() {  # NAME STEPS CONFIG [--set ...]
  local name=$1 steps=$2
  local a b
  a=$(allocations "$name" "$steps" "${@:3}")
  b=$(allocations "$name" $((2 * steps)) "${@:3}")
  if [[ -z "$a" || -z "$b" ]]; then
    echo "FAIL $name: no allocation count (is $COUNTER preloaded?)"
    failed=1
  elif [[ "$a" != "$b" ]]; then
    echo "FAIL $name: $a allocations for $steps env steps, $b for $((2 * steps)): $(((b - a) / steps)) per step"
    failed=1
  else
    echo "ok   $name: $a allocations for $steps and for $((2 * steps)) env steps"
  fi
}

check pendulum-64x64 1500 "$SRC/bench/rltools_pendulum.json"
check hopper-256x256-4envs 1200 "$SRC/configs/hopper.json" --set device=cpu \
  --set env.num_envs=4 --set env.threads=2 --set train.warmup_steps=400 --set sac.batch_size=64
exit $failed
