#!/usr/bin/env bash
# kill9_campaign.sh: kill -9 at random moments of R training runs; each run directory must then
# resume (`sac train --resume`) to the end, and finish with the same policy file, byte for byte,
# as the same run done in one go. Prints one line per run and a summary; exits non-zero on any
# failure.
#
#   tests/kill9_campaign.sh [SAC_BINARY=build/sac] [RUNS=20] [WORK_DIR=/tmp/sac_kill9]
#
# Each run: Pendulum-v1, small networks, CPU, checkpoint every 100 steps, seed = run number; the
# kill lands uniformly in [0, 1.2 x the one-go run's wall time), so some come before the first
# checkpoint, some inside a checkpoint write, some between the final checkpoint and the summary
# and some after the end. A run killed before it wrote its config.json has nothing to resume and
# is trained again.
set -euo pipefail
SAC=${1:-build/sac}
RUNS=${2:-20}
WORK=${3:-/tmp/sac_kill9}
rm -rf "$WORK" && mkdir -p "$WORK"

settings=(--set env.id=Pendulum-v1 --set 'sac.hidden=[32,32]' --set sac.batch_size=32
          --set train.warmup_steps=100 --set train.eval_episodes=0 --set train.log_every=100
          --set device=cpu --set train.threads=1 --set train.total_steps=3000
          --set train.checkpoint_every=100)
fail=0
for r in $(seq 1 "$RUNS"); do
  one="$WORK/one-$r" killed="$WORK/killed-$r"
  t0=$(date +%s.%N)
  "$SAC" train --quiet "${settings[@]}" --set train.seed="$r" --run-dir "$one" > /dev/null
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  delay=$(awk -v w="$wall" -v s="$RANDOM" 'BEGIN { srand(s); printf "%.3f", rand() * 1.2 * w }')
  "$SAC" train --quiet "${settings[@]}" --set train.seed="$r" --run-dir "$killed" \
    > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2> /dev/null && state=killed || state=finished
  wait "$pid" 2> /dev/null || true
  ckpt=$(ls "$killed/checkpoints" 2> /dev/null | grep -c '\.safetensors$' || true)
  tmp=$(ls "$killed/checkpoints" 2> /dev/null | grep -c '\.tmp$' || true)
  if [[ "$state" == killed && -f "$killed/summary.json" ]]; then
    state="killed after the run had written its summary (finished);"
  elif [[ "$state" == killed && ! -f "$killed/config.json" ]]; then
    # killed before the run wrote anything (its config.json comes first): nothing to resume
    state="killed before the run directory held anything, trained again;"
    "$SAC" train --quiet "${settings[@]}" --set train.seed="$r" --run-dir "$killed" > /dev/null
  elif [[ "$state" == killed ]]; then
    if ! "$SAC" train --quiet --resume "$killed" > "$killed.resume.log" 2>&1; then
      echo "run $r: resume FAILED after a kill at ${delay}s: $(tail -n 1 "$killed.resume.log")"
      fail=1
      continue
    fi
  fi
  if cmp -s "$one/policy.safetensors" "$killed/policy.safetensors"; then same=identical; else
    same=DIFFERENT
    fail=1
  fi
  echo "run $r: $state at ${delay}s of ${wall}s (checkpoint files left: $ckpt, temp files: $tmp)," \
       "then at the end, policy $same"
done
[[ $fail == 0 ]] && echo "kill9_campaign: $RUNS runs, every run directory resumed to the same policy" \
  || echo "kill9_campaign: FAILURES above"
exit $fail
