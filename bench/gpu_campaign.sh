#!/usr/bin/env bash
# gpu_campaign.sh: every CUDA claim of the engine checked in one short, unattended run on a
# lent GPU machine, from the folder `./sac.sh gpu-pack` made (this script is copied into it as
# campaign.sh). Two parts, each under its own wall-time cap, each writing OUT/report.json
# (rewritten after every step, so a part stopped at its cap still leaves a partial report) and a
# few logs:
#   checks  facts (GPU, driver, CUDA runtime, clocks, CPUs); the CUDA tests with
#           SAC_REQUIRE_GPU=1; the conformance tests (what only silicon answers: cuBLASLt's
#           plans of every task's shapes at batches 1, 7, 50, 256, each epilogue against the
#           fallback with NaN inputs, the capture of one update, the divergence guard on a NaN
#           weight; pass/fail lines in the report, with the fused-path counters of `sac bench
#           update`: fallbacks 0 on the HalfCheetah shapes); then the figures: sac_bench_kernels, `sac bench update` beside
#           the PyTorch reference (eager and CUDA graph) at batch 256, 1024, 4096 and in TF32 at
#           256, `sac bench train` (1 env ratio 1; 64 envs, 16 threads, ratio 1/64), `sac bench
#           env` with 16 threads (HalfCheetah, Hopper, Ant); then the slower checks: a short
#           filter of the CUDA tests under compute-sanitizer memcheck and racecheck, the CUDA
#           tests again with SAC_CUDA_DEBUG_SYNC=1, the GEMM tests with the cuBLASLt epilogues
#           off (SAC_CUBLASLT=0: the fallback).                                  cap 330 s (< 6 min)
#   train   HalfCheetah-v5 on CUDA (paper defaults, 1 env, 1 update per step) up to 1,000,000
#           steps or the time cap, checkpointed; a later call resumes the same run directory
#           ($REPO/runs/gpu-campaign-halfcheetah) while the machine is warm; the Python
#           safetensors package loads its checkpoint and policy files.     cap 450 s (< 8 min)
# --dry-run runs the same steps on a machine without a GPU: device=cpu where a CPU twin exists,
# tiny sizes, short caps (CI runs it: tests/gpu_campaign_dry_run.sh).
#
# Usage: PACK/campaign.sh OUT --part checks|train [--dry-run]
# Environment: CAMPAIGN_CAP (seconds for the part), TRAIN_SECONDS (the training run's cap in the
# train part, default 360), SAC_SOURCE_DIR (the source tree; default the pack's parent folder),
# PYTHON (an interpreter, default python3), CAMPAIGN_FORCE_REBUILD=1 (build from the source tree
# even where the carried binaries start: to try the fallback).
# On the GPU machine, from the repository root:  .gpu/campaign.sh "$OUT" --part checks
set -uo pipefail

PACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-}
PART=""
DRY=0
shift || true
while [ $# -gt 0 ]; do
  case "$1" in
    --part) PART=${2:-}; shift 2 || break ;;
    --dry-run) DRY=1; shift ;;
    *) echo "campaign.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT" ] || { [ "$PART" != checks ] && [ "$PART" != train ]; }; then
  echo "usage: campaign.sh OUT --part checks|train [--dry-run]" >&2
  exit 2
