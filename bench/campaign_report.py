#!/usr/bin/env python3
"""campaign_report.py: the GPU campaign's report (bench/gpu_campaign.sh).

    campaign_report.py assemble STEPS_DIR OUT/report.json --part P --dry-run 0|1 --cap S \
        --started EPOCH --pack PACK_DIR
    campaign_report.py check OUT/report.json --part checks|train [--strict]

`assemble` reads what the campaign's steps left in STEPS_DIR (NAME.cmd: the command, NAME.status:
"status rc seconds logfile", NAME.out: its stdout; facts.txt, build.txt; gtest JSON files) and
writes one JSON object: every figure beside the command that produced it, test counts,
pass/fail, the sanitizer verdicts and the conformance part's pass/fail lines (CONFORMANCE). It
is rerun after every step, so a part stopped at its cap still leaves a report of what ran. `check` exits 1 and names every field the part's report lacks
(a field may hold null or a status saying why a figure is missing, but it must be there);
with --strict (the dry run) a failed step or conformance line fails the check too. `check`
prints the conformance lines.
"""
import argparse
import json
import os
import re
import sys
import time

BATCHES = ("256", "1024", "4096")
ENV_TASKS = ("HalfCheetah-v5", "Hopper-v5", "Ant-v5")


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def key_values(text):
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def json_lines(text):
    """Every line of `text` that parses as a JSON object."""
    objs = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objs.append(json.loads(line))
            except ValueError:
                pass
    return objs


def step(steps_dir, name):
    """The record of one step: command, status, rc, seconds, log, and its stdout's last JSON."""
    status_line = read(os.path.join(steps_dir, name + ".status")).split()
    if not status_line:
        ran = os.path.exists(os.path.join(steps_dir, name + ".cmd"))
        return {"name": name, "status": "running" if ran else "not run",
                "command": read(os.path.join(steps_dir, name + ".cmd")).strip() or None}
    status, rc, seconds, log = (status_line + ["", "", "", ""])[:4]
    out = read(os.path.join(steps_dir, name + ".out"))
    lines = json_lines(out)
    rec = {"name": name, "status": status, "rc": int(rc) if rc.lstrip("-").isdigit() else None,
           "seconds": float(seconds) if re.match(r"^[0-9.]+$", seconds) else None,
           "log": log, "command": read(os.path.join(steps_dir, name + ".cmd")).strip()}
    rec["result"] = lines[-1] if lines else None
    if not lines and status not in ("ok",):
        rec["output_tail"] = out[-600:]
    return rec


def gtest_counts(steps_dir, name):
    """Counts from the gtest JSON file of step `name` (None when it never got written)."""
    text = read(os.path.join(steps_dir, name + ".json"))
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    counts = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "failed_names": [],
              "skipped_names": []}
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            full = suite.get("name", "?") + "." + t.get("name", "?")
            counts["tests"] += 1
            if t.get("failures"):
                counts["failed"] += 1
                counts["failed_names"].append(full)
            elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                counts["skipped"] += 1
                counts["skipped_names"].append(full)
            else:
                counts["passed"] += 1
    return counts


def gtest_results(steps_dir, name):
    """{suite.test: "passed" | "failed" | "skipped"} from the gtest JSON file of step `name`."""
    try:
        data = json.loads(read(os.path.join(steps_dir, name + ".json")) or "{}")
    except ValueError:
        return {}
    out = {}
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            full = suite.get("name", "?") + "." + t.get("name", "?")
            if t.get("failures"):
                out[full] = "failed"
            elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                out[full] = "skipped"
            else:
                out[full] = "passed"
    return out


