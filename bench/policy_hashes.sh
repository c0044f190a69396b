#!/bin/bash
# policy_hashes.sh SAC_BINARY OUTDIR: four short fixed CPU runs (Hopper-v5, 64x64 nets, batch 64,
# 3,000 steps, checkpoints every 1,000; sequential and overlapped loops, 1 and 4 envs) and the
# first 16 hex digits of each policy.safetensors' sha256, one line each with the last eval row.
# A refactor that must change no CPU result gives the same four hashes before and after (run it
# with both binaries). About 10 s.
set -euo pipefail
SAC=$1
OUT=$2
CFG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/configs/hopper.json"
mkdir -p "$OUT"
common=(--set device=cpu --set 'sac.hidden=[64,64]' --set sac.batch_size=64
        --set train.total_steps=3000 --set train.warmup_steps=500 --set train.eval_every=1000
        --set train.eval_episodes=2 --set train.log_every=500 --set train.checkpoint_every=1000
        --set train.threads=2 --quiet)
for pipe in sequential overlapped; do
  for n in 1 4; do
    d="$OUT/$pipe-$n"
    rm -rf "$d"
    "$SAC" train "$CFG" "${common[@]}" --set train.pipeline=$pipe --set env.num_envs=$n \
      --run-dir "$d" > "$d.out" 2> "$d.err"
    echo "$pipe-$n $(sha256sum < "$d/policy.safetensors" | cut -c1-16) $(tail -1 "$d/eval.csv")"
  done
done