fi
mkdir -p "$OUT" || { echo "campaign.sh: cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || { echo "campaign.sh: no $PYTHON (needed for the report)" >&2; exit 2; }
REPO=${SAC_SOURCE_DIR:-$(cd "$PACK/.." && pwd)}
export SAC_SOURCE_DIR=$REPO
export SAC_MODEL_DIR=$PACK/models
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sac-campaign.XXXXXX")
# unpacked libraries and a fallback build, kept for the next part while the machine is warm
KEEP=$REPO/.gpu-build
mkdir -p "$KEEP"
STEPS=$WORK/steps
mkdir -p "$STEPS"
LOG=$OUT/campaign.log
: > "$LOG"

if [ "$PART" = checks ]; then CAP=${CAMPAIGN_CAP:-330}; else CAP=${CAMPAIGN_CAP:-450}; fi
[ $DRY = 1 ] && CAP=${CAMPAIGN_CAP:-120}
START=$(date +%s)
DEADLINE=$((START + CAP))

say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

report() {
  "$PYTHON" "$PACK/bench/campaign_report.py" assemble "$STEPS" "$OUT/report.json" \
    --part "$PART" --dry-run "$DRY" --cap "$CAP" --started "$START" --pack "$PACK" >>"$LOG" 2>&1 ||
    say "report assembly failed (see above)"
}

# run_step NAME CAP_SECONDS LOGFILE CMD...: runs CMD (stdout to $STEPS/NAME.out, stdout and
# stderr appended to OUT/LOGFILE) under min(CAP, time left), records status (ok, failed,
# capped, skipped), rc and seconds, and rewrites the report.
run_step() {
  local name=$1 cap=$2 logfile=$3
  shift 3
  local now left status rc t0 t1
  now=$(date +%s)
  left=$((DEADLINE - now))
  [ "$cap" -gt "$left" ] && cap=$left
  printf '%s\n' "$*" > "$STEPS/$name.cmd"
  if [ "$cap" -lt 5 ]; then
    say "$name: skipped, the part's time cap is reached"
    echo "skipped 0 0 $logfile" > "$STEPS/$name.status"
    report
    return 0
  fi
  say "$name (cap ${cap}s): $*"
  { echo; echo "===== $name: $*"; } >> "$OUT/$logfile"
  t0=$(date +%s.%N)
  # SIGINT at the cap: `sac train` then writes a checkpoint and exits; -k: a hard kill 20 s later.
  # --foreground: the signal goes to the command alone; without it timeout sends it to the
  # command and again to its process group, and `sac train` takes a second signal as "exit at
  # once, no checkpoint" whenever its handler ran between the two
  timeout --foreground -k 20 -s INT "$cap" "$@" > "$STEPS/$name.out" 2>> "$OUT/$logfile"
  rc=$?
  t1=$(date +%s.%N)
  cat "$STEPS/$name.out" >> "$OUT/$logfile"
  case $rc in
    0) status=ok ;;
    124|137) status=capped ;;  # timeout's codes: the cap was hit (the output may still be whole)
    *) status=failed ;;
  esac
  echo "$status $rc $(awk "BEGIN { print $t1 - $t0 }") $logfile" > "$STEPS/$name.status"
  say "$name: $status (rc $rc)"
  report
  return 0
}

# mark_unavailable NAME LOGFILE WHY CMD...: a step that cannot run here, recorded with the reason
mark_unavailable() {
  local name=$1 logfile=$2 why=$3
  shift 3
  echo "$why" > "$STEPS/$name.out"
  printf '%s\n' "$*" > "$STEPS/$name.cmd"
  echo "unavailable 0 0 $logfile" > "$STEPS/$name.status"
  say "$name: unavailable: $why"
}

# ---- facts and the binaries --------------------------------------------------------------------

facts() {
  {
    echo "hostname=$(hostname)"
    echo "cpus=$(nproc)"
    echo "memory_gib=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    [ -r /etc/os-release ] && echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
    if command -v nvidia-smi >/dev/null; then
      echo "gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
      echo "driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
      echo "gpu_memory=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader | head -1)"
      echo "clocks_sm_mhz=$(nvidia-smi --query-gpu=clocks.sm --format=csv,noheader,nounits | head -1)"
      echo "clocks_max_sm_mhz=$(nvidia-smi --query-gpu=clocks.max.sm --format=csv,noheader,nounits | head -1)"
      echo "clocks_mem_mhz=$(nvidia-smi --query-gpu=clocks.mem --format=csv,noheader,nounits | head -1)"
      echo "cuda_driver_api=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)"
    else
      echo "gpu=none (no nvidia-smi)"
    fi
    command -v nvcc >/dev/null && echo "nvcc=$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
    echo "python=$("$PYTHON" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)"
    echo "torch=$("$PYTHON" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null || echo none)"
    echo "safetensors=$("$PYTHON" -c 'import safetensors; print(safetensors.__version__)' 2>/dev/null || echo none)"
    echo "compute_sanitizer=$(command -v compute-sanitizer || echo none)"
  } > "$STEPS/facts.txt"
}

# dpkg -x where dpkg exists, else ar + tar (the data member of a .deb)
unpack_deb() {
  local deb=$1 dest=$2
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$dest"; return; fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$dest")
  rm -rf "$tmp"
}