# The conformance part's pass/fail lines: each check is the gtest tests whose full names start
# with one of its prefixes (GPU run, dry run); "unavailable" where none ran (a dry run has no GPU)
CONFORMANCE = [
    ("lt_plan_logic", "alignment preferences, split-K-free choice, path counts, mask registry "
     "(CPU)", ("GemmPlan.",), ("GemmPlan.",)),
    ("lt_plans", "cuBLASLt plans of every task's update at batches 1, 7, 50, 256 and of operands "
     "offset by 4 bytes (fused or fallback, and why)", ("GemmConformance.LtPlans",), ()),
    ("epilogues_vs_fallback", "each epilogue against the cuBLAS fallback on the same inputs, NaN "
     "included", ("GemmConformance.EpiloguesMatchTheFallback",), ()),
    ("capture_rules", "one captured update: no allocation, free or host node, all lanes joined, "
     "replays to the eager bits", ("GemmConformance.CaptureOfOneUpdateFollowsTheRules",), ()),
    ("recording_exception", "an exception inside a recording leaves the backend usable",
     ("CudaGraphTest.AnExceptionInsideARecordingLeavesTheBackendUsable",), ()),
    ("relu_mask_registry", "a DRELU with no recorded mask is refused",
     ("CudaBackendTest.LinearGradInputRefusesAMaskNoForwardWrote",),
     ("GemmPlan.ReluMaskRegistry",)),
    ("nan_weight_guard", "a NaN weight stops the run naming it",
     ("Devices/DivergenceGuard.",), ("Devices/DivergenceGuard.",)),
    ("matmul_precision_per_agent", "two agents on one backend each use their own precision",
     ("MatmulPrecision.",), ("MatmulPrecision.",)),
]


def tests_verdict(results, prefixes):
    ran = {n: r for n, r in results.items() if any(n.startswith(p) for p in prefixes)}
    failed = sorted(n for n, r in ran.items() if r == "failed")
    passed = sorted(n for n, r in ran.items() if r == "passed")
    if failed:
        return "fail", "failed: " + ", ".join(failed)
    if passed:
        return "pass", "%d passed" % len(passed)
    if ran:
        return "unavailable", "skipped: " + ", ".join(sorted(ran))
    return "unavailable", "not run"


def fused_path_verdict(steps_dir, plan_lines):
    """Every GEMM of the HalfCheetah update through cuBLASLt: `sac bench update`'s gemm_paths at
    each batch (fallback_total 0, cublaslt_total > 0), and the HalfCheetah-v5 batch-256 plan line."""
    seen, bad = [], []
    names = sorted(f[:-4] for f in os.listdir(steps_dir) if f.endswith(".cmd"))
    for n in names:
        if not (n.startswith("update_ours_b") or n.startswith("update_ours_tf32")):
            continue
        res = step(steps_dir, n).get("result") or {}
        paths = res.get("gemm_paths")
        if paths is None:
            continue
        seen.append({"step": n, "gemm_paths": paths})
        if paths.get("fallback_total", 1) != 0 or not paths.get("cublaslt_total"):
            bad.append(n)
    for ln in plan_lines:
        if ln.get("task") == "HalfCheetah-v5" and ln.get("batch") == 256:
            paths = ln.get("gemm_paths") or {}
            seen.append({"step": "lt_plan HalfCheetah-v5 b256", "gemm_paths": paths})
            if paths.get("fallback_total", 1) != 0 or not paths.get("cublaslt_total"):
                bad.append("lt_plan HalfCheetah-v5 b256")
    if not seen:
        return {"check": "fused_path_counters", "verdict": "unavailable",
                "what": "every GEMM of the HalfCheetah update through cuBLASLt (fallbacks 0)",
                "detail": "no GEMM path counts (they exist on the CUDA backend only)", "counts": []}
    return {"check": "fused_path_counters", "verdict": "fail" if bad else "pass",
            "what": "every GEMM of the HalfCheetah update through cuBLASLt (fallbacks 0)",
            "detail": ("fallbacks in: " + ", ".join(bad)) if bad else "%d counts, no fallback" % len(seen),
            "counts": seen}


def conformance_section(steps_dir, dry):
    rec = step(steps_dir, "conformance")
    results = gtest_results(steps_dir, "conformance")
    out = json_lines(read(os.path.join(steps_dir, "conformance.out")))
    marked = [o for o in out if "conformance" in o]
    plan_lines = [o for o in marked if o["conformance"] == "lt_plan"]
    lines = []
    for name, what, gpu_prefixes, dry_prefixes in CONFORMANCE:
        prefixes = dry_prefixes if dry else gpu_prefixes
        if not prefixes:
            lines.append({"check": name, "what": what, "verdict": "unavailable",
                          "detail": "dry run: needs a GPU"})
            continue
        verdict, detail = tests_verdict(results, prefixes)
        lines.append({"check": name, "what": what, "verdict": verdict, "detail": detail})
    lines.append(fused_path_verdict(steps_dir, plan_lines))
    # the plans themselves: fused or fallback, and why, per task and batch
    plans = []
    for ln in plan_lines:
        paths = ln.get("gemm_paths") or {}
        plans.append({"task": ln.get("task"), "batch": ln.get("batch"),
                      "path": "fused" if paths.get("fallback_total") == 0 else "fallback",
                      "cublaslt": paths.get("cublaslt"), "fallback": paths.get("fallback")})
    return {"command": rec.get("command"), "status": rec["status"],
            "counts": gtest_counts(steps_dir, "conformance"), "lines": lines, "plans": plans,
            "offset_plans": [o for o in marked if o["conformance"] == "lt_plan_offset"],
            "epilogues": [o for o in marked if o["conformance"] == "epilogue_vs_fallback"],
            "capture": next((o for o in marked if o["conformance"] == "capture"), None)}


