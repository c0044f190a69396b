#!/usr/bin/env bash
# gpu_campaign_dry_run.sh: the GPU campaign kit end to end on a machine without a GPU, as CI
# runs it (ctest: GpuCampaign.DryRun). Packs BUILD_DIR's binaries (bench/gpu_pack.sh), then runs
# the packed campaign.sh --dry-run: the checks part, and the train part twice (the first run is
# stopped by its time cap, the second resumes it). Fails when a part exits non-zero, when a report
# lacks a field (campaign_report.py check --strict: a failed step counts too), when a conformance
# line with a CPU twin does not pass or one that needs a GPU is not "unavailable", when the
# second train part did not resume, or when the pack is over its size limit.
#
# Usage: tests/gpu_campaign_dry_run.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
work=${2:-$build/gpu-campaign-dry-run}
rm -rf "$work"
mkdir -p "$work"
# the pack sits in a copy of the source tree's top level, as .gpu/ does on the GPU machine
mkdir -p "$work/src"
cp -r "$repo/tests" "$work/src/"
"$repo/bench/gpu_pack.sh" "$build" "$work/src/.gpu"

fail() { echo "gpu_campaign_dry_run: $*" >&2; exit 1; }
py=${PYTHON:-python3}
export CAMPAIGN_CAP=150
"$work/src/.gpu/campaign.sh" "$work/checks" --part checks --dry-run || fail "the checks part failed"
TRAIN_SECONDS=8 "$work/src/.gpu/campaign.sh" "$work/train1" --part train --dry-run ||
  fail "the first train part failed"
TRAIN_SECONDS=6 "$work/src/.gpu/campaign.sh" "$work/train2" --part train --dry-run ||
  fail "the second train part failed"

"$py" - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def load(part):
    with open(os.path.join(work, part, "report.json")) as f:
        return json.load(f)
checks, t1, t2 = load("checks"), load("train1"), load("train2")
problems = []
c = checks["tests"]["cuda"]["counts"]
if not c or c["tests"] < 5 or c["failed"] or c["passed"] < 5:
    problems.append("the CPU twin tests did not run and pass: %s" % c)
if not checks["update"] or not checks["update"][0]["ours_updates_per_second"]:
    problems.append("no update figure")
if not checks["train_bench"]["1env"]["result"]["env_steps_per_second"]:
    problems.append("no training-loop figure")
verdicts = {l["check"]: l["verdict"] for l in checks["conformance"]["lines"]}
for name in ("lt_plan_logic", "relu_mask_registry", "nan_weight_guard", "matmul_precision_per_agent"):
    if verdicts.get(name) != "pass":
        problems.append("conformance %s: %s (its CPU twin must pass)" % (name, verdicts.get(name)))
for name in ("lt_plans", "epilogues_vs_fallback", "capture_rules", "recording_exception",
             "fused_path_counters"):
    if verdicts.get(name) != "unavailable":
        problems.append("conformance %s: %s in a dry run (needs a GPU)" % (name, verdicts.get(name)))
if checks["sanitizers"]["memcheck"]["verdict"] != "unavailable":
    problems.append("a dry run cannot have a sanitizer verdict")
if not t1["train"]["checkpoints"] or not t1["train"]["steps_reached"]:
    problems.append("the first train part left no checkpoint: %s" % t1["train"]["status"])
if t1["train"]["status"] != "capped":
    problems.append("the first train part was not stopped by its cap: %s" % t1["train"]["status"])
if not t2["train"]["resumed_from"] or t2["train"]["resumed_from"] <= 0:
    problems.append("the second train part did not resume: %s" % t2["train"]["resumed_from"])
if t2["train"]["steps_reached"] <= t1["train"]["steps_reached"]:
    problems.append("the resumed run did not go on")
if t2["train"]["safetensors_load"]["status"] != "ok" or t2["train"]["safetensors_load"]["checksum_mismatches"]:
    problems.append("the checkpoint did not load: %s" % t2["train"]["safetensors_load"])
if t1["campaign"]["pack"]["size_mib"] > 60:
    problems.append("pack over 60 MiB")
for p in problems:
    print("gpu_campaign_dry_run: " + p)
print("gpu_campaign_dry_run: %s; checks %.0f s, train %.0f + %.0f s, pack %s MiB" % (
    "FAILED" if problems else "every report complete",
    checks["campaign"]["wall_seconds"], t1["campaign"]["wall_seconds"],
    t2["campaign"]["wall_seconds"], t1["campaign"]["pack"]["size_mib"]))
sys.exit(1 if problems else 0)
PY