# The Debian runtime libraries of the pack into a private prefix (never into /), then the
# carried binaries; if they cannot start, a build from the source tree with the packed headers.
setup_binaries() {
  local deps=$KEEP/deps lib
  if [ ! -f "$deps/.unpacked" ]; then
    rm -rf "$deps" && mkdir -p "$deps"
    for deb in "$PACK"/debs/*.deb; do unpack_deb "$deb" "$deps" >>"$LOG" 2>&1; done
    touch "$deps/.unpacked"
  fi
  lib=$deps/usr/lib/x86_64-linux-gnu
  # OpenBLAS lives in a sub-folder that update-alternatives would link; link it plainly
  for so in "$lib"/openblas-pthread/lib*.so*; do [ -e "$so" ] && ln -sf "$so" "$lib/$(basename "$so")"; done
  local cuda_libs=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do [ -d "$d" ] && cuda_libs="$cuda_libs:$d"; done
  # MuJoCo from the pack (the binaries' rpath names the packing machine's folder)
  export LD_LIBRARY_PATH="$PACK/mujoco:$lib$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local build=$KEEP/build
  local candidates=("$PACK/bin" "$build")
  # CAMPAIGN_FORCE_REBUILD=1 tries the fallback build even where the carried binaries start
  [ "${CAMPAIGN_FORCE_REBUILD:-0}" = 1 ] && candidates=("$build")
  for BIN in "${candidates[@]}"; do
    if "$BIN/sac" envs >>"$LOG" 2>&1 && "$BIN/sac_tests" --gtest_list_tests >/dev/null 2>>"$LOG"; then
      say "binaries: $BIN"
      if [ "$BIN" = "$PACK/bin" ]; then echo "mode=carried" > "$STEPS/build.txt"
      else echo "mode=rebuilt (by an earlier part, in $build)" > "$STEPS/build.txt"; fi
      return 0
    fi
  done
  BIN=$PACK/bin
  say "the carried binaries do not start here (see $LOG); building from $REPO"
  {
    echo "mode=rebuilt"
    echo "reason=$("$BIN/sac" envs 2>&1 | head -c 300 | tr '\n' ' ')"
  } > "$STEPS/build.txt"
  [ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
  if cmake -S "$REPO" -B "$build" -G Ninja -DCMAKE_PREFIX_PATH="$deps/usr" -DSAC_BUILD_PYTHON=OFF \
       "-DSAC_MUJOCO_ROOT=$PACK/mujoco" \
       -DSAC_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >>"$LOG" 2>&1 &&
     cmake --build "$build" -j "$(nproc)" --target sac sac_tests sac_bench_kernels >>"$LOG" 2>&1; then
    BIN=$build
    say "rebuilt in $build"
  else
    echo "mode=failed" >> "$STEPS/build.txt"
    say "the build failed (see $LOG)"
  fi
}

# ---- the parts ---------------------------------------------------------------------------------

part_checks() {
  local device=cuda cuda_filter='*Cuda*:*/cuda' require=1
  # the ops of SAC's follow-ups (REDQ, CrossQ, TQC): shared-memory trees and sorts, checked for
  # out-of-bounds accesses and shared-memory races
  local follow_up_ops='CudaSubsetMin.*:CudaBatchRenorm.*:CudaQuantileHuber.*:CudaSortTruncate.*'
  local memcheck_filter='CudaBackendTest.*Loss*:CudaBackendTest.Adam*:CudaBackendTest.GatherRows*:CudaBackendTest.TanhGaussian*:CudaGraphTest.RecordedMatchesEagerBitForBit:'"$follow_up_ops"
  local racecheck_filter='CudaBackendTest.*Loss*:CudaBackendTest.LinearBackwardIsDeterministic:'"$follow_up_ops"
  local lt_filter='*FusedOps*/cuda:CudaGraphTest.*:CudaBackendTest.Linear*'
  # conformance: the GPU-only checks and their CPU twins (the report turns them into pass/fail
  # lines: campaign_report.py CONFORMANCE)
  local conformance_filter='GemmConformance.*:GemmPlan.*:MatmulPrecision.*:Devices/DivergenceGuard.*/cuda:CudaGraphTest.AnExceptionInsideARecordingLeavesTheBackendUsable:CudaBackendTest.LinearGradInputRefusesAMaskNoForwardWrote'
  local batches="256 1024 4096" seconds=3 eager_updates=1500 graph_updates=4000
  local env=HalfCheetah-v5 steps1=20000 steps64=200000 envs64=64 threads=16 env_steps=2000
  local seed_counts="1 8 32" seeds_train=8 steps_seeds=5000
  if [ $DRY = 1 ]; then
    # the CPU twins of the GPU checks, tiny
    device=cpu require=0
    cuda_filter='*RecordedUpdate*/cpu:RecordedUpdateAgent.*:Threads/GoldenUpdate.*:CudaRequirement.*'
    lt_filter='*FusedOps*/cpu:UpdateShape.*'
    conformance_filter='GemmPlan.*:MatmulPrecision.*:Devices/DivergenceGuard.*/cpu'
    batches="64" seconds=0.5 eager_updates=20 graph_updates=20
    env=Pendulum-v1 steps1=300 steps64=800 envs64=8 threads=2 env_steps=100
    seed_counts="1 2" seeds_train=2 steps_seeds=300
  fi
  local tests_env=(env SAC_REQUIRE_GPU=$require)

  run_step cuda_tests 120 tests.log "${tests_env[@]}" "$BIN/sac_tests" --gtest_filter="$cuda_filter" \
    --gtest_output=json:"$STEPS/cuda_tests.json"
  run_step conformance 60 tests.log "${tests_env[@]}" "$BIN/sac_tests" \
    --gtest_filter="$conformance_filter" --gtest_output=json:"$STEPS/conformance.json"
  # then the figures, then the slower checks: a part stopped at its cap keeps what matters most
  run_step kernels 45 bench.log "${tests_env[@]}" "$BIN/sac_bench_kernels" --warmup 20 --iters 200 --repeats 3
  for b in $batches; do
    run_step "update_ours_b$b" 25 bench.log "$BIN/sac" bench update --env HalfCheetah-v5 \
      --batch "$b" --device "$device" --seconds "$seconds"
    local eager=("$PYTHON" "$PACK/bench/torch_sac.py" --bench --env HalfCheetah-v5 --batch "$b"
                 --device "$device" --updates "$eager_updates")
    local graph=("$PYTHON" "$PACK/bench/torch_sac.py" --bench --env HalfCheetah-v5 --batch "$b"
                 --device cuda --compile-graph --updates "$graph_updates")
    if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
      mark_unavailable "update_torch_eager_b$b" bench.log "$PYTHON cannot import torch" "${eager[@]}"
      mark_unavailable "update_torch_graph_b$b" bench.log "$PYTHON cannot import torch" "${graph[@]}"
      continue
    fi
    run_step "update_torch_eager_b$b" 40 bench.log "${eager[@]}"
    if [ $DRY = 1 ]; then
      mark_unavailable "update_torch_graph_b$b" bench.log "dry run: CUDA graphs need a GPU" "${graph[@]}"
    else
      run_step "update_torch_graph_b$b" 40 bench.log "${graph[@]}"
    fi
  done
  # tensor cores: the same update in TF32 at the paper's batch
  run_step update_ours_tf32_b256 25 bench.log "$BIN/sac" bench update --env HalfCheetah-v5 \
    --batch 256 --device "$device" --seconds "$seconds" --precision tf32
  run_step train_bench_1env 60 bench.log "$BIN/sac" bench train --env "$env" --steps "$steps1" \
    --device "$device" --num-envs 1 --updates-per-step 1
  run_step train_bench_64env 60 bench.log "$BIN/sac" bench train --env "$env" --steps "$steps64" \
    --device "$device" --num-envs "$envs64" --env-threads "$threads" \
    --updates-per-step "$("$PYTHON" -c "print(1 / $envs64)")"
  # many seeds as members of one agent (goal: 32 seeds in at most 2x the time of one), and a
  # training loop of several seeds, 1 env each, ratio 1
  for s in $seed_counts; do
    run_step "update_seeds_$s" 25 bench.log "$BIN/sac" bench update --env HalfCheetah-v5 \
      --batch 256 --device "$device" --seconds "$seconds" --seeds "$s"
  done
  run_step "train_bench_seeds" 60 bench.log "$BIN/sac" bench train --env "$env" \
    --steps "$steps_seeds" --device "$device" --num-envs 1 --updates-per-step 1 \
    --seeds "$seeds_train"
  for task in HalfCheetah-v5 Hopper-v5 Ant-v5; do
    run_step "env_bench_$task" 25 bench.log "$BIN/sac" bench env --env "$task" \
      --num-envs "$envs64" --threads "$threads" --steps "$env_steps"
  done

  if [ $DRY = 0 ] && command -v compute-sanitizer >/dev/null; then
    run_step memcheck 75 sanitizer.log "${tests_env[@]}" compute-sanitizer --tool memcheck \
      --error-exitcode 99 "$BIN/sac_tests" --gtest_filter="$memcheck_filter"
    run_step racecheck 60 sanitizer.log "${tests_env[@]}" compute-sanitizer --tool racecheck \
      --error-exitcode 99 "$BIN/sac_tests" --gtest_filter="$racecheck_filter"
  else
    local why="compute-sanitizer is not on PATH"
    [ $DRY = 1 ] && why="dry run: no GPU to check"
    for tool in memcheck racecheck; do
      mark_unavailable "$tool" sanitizer.log "$why" compute-sanitizer --tool "$tool"
    done
  fi
  run_step debug_sync_tests 120 tests.log "${tests_env[@]}" SAC_CUDA_DEBUG_SYNC=1 "$BIN/sac_tests" \
    --gtest_filter="$cuda_filter" --gtest_output=json:"$STEPS/debug_sync_tests.json"
  # the cuBLAS fallback of the fused GEMM epilogues (taken where cuBLASLt has no algorithm)
  run_step no_lt_tests 60 tests.log "${tests_env[@]}" SAC_CUBLASLT=0 "$BIN/sac_tests" \
    --gtest_filter="$lt_filter" --gtest_output=json:"$STEPS/no_lt_tests.json"
}