def sanitizer_verdict(steps_dir, name):
    rec = step(steps_dir, name)
    out = read(os.path.join(steps_dir, name + ".out"))
    verdict = {"command": rec.get("command"), "status": rec["status"], "errors": None}
    m = re.findall(r"ERROR SUMMARY: (\d+) error", out)
    hazards = re.findall(r"RACECHECK SUMMARY: (\d+) hazard", out)
    if rec["status"] in ("unavailable", "not run", "running", "skipped"):
        verdict["verdict"] = "unavailable" if rec["status"] == "unavailable" else rec["status"]
        verdict["detail"] = out.strip()[:300] or rec["status"]
    elif re.search(r"Device not supported|not supported on this|Unable to find|no CUDA-capable|"
                   r"CUDA_ERROR_NO_DEVICE|Target application terminated before", out) and not m:
        verdict["verdict"] = "unavailable"
        verdict["detail"] = "the tool could not run on this device: " + out.strip()[-300:]
    elif m:
        errors = int(m[-1]) + (int(hazards[-1]) if hazards else 0)
        verdict["errors"] = errors
        verdict["verdict"] = "clean" if errors == 0 and rec["rc"] == 0 else "errors"
        if errors == 0 and rec["rc"] != 0:
            verdict["detail"] = "no sanitizer errors, but the tests under it failed (rc %s)" % rec["rc"]
    else:
        verdict["verdict"] = "capped" if rec["status"] == "capped" else "no summary"
        verdict["detail"] = out.strip()[-300:]
    return verdict


def update_rows(steps_dir):
    rows = []
    for b in BATCHES if any(os.path.exists(os.path.join(steps_dir, "update_ours_b%s.cmd" % b))
                            for b in BATCHES) else ("64",):
        ours = step(steps_dir, "update_ours_b" + b)
        eager = step(steps_dir, "update_torch_eager_b" + b)
        graph = step(steps_dir, "update_torch_graph_b" + b)

        def ups(rec):
            r = rec.get("result") or {}
            return r.get("updates_per_second")

        row = {"batch": int(b), "ours": ours, "torch_eager": eager, "torch_graph": graph,
               "ours_updates_per_second": ups(ours),
               "torch_eager_updates_per_second": ups(eager),
               "torch_graph_updates_per_second": ups(graph)}
        row["ratio_vs_torch_eager"] = ups(ours) / ups(eager) if ups(ours) and ups(eager) else None
        row["ratio_vs_torch_graph"] = ups(ours) / ups(graph) if ups(ours) and ups(graph) else None
        rows.append(row)
    return rows


