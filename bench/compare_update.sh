#!/usr/bin/env bash
# compare_update.sh: the engine's SAC update throughput beside the PyTorch reference
# (bench/torch_sac.py), same task shapes, batch and device, one after the other in one run.
#
#   bench/compare_update.sh [BUILD_DIR=build] [ENV=HalfCheetah-v5] [BATCH=256] [DEVICE=cpu]
#
# Prints each side's JSON line, then one summary line with ratio = ours / best torch figure.
# Torch runs: cpu with threads $TORCH_THREADS (default "1 2"); cuda eager and --compile-graph.
# PYTHON picks the interpreter (default /usr/bin/python3 when it has torch, else python3);
# SAC_ARGS and TORCH_ARGS add arguments to each side (e.g. TORCH_ARGS="--updates 500").
set -euo pipefail

BUILD_DIR=${1:-build}
ENV_ID=${2:-HalfCheetah-v5}
BATCH=${3:-256}
DEVICE=${4:-cpu}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# an interpreter that has torch
if [[ -z "${PYTHON:-}" ]]; then
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "compare_update.sh: $PYTHON cannot import torch; set PYTHON to one that can" >&2
  exit 2
fi
case "$DEVICE" in
  cpu) TORCH_RUNS=(); for t in ${TORCH_THREADS:-1 2}; do TORCH_RUNS+=("--threads $t"); done ;;
  cuda) TORCH_RUNS=("" "--compile-graph") ;;
  *) echo "compare_update.sh: DEVICE must be cpu or cuda, not '$DEVICE'" >&2; exit 2 ;;
esac

# last JSON line of a command's stdout
json_line() { grep '^{' | tail -n 1 || true; }

# ours
SAC_BIN="$BUILD_DIR/sac"
OURS=""
if [[ -x "$SAC_BIN" ]]; then
  # shellcheck disable=SC2086
  OURS=$("$SAC_BIN" bench update --env "$ENV_ID" --batch "$BATCH" --device "$DEVICE" ${SAC_ARGS:-} | json_line) ||
    echo "compare_update.sh: $SAC_BIN bench update failed" >&2
else
  echo "compare_update.sh: no engine binary at $SAC_BIN (build it, or pass BUILD_DIR)" >&2
fi
[[ -n "$OURS" ]] && echo "$OURS"

# torch, each configuration
TORCH_LINES=()
for extra in "${TORCH_RUNS[@]}"; do
  # shellcheck disable=SC2086
  line=$("$PYTHON" "$HERE/torch_sac.py" --bench --env "$ENV_ID" --batch "$BATCH" \
           --device "$DEVICE" $extra ${TORCH_ARGS:-} | json_line) ||
    echo "compare_update.sh: torch_sac.py $extra failed" >&2
  [[ -n "$line" ]] && { echo "$line"; TORCH_LINES+=("$line"); }
done

# summary: ours over the best torch figure
printf '%s\n' "$OURS" "${TORCH_LINES[@]}" | "$PYTHON" -c '
import json, sys
env, batch, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = sys.stdin.read().split("\n")
ours = json.loads(lines[0]) if lines[0].strip() else None
torch_runs = [json.loads(l) for l in lines[1:] if l.strip()]
torch_runs = [t for t in torch_runs if "updates_per_second" in t]
best = max(torch_runs, key=lambda t: t["updates_per_second"], default=None)
ups = ours.get("updates_per_second") if ours else None
out = {"compare": "update", "env": env, "batch": batch, "device": device,
       "ours_updates_per_second": ups,
       "torch_best_updates_per_second": best["updates_per_second"] if best else None,
       "torch_best": {k: best.get(k) for k in ("threads", "mode")} if best else None,
       "ratio": ups / best["updates_per_second"] if ups and best else None}
print(json.dumps(out))
sys.exit(0 if out["ratio"] is not None else 1)
' "$ENV_ID" "$BATCH" "$DEVICE"
