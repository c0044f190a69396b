#!/usr/bin/env bash
# make_corpus.sh: writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/), the
# reference checkpoint pair of fuzz_checkpoint (tests/fuzz/checkpoint_pair/) and the config
# keys of config.dict, all by the engine's own writers: one tiny Pendulum-v1 run of `sac train`
# (150 steps, 2 envs, an [8] network, evaluations every 50 steps, TensorBoard files on, a
# checkpoint at the end). Usage: tests/fuzz/make_corpus.sh SAC_BINARY (e.g. build/sac).
# The files written are small (under 10 KB each) and kept in the repository; rerun this only
# when a file format changes, then replay the corpora (./sac.sh fuzz).
set -euo pipefail
sac=$(realpath "${1:?usage: tests/fuzz/make_corpus.sh SAC_BINARY}")
cd "$(dirname "${BASH_SOURCE[0]}")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$sac" train --quiet --run-dir "$work/run" --set env.id=Pendulum-v1 --set 'sac.hidden=[8]' \
  --set sac.batch_size=8 --set sac.buffer_size=1000 --set train.warmup_steps=100 \
  --set train.total_steps=150 --set train.eval_episodes=2 --set train.eval_every=50 \
  --set env.num_envs=2 --set train.threads=1 --set env.threads=1 --set device=cpu \
  --set train.log_every=25 --set train.checkpoint_every=150 > /dev/null
run=$work/run
main=$run/checkpoints/ckpt-000000000150.safetensors
replay=$run/checkpoints/ckpt-000000000150.replay.safetensors

rm -rf corpus checkpoint_pair
mkdir -p corpus/{safetensors,policy,checkpoint,config,sweep,events,eval_csv,metrics_jsonl} checkpoint_pair
cp "$main" "$replay" checkpoint_pair/
# a file as it is, and behind a mode byte (fuzz_policy.cpp, fuzz_checkpoint.cpp)
with_mode() { { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$3"; }
cp "$run/policy.safetensors" corpus/safetensors/policy.safetensors
cp "$main" corpus/safetensors/checkpoint.safetensors
cp "$replay" corpus/safetensors/replay.safetensors
with_mode 0 "$run/policy.safetensors" corpus/policy/as_is
with_mode 1 "$run/policy.safetensors" corpus/policy/restamped
with_mode 0 "$main" corpus/checkpoint/main_as_is
with_mode 1 "$replay" corpus/checkpoint/replay_as_is
with_mode 2 "$main" corpus/checkpoint/main_restamped
with_mode 3 "$replay" corpus/checkpoint/replay_restamped
# configs: the run's resolved config.json, a task file, and one with overrides (fuzz_config.cpp)
cp "$run/config.json" corpus/config/resolved.json
cp ../../configs/pendulum.json corpus/config/pendulum.json
{ cat "$run/config.json"; printf '\n--set\ntrain.seed=3\nsac.hidden=[16,16]\ntrain.seeds=[1,2]\n'; } \
  > corpus/config/with_overrides
printf '\n--set\nenv.id=Hopper-v5\nsac.target_entropy=auto\n' > corpus/config/overrides_only
# sweep files are written by people: the README's form, on the small task
printf '%s\n' '{"base": "configs/pendulum.json", "grid": {"sac.tau": [0.005, 0.01]},' \
  ' "seeds": [1, 2, 3], "seeds_per_run": 3, "set": {"train.total_steps": 1000}}' \
  > corpus/sweep/base_and_grid.json
printf '%s\n' '{"grid": {"env.id": ["Pendulum-v1", "InvertedPendulum-v5"], "sac.hidden": [[8], [8, 8]]},' \
  ' "seeds": [7], "set": {"train.checkpoint_every": 100}}' > corpus/sweep/tasks_in_grid.json
cp "$run"/tb/events.out.tfevents.* corpus/events/run.tfevents
cp "$run/eval.csv" corpus/eval_csv/eval.csv
cp "$run/metrics.jsonl" corpus/metrics_jsonl/metrics.jsonl

# config.dict: every config key, then JSON's tokens (libFuzzer's dictionary format)
{
  echo "# config keys (sac config keys), then JSON tokens; written by make_corpus.sh"
  "$sac" config keys | sed -n 's/^{"key":"\([^"]*\)".*/"\1"/p'
  printf '%s\n' '"{"' '"}"' '"["' '"]"' '":"' '","' '"true"' '"false"' '"null"' '"auto"' \
    '"Pendulum-v1"' '"Hopper-v5"' '"1e308"' '"-0"' '"9007199254740993"' '"\\u0000"' '"\\ud800"' \
    '"="' '"\x0a--set\x0a"' '"base"' '"grid"' '"seeds"' '"seeds_per_run"' '"set"' \
    '"configs/pendulum.json"'
} > config.dict
echo "make_corpus.sh: corpora written under $(pwd)/corpus"
