#!/usr/bin/env bash
# sweep_test.sh SAC_BINARY SOURCE_DIR: `sac sweep` on a real one-node Slurm (Debian's slurm-wlm
# and munge, started here as root on localhost by cluster.sh). A sweep of 2 tasks x 2 settings x
# 2 seeds (seeds_per_run 2: 4 array tasks of tiny runs) goes through sbatch with --max-parallel 2:
#   - task 0 gets SIGTERM mid-run (scancel --full --signal=TERM: every process of the job, as on
#     preemption), checkpoints, is requeued (scontrol requeue) and resumes from its checkpoint;
#   - task 1's batch shell alone gets SIGUSR1 (scancel --batch, as --signal=B:USR1 before a time
#     limit): the script passes it on, the run checkpoints, the task requeues itself and resumes;
#   - task 3's run directory is made unwritable (chattr +i) and shows as failed with its error;
#   - `sac sweep collect` gives the table; every finished run's policies are byte-identical to
#     the same run made by `sac sweep local` and by a plain `sac train` of its config (CPU);
#   - the cluster is shut down and its processes are gone at the end, pass or fail (trap).
# Skips (exit 77) only when slurm-wlm and munge are missing and cannot be installed.
# Run: ctest -L slurm (or: bash tests/slurm/sweep_test.sh build/sac .)
set -uo pipefail
sac=$(readlink -f "$1")
src=$(readlink -f "$2")
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the packages (./sac.sh installs them; a bare ctest may need them installed here)
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
       --no-install-recommends slurm-wlm munge >/dev/null 2>&1; then
    :
  else
    echo "SKIP: slurm-wlm and munge are not installed and cannot be installed here" >&2
    exit 77
  fi
fi
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the one-node cluster runs its daemons as root" >&2; exit 77; }

work=$(mktemp -d /tmp/sac_slurm_XXXXXX)
sweep=$work/sweep
source "$here/cluster.sh"
frozen=""
daemon_pids=""