def train_section(steps_dir):
    rec = step(steps_dir, "train")
    run_dir = read(os.path.join(steps_dir, "train_run_dir.txt")).strip()
    res = rec.get("result") or {}
    sec = {"command": rec.get("command"), "status": rec["status"], "run_dir": run_dir,
           "summary_line": res or None}
    steps = res.get("steps")
    csv = read(os.path.join(run_dir, "eval.csv")).splitlines()
    header = csv[0].split(",") if csv else []
    eval_rows = []
    for line in csv[1:]:
        try:
            eval_rows.append(dict(zip(header, (float(c) for c in line.split(",")))))
        except ValueError:
            pass
    sec["eval"] = eval_rows
    returns = [r["mean_return"] for r in eval_rows if "mean_return" in r]
    sec["last_eval_return"] = returns[-1] if returns else None
    sec["best_eval_return"] = max(returns, default=None)
    checkpoints = sorted(f for f in os.listdir(os.path.join(run_dir, "checkpoints"))
                         if f.endswith(".safetensors") and "replay" not in f) \
        if os.path.isdir(os.path.join(run_dir, "checkpoints")) else []
    sec["checkpoints"] = checkpoints
    sec["steps_reached"] = steps
    resumed_from = res.get("resumed_from_step")
    sec["resumed_from"] = resumed_from
    sec["interrupted_at_cap"] = res.get("interrupted")
    wall = rec.get("seconds")
    sec["segment_wall_seconds"] = wall
    done_here = (steps - max(resumed_from or 0, 0)) if steps is not None else None
    sec["segment_env_steps"] = done_here
    sec["segment_env_steps_per_second"] = done_here / wall if done_here and wall else None
    sec["extrapolated_seconds_to_1M_steps"] = 1e6 * wall / done_here if done_here and wall else None
    load = step(steps_dir, "safetensors_load")
    out = read(os.path.join(steps_dir, "safetensors_load.out"))
    loader = re.search(r"loader: (.*)", out)
    sec["safetensors_load"] = {"command": load.get("command"), "status": load["status"],
                               "loader": loader.group(1) if loader else None,
                               "files": re.findall(r"^(\S+\.safetensors): \d+ tensors", out, re.M),
                               "checksums_ok": len(re.findall(r"checksum \S+: ok", out)),
                               "checksum_mismatches": len(re.findall(r"MISMATCH", out))}
    sec["plot"] = step(steps_dir, "plot")
    return sec


def assemble(args):
    d = args.steps_dir
    now = time.time()
    report = {
        "campaign": {"part": args.part, "dry_run": args.dry_run == "1", "cap_seconds": args.cap,
                     "started_unix": int(args.started), "updated_unix": int(now),
                     "wall_seconds": round(now - int(args.started), 1),
                     "pack": json.loads(read(os.path.join(args.pack, "manifest.json"), "null"))},
        "facts": key_values(read(os.path.join(d, "facts.txt"))),
        "build": key_values(read(os.path.join(d, "build.txt"))),
    }
    names = sorted(f[:-4] for f in os.listdir(d) if f.endswith(".cmd"))
    report["steps"] = [{k: v for k, v in step(d, n).items() if k != "result"} for n in names]
    report["cap_hit"] = any(s["status"] in ("capped", "skipped") for s in report["steps"])
    if args.part == "checks":
        report["tests"] = {"cuda": {"command": step(d, "cuda_tests").get("command"),
                                    "status": step(d, "cuda_tests")["status"],
                                    "counts": gtest_counts(d, "cuda_tests")},
                           "debug_sync": {"command": step(d, "debug_sync_tests").get("command"),
                                          "status": step(d, "debug_sync_tests")["status"],
                                          "counts": gtest_counts(d, "debug_sync_tests")}}
        report["sanitizers"] = {t: sanitizer_verdict(d, t) for t in ("memcheck", "racecheck")}
        kern = step(d, "kernels")
        report["kernels"] = {"command": kern.get("command"), "status": kern["status"],
                             "lines": json_lines(read(os.path.join(d, "kernels.out")))}
        report["update"] = update_rows(d)
        report["update_tf32_b256"] = step(d, "update_ours_tf32_b256")
        report["tests"]["no_cublaslt"] = {"command": step(d, "no_lt_tests").get("command"),
                                          "status": step(d, "no_lt_tests")["status"],
                                          "counts": gtest_counts(d, "no_lt_tests")}
        report["train_bench"] = {n: step(d, "train_bench_" + n) for n in ("1env", "64env", "seeds")}
        report["seed_updates"] = sorted(
            (dict(step(d, n), seeds=int(n[len("update_seeds_"):])) for n in names
             if n.startswith("update_seeds_")), key=lambda r: r["seeds"])
        report["env_bench"] = {t: step(d, "env_bench_" + t) for t in ENV_TASKS}
        report["conformance"] = conformance_section(d, args.dry_run == "1")
    else:
        report["train"] = train_section(d)
    tmp = args.report + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.report)


