#!/usr/bin/env bash
# pool_vs_mjbatch.sh [ROUNDS] [SECONDS]: the env pool's own threads against MuJoCo's batch API
# (`sac bench env --engine pool|mjbatch`, envs/batch_stepper.h) on the same tasks, envs, seeds
# and random actions, alternated in one run: HalfCheetah-v5, Hopper-v5 and Ant-v5, 1 and 2
# threads, 1, 16, 64 and 256 envs (1 env on 1 thread only), each shape run ROUNDS times per
# engine (default 3), the two engines back to back in an order that swaps every round. Each run
# is sized to take about SECONDS of pool stepping at the task's one-core rate (default 1.5; the
# bench's raw loop adds as much again). Prints every run as a JSON line, then a markdown table
# of medians: env steps/s of each engine and the median of the rounds' mjbatch / pool ratios.
# TASKS, THREADS and ENVS (space-separated) narrow the grid, e.g. for a smoke run:
#   TASKS=Hopper-v5 THREADS=2 ENVS=16 bench/pool_vs_mjbatch.sh 1 0.2
# Needs a built sac (SAC=path, default build/sac) and a quiet machine with 2 free cores:
#   bench/pool_vs_mjbatch.sh 3 > pool_vs_mjbatch.txt
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sac=${SAC:-$repo/build/sac}
rounds=${1:-3}
seconds=${2:-1.5}
[ -x "$sac" ] || { echo "pool_vs_mjbatch.sh: no sac binary at $sac (build it, or set SAC)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# each task's approximate env steps/s on one core (docs/measured.md), to size the runs
declare -A core_rate=([HalfCheetah-v5]=45000 [Hopper-v5]=22000 [Ant-v5]=6000)
tasks=${TASKS:-HalfCheetah-v5 Hopper-v5 Ant-v5}
for round in $(seq "$rounds"); do
  if (( round % 2 )); then engines=(pool mjbatch); else engines=(mjbatch pool); fi
  for task in $tasks; do
    set -- "$task" "${core_rate[$task]:?no one-core rate for $task in pool_vs_mjbatch.sh}"
    for threads in ${THREADS:-1 2}; do
      for envs in ${ENVS:-1 16 64 256}; do
        (( envs >= threads )) || continue  # never more threads than envs: the 1-thread run
        # batch steps for about $seconds of stepping at this width, at least 20
        steps=$(python3 -c "print(max(20, int($2 * $seconds * $threads / $envs)))")
        warmup=$(( steps / 10 + 5 ))
        for engine in "${engines[@]}"; do
          "$sac" bench env --env "$1" --num-envs "$envs" --threads "$threads" --steps "$steps" \
            --warmup "$warmup" --seed "$round" --engine "$engine" | tee -a "$work/runs.jsonl"
        done
      done
    done
  done
done

python3 - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
# the runs come in back-to-back pairs, one per engine, of one shape and round
rates, ratios = {}, {}
for a, b in zip(runs[0::2], runs[1::2]):
    shape = (a["env"], a["threads"], a["num_envs"])
    assert shape == (b["env"], b["threads"], b["num_envs"]) and a["engine"] != b["engine"]
    by = {r["engine"]: r["env_steps_per_second"] for r in (a, b)}
    for e, v in by.items(): rates.setdefault((shape, e), []).append(v)
    ratios.setdefault(shape, []).append(by["mjbatch"] / by["pool"])
print()
print("| task | threads | envs | pool steps/s | mjbatch steps/s | mjbatch / pool |")
print("|---|---|---|---|---|---|")
for shape in ratios:
    pool, batch = (statistics.median(rates[(shape, e)]) for e in ("pool", "mjbatch"))
    print(f"| {shape[0]} | {shape[1]} | {shape[2]} | {pool:,.0f} | {batch:,.0f} | "
          f"{statistics.median(ratios[shape]):.2f} |")
PY