cleanup() {
  local rc=$?
  [ -n "$frozen" ] && chattr -i "$frozen" 2>/dev/null
  daemon_pids=$(cat "$work"/cluster/slurmctld.pid "$work"/cluster/slurmd.pid \
                    "$work"/cluster/munge/munged.pid 2>/dev/null | tr '\n' ' ')
  cluster_stop
  # the daemons and every process of the sweep are gone
  local left=""
  for pid in $daemon_pids; do kill -0 "$pid" 2>/dev/null && left+=" $pid"; done
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -q "[s]weep run $sweep" && left+=" ${p#/proc/}"
  done
  if [ -n "$left" ]; then
    echo "FAIL: processes left after the cluster stopped:$left" >&2
    ps -o pid,args -p ${left// /,} >&2
    rc=1
  fi
  if [ $rc -eq 0 ]; then
    rm -rf "$work"
  else
    echo "kept for inspection: $work (cluster logs in $work/cluster/log)" >&2
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
cluster_start "$work/cluster" || fail "the cluster did not start"
echo "cluster up in $(( $(date +%s) - t0 )) s"

# ---- the sweep: 2 tasks x 2 settings x 2 seeds, as 4 runs of 2 seeds each
cat > "$work/sweep.json" <<'JSON'
{"grid": {"env.id": ["Pendulum-v1", "InvertedPendulum-v5"], "sac.tau": [0.005, 0.01]},
 "seeds": [1, 2], "seeds_per_run": 2,
 "set": {"device": "cpu", "train.total_steps": 16000, "train.warmup_steps": 500,
         "train.eval_every": 4000, "train.eval_episodes": 2, "train.checkpoint_every": 2000,
         "train.threads": 1, "sac.hidden": [64, 64], "sac.batch_size": 64}}
JSON
"$sac" sweep plan "$work/sweep.json" --out "$sweep" --configs "$src/configs" || fail "sweep plan"
ids=($(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$sweep/plan.jsonl"))
[ ${#ids[@]} -eq 4 ] || fail "the plan has ${#ids[@]} runs, not 4"

# task 3 cannot write its run directory
frozen=$sweep/runs/${ids[3]}
mkdir -p "$frozen"
chattr +i "$frozen" || fail "chattr +i does not work on $(df -T "$work" | tail -1)"

out=$("$sac" sweep slurm "$sweep" --gpus-per-task 0 --max-parallel 2 --time 10:00 --submit) ||
  fail "sweep slurm --submit"
echo "$out"
job=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
grep -q -- '--array=0-3%2' "$sweep/sweep.sbatch" || fail "no --array=0-3%2 in the script"

# the latest step task 0 logged (its seed-1 folder), 0 before any
step_of() {
  python3 -c '
import json, sys
try:
    print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["step"])
except Exception:
    print(0)' "$sweep/runs/${ids[$1]}/seed-1/metrics.jsonl"
}
state_of() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' \
    "$sweep/state/${ids[$1]}.json" 2>/dev/null || echo none
}

# ---- SIGTERM to task 0 and SIGUSR1 to task 1 mid-run (after their first checkpoints)
deadline=$(( $(date +%s) + 90 ))
until [ "$(step_of 0)" -ge 6000 ] && [ "$(step_of 1)" -ge 6000 ]; do
  [ "$(date +%s)" -lt $deadline ] ||
    fail "tasks 0 and 1 did not reach step 6000 (states $(state_of 0), $(state_of 1))"
  sleep 0.2
done
[ "$(state_of 0)" = running ] || fail "task 0 is '$(state_of 0)', not running, at step $(step_of 0)"
[ "$(state_of 1)" = running ] || fail "task 1 is '$(state_of 1)', not running, at step $(step_of 1)"
"$sac" sweep status "$sweep"
# Slurm 22.05's scancel --signal delivers the signal at once, then may hear "Job can not be
# altered now, try again later" and retry for a minute and more: each is given 3 s (side by
# side), and what counts is checked next, the run stopping with a checkpoint.
# SIGUSR1 to task 1's batch shell alone, as --signal=B:USR1 before a time limit: the script
# passes it on, the run checkpoints, and the script requeues the task itself
timeout 3 scancel --batch --signal=USR1 "${job}_1" 2>/dev/null &
# SIGTERM to every process of task 0, as on preemption
timeout 3 scancel --full --signal=TERM "${job}_0" 2>/dev/null &
wait
until [ "$(state_of 0)" = stopped ]; do
  [ "$(date +%s)" -lt $deadline ] || fail "task 0 did not stop after SIGTERM (state $(state_of 0))"
  sleep 0.2
done
stopped_at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$sweep/state/${ids[0]}.json")
[ "$stopped_at" -lt 16000 ] || fail "task 0 was not stopped mid-run (step $stopped_at)"
echo "task 0 stopped at step $stopped_at by SIGTERM"
"$sac" sweep status "$sweep" | grep "\"${ids[0]}\"" | grep -q '"state":"pending"' ||
  fail "a stopped task should show as pending"
# requeue once the array task has left the running state
until scontrol requeue "${job}_0" 2>"$work/requeue.err"; do
  [ "$(date +%s)" -lt $deadline ] || fail "scontrol requeue: $(cat "$work/requeue.err")"
  sleep 0.5
done
# a requeued job waits (BeginTime) before it may start again; let it start now
scontrol update JobId="${job}_0" StartTime=now || fail "scontrol update StartTime=now"
echo "task 0 requeued"

# ---- task 1, after SIGUSR1
until [ "$(state_of 1)" = stopped ]; do
  [ "$(date +%s)" -lt $deadline ] || fail "task 1 did not stop after USR1 (state $(state_of 1))"
  sleep 0.2
done
echo "task 1 stopped at step $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$sweep/state/${ids[1]}.json") by USR1"
until [ "$(squeue -h -j "${job}_1" -o %T 2>/dev/null)" = PENDING ]; do
  [ "$(date +%s)" -lt $deadline ] || fail "task 1 did not requeue itself: $(squeue -j "${job}_1"; cat "$sweep"/logs/*_1.out)"
  sleep 0.2
done
scontrol update JobId="${job}_1" StartTime=now || fail "scontrol update StartTime=now (task 1)"
echo "task 1 requeued itself"

# ---- every array task ends
deadline=$(( $(date +%s) + 150 ))
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
  [ "$(date +%s)" -lt $deadline ] || { squeue -j "$job"; fail "the array did not finish"; }
  sleep 1
done
"$sac" sweep status "$sweep" | tee "$work/status.jsonl"
for k in 0 1 2; do
  [ "$(state_of $k)" = done ] || fail "task $k is '$(state_of $k)', not done; log: $(cat "$sweep"/logs/*_$k.out)"
done
for k in 0 1; do
  grep -q '"resumed_from_step":[1-9]' "$sweep"/logs/*_$k.out ||
    fail "task $k did not resume from a checkpoint: $(cat "$sweep"/logs/*_$k.out)"
done
grep "\"${ids[3]}\"" "$work/status.jsonl" | grep '"state":"failed"' | grep -q "${ids[3]}" ||
  fail "task 3 should show as failed with its error"
grep -q '"counts":{"done":3,"failed":1}' "$work/status.jsonl" || fail "counts: $(tail -1 "$work/status.jsonl")"

"$sac" sweep collect "$sweep" >/dev/null || fail "sweep collect"
grep -q "## Not finished" "$sweep/results.md" || fail "results.md does not list the failed run"
grep -q "${ids[3]} | failed" "$sweep/results.md" || fail "results.md does not name the failed run"
[ "$(grep -c ',done,' "$sweep/results.csv")" -eq 6 ] || fail "results.csv: 6 finished seeds expected"
echo "---- results.md"
cat "$sweep/results.md"
echo "----"

# ---- the same runs by `sac sweep local` and by plain `sac train`: the same policies
"$sac" sweep plan "$work/sweep.json" --out "$work/local" --configs "$src/configs" >/dev/null || fail "plan (local)"
"$sac" sweep local "$work/local" --jobs 2 --gpus 0 >/dev/null || fail "sweep local"
for k in 0 1 2; do
  "$sac" train "$sweep/configs/${ids[$k]}.json" --run-dir "$work/plain-$k" --quiet >/dev/null ||
    fail "sac train of ${ids[$k]}"
  for s in 1 2; do
    a=$sweep/runs/${ids[$k]}/seed-$s/policy.safetensors
    cmp -s "$a" "$work/local/runs/${ids[$k]}/seed-$s/policy.safetensors" ||
      fail "${ids[$k]} seed $s: the Slurm policy differs from sweep local's"
    cmp -s "$a" "$work/plain-$k/seed-$s/policy.safetensors" ||
      fail "${ids[$k]} seed $s: the Slurm policy differs from plain sac train's"
  done
done
echo "policies of 3 runs x 2 seeds byte-identical: Slurm (tasks 0 and 1 stopped and resumed), sweep local, sac train"
echo "PASS in $(( $(date +%s) - t0 )) s"