# the fields every report of a part must hold (dotted paths; "[]" = every element)
REQUIRED = {
    "common": ["campaign.part", "campaign.dry_run", "campaign.cap_seconds", "campaign.wall_seconds",
               "campaign.pack", "facts.cpus", "facts.gpu", "build.mode", "steps", "cap_hit"],
    "checks": ["tests.cuda.command", "tests.cuda.status", "tests.cuda.counts.tests",
               "tests.cuda.counts.passed", "tests.cuda.counts.failed",
               "tests.cuda.counts.skipped", "tests.debug_sync.counts.tests",
               "sanitizers.memcheck.verdict", "sanitizers.racecheck.verdict",
               "kernels.command", "kernels.status", "kernels.lines",
               "update.[].batch", "update.[].ours.command", "update.[].ours_updates_per_second",
               "update.[].torch_eager.command", "update.[].torch_graph.command",
               "update.[].ratio_vs_torch_graph", "update.[].ratio_vs_torch_eager",
               "update.[].ours.result.launches_per_update",
               "update.[].ours.result.critical_path_launches",
               "update_tf32_b256.result.updates_per_second", "tests.no_cublaslt.counts.tests",
               "train_bench.1env.command", "train_bench.1env.result.env_steps_per_second",
               "train_bench.1env.result.stages_seconds",
               "train_bench.64env.command", "train_bench.64env.result.env_steps_per_second",
               "train_bench.seeds.result.env_steps_per_second",
               "seed_updates.[].seeds", "seed_updates.[].result.seed_updates_per_second",
               "env_bench.HalfCheetah-v5.result.env_steps_per_second",
               "env_bench.Hopper-v5.result.env_steps_per_second",
               "env_bench.Ant-v5.result.env_steps_per_second",
               "conformance.command", "conformance.status", "conformance.counts.tests",
               "conformance.lines.[].check", "conformance.lines.[].verdict",
               "conformance.plans", "conformance.epilogues", "conformance.capture"],
    "train": ["train.command", "train.status", "train.run_dir", "train.steps_reached",
              "train.segment_wall_seconds", "train.segment_env_steps_per_second",
              "train.extrapolated_seconds_to_1M_steps", "train.eval", "train.last_eval_return",
              "train.checkpoints", "train.resumed_from", "train.safetensors_load.status",
              "train.safetensors_load.loader"],
}


def missing_fields(obj, path):
    """The dotted paths under `path` that `obj` lacks."""
    parts = path.split(".")

    def walk(o, i, trail):
        if i == len(parts):
            return []
        p = parts[i]
        if p == "[]":
            if not isinstance(o, list) or not o:
                return [".".join(trail + ["[]"]) + " (empty or not a list)"]
            out = []
            for k, e in enumerate(o):
                out += walk(e, i + 1, trail + [str(k)])
            return out
        if not isinstance(o, dict) or p not in o:
            return [".".join(trail + [p])]
        return walk(o[p], i + 1, trail + [p])

    return walk(obj, 0, [])


def check(args):
    try:
        with open(args.report) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print("campaign report %s: unreadable: %s" % (args.report, e))
        return 1
    missing = []
    for path in REQUIRED["common"] + REQUIRED[args.part]:
        missing += missing_fields(report, path)
    failed = [s["name"] for s in report.get("steps", []) if s.get("status") == "failed"]
    if args.strict and failed:
        missing += ["step %s failed (--strict)" % name for name in failed]
    # the conformance part's pass/fail lines (a failed one is a finding, and fails --strict)
    conformance = report.get("conformance") or {}
    for line in conformance.get("lines") or []:
        print("conformance %-28s %-11s %s" % (line.get("check"), line.get("verdict"),
                                                line.get("detail", "")))
        if args.strict and line.get("verdict") == "fail":
            missing.append("conformance check %s failed (--strict)" % line.get("check"))
    if missing:
        print("campaign report %s: %d missing fields:" % (args.report, len(missing)))
        for m in missing:
            print("  " + m)
        return 1
    print("campaign report %s: every field present; %d steps, failed: %s" %
          (args.report, len(report.get("steps", [])), ", ".join(failed) or "none"))
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("assemble")
    a.add_argument("steps_dir")
    a.add_argument("report")
    a.add_argument("--part", choices=("checks", "train"), required=True)
    a.add_argument("--dry-run", default="0")
    a.add_argument("--cap", type=int, default=0)
    a.add_argument("--started", default=str(int(time.time())))
    a.add_argument("--pack", default=".")
    c = sub.add_parser("check")
    c.add_argument("report")
    c.add_argument("--part", choices=("checks", "train"), required=True)
    c.add_argument("--strict", action="store_true", help="a failed step is a missing field too")
    args = p.parse_args(argv)
    if args.cmd == "assemble":
        assemble(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
