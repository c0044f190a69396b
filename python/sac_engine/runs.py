"""sac_engine.read_run(): a run directory's results as numpy arrays."""
import json
import os

import numpy as np


def _read_eval(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    cols = list(zip(*rows)) if rows else [[] for _ in header]
    out = {}
    for name, values in zip(header, cols):
        dtype = np.int64 if name in ("step", "episodes") else np.float64
        out[name] = np.array(values, dtype=dtype)
    return out


def _read_metrics(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    keys = []
    for line in lines:
        keys += [k for k in line if k not in keys]
    # a key a line lacks (e.g. losses before the first update) reads as NaN
    return {k: np.array([line.get(k, np.nan) for line in lines], dtype=np.float64) for k in keys}


def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_run(run_dir):
    """The results of run directory `run_dir`:
    {"eval": {"step", "wall_seconds", "mean_return", "min_return", "max_return", "episodes"},
     "metrics": {"step", "updates", "sps", "critic_loss", ...} (NaN where a line has no value),
     "summary": summary.json as a dict (None while the run has not finished),
     "config": config.json as a dict}. Every curve is a 1-D numpy array, one entry per row."""
    run_dir = os.fspath(run_dir)
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise FileNotFoundError(f"'{run_dir}' holds no config.json: not a run directory")
    return {"eval": _read_eval(os.path.join(run_dir, "eval.csv")),
            "metrics": _read_metrics(os.path.join(run_dir, "metrics.jsonl")),
            "summary": _read_json(os.path.join(run_dir, "summary.json")),
            "config": _read_json(os.path.join(run_dir, "config.json"))}