part_train() {
  local run_dir=$REPO/runs/gpu-campaign-halfcheetah config=$PACK/configs/halfcheetah.json
  local train_cap=${TRAIN_SECONDS:-360}
  local sets=(--set device=cuda --set train.total_steps=1000000 --set train.checkpoint_every=50000)
  if [ $DRY = 1 ]; then
    run_dir=$REPO/runs/gpu-campaign-dry-run config=$PACK/configs/pendulum.json
    train_cap=${TRAIN_SECONDS:-12}
    sets=(--set device=cpu --set train.total_steps=1000000 --set train.checkpoint_every=1000
          --set "sac.hidden=[32,32]" --set sac.batch_size=32 --set train.warmup_steps=200
          --set train.eval_every=2000 --set train.eval_episodes=2)
  fi
  echo "$run_dir" > "$STEPS/train_run_dir.txt"
  if [ -f "$run_dir/config.json" ]; then
    say "resuming the run in $run_dir"
    run_step train "$train_cap" train.log "$BIN/sac" train --resume "$run_dir" \
      --set train.total_steps=1000000 --quiet
  else
    mkdir -p "$(dirname "$run_dir")"
    run_step train "$train_cap" train.log "$BIN/sac" train "$config" "${sets[@]}" \
      --run-dir "$run_dir" --quiet
  fi
  # the files a user loads: the latest checkpoint (main and replay file) and the policy
  local files=()
  local latest
  latest=$(ls -1 "$run_dir"/checkpoints/*.safetensors 2>/dev/null | grep -v replay | sort | tail -1)
  [ -n "$latest" ] && files+=("$latest")
  [ -n "$latest" ] && [ -f "${latest%.safetensors}.replay.safetensors" ] &&
    files+=("${latest%.safetensors}.replay.safetensors")
  [ -f "$run_dir/policy.safetensors" ] && files+=("$run_dir/policy.safetensors")
  if [ ${#files[@]} -gt 0 ]; then
    run_step safetensors_load 60 train.log "$PYTHON" "$PACK/tests/check_safetensors.py" "${files[@]}"
  else
    echo "no checkpoint or policy file in $run_dir" > "$STEPS/safetensors_load.out"
    echo "check_safetensors.py (nothing to load)" > "$STEPS/safetensors_load.cmd"
    echo "failed 1 0 train.log" > "$STEPS/safetensors_load.status"
  fi
  if [ -s "$run_dir/eval.csv" ]; then
    run_step plot 20 train.log "$BIN/sac" plot "$run_dir" -o "$OUT/learning_curve.svg"
  fi
  # the run's small files come back (its checkpoints stay on the machine for a resume)
  tar -czf "$OUT/train_run.tar.gz" -C "$(dirname "$run_dir")" \
    --exclude=checkpoints "$(basename "$run_dir")" 2>>"$LOG"
}

say "campaign part '$PART'$([ $DRY = 1 ] && echo ' (dry run)'), cap ${CAP}s, pack $PACK, source $REPO"
facts
report
setup_binaries
report
if [ -n "${BIN:-}" ] && [ -x "$BIN/sac" ]; then
  "part_$PART"
fi
report
# logs stay under the 16 MiB a returned file may have
for f in "$OUT"/*.log; do
  [ "$(stat -c %s "$f")" -gt 15000000 ] && { tail -c 15000000 "$f" > "$f.tmp" && mv "$f.tmp" "$f"; }
done
strict=()
[ $DRY = 1 ] && strict=(--strict)  # the dry run has no GPU to blame: any failed step is a bug
"$PYTHON" "$PACK/bench/campaign_report.py" check "$OUT/report.json" --part "$PART" "${strict[@]}" |
  tee -a "$LOG"
verdict=${PIPESTATUS[0]}
rm -rf "$WORK"
say "done in $(( $(date +%s) - START ))s; report: $OUT/report.json"
exit "$verdict"
