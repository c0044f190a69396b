"""Shared fixtures of the sac_engine tests: the `sac` binary (SAC_BINARY, set by ctest; else
build/sac) and small runs made with it, so the module is checked against the command line.
Run: ctest -R python_tests, or PYTHONPATH=build/python python3 -m pytest python/tests"""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# a Pendulum-v1 run small enough for a test: ~2,000 updates of 64x64 networks on one thread
PENDULUM_OVERRIDES = {
    "device": "cpu", "sac.hidden": [64, 64], "sac.batch_size": 64, "train.total_steps": 2500,
    "train.warmup_steps": 500, "train.eval_every": 1000, "train.eval_episodes": 3,
    "train.log_every": 500, "train.threads": 1, "train.seed": 3,
}


def sac_binary():
    path = os.environ.get("SAC_BINARY", os.path.join(ROOT, "build", "sac"))
    if not os.path.exists(path):
        raise RuntimeError(f"the sac binary is not at {path}: build it, or set SAC_BINARY")
    return path


def run_sac(*args):
    """Runs `sac ARGS` and returns its last stdout line as parsed JSON."""
    r = subprocess.run([sac_binary(), *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sac {' '.join(map(str, args))} failed: {r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def set_args(overrides):
    out = []
    for k, v in overrides.items():
        out += ["--set", f"{k}={json.dumps(v)}"]
    return out


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def pendulum_cli_run(tmp_path_factory):
    """(run_dir, printed summary) of `sac train configs/pendulum.json` with PENDULUM_OVERRIDES."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    summary = run_sac("train", os.path.join(ROOT, "configs", "pendulum.json"),
                      *set_args(PENDULUM_OVERRIDES), "--run-dir", run_dir, "--quiet")
    return run_dir, summary


@pytest.fixture(scope="session")
def hopper_policy(tmp_path_factory):
    """policy.safetensors of an untrained Hopper-v5 actor (a run of 8 random warm-up steps): its
    deterministic actions are float32 values in [-1, 1], which the vector env applies exactly."""
    run_dir = tmp_path_factory.mktemp("hopper") / "run"
    run_sac("train", os.path.join(ROOT, "configs", "hopper.json"), "--run-dir", run_dir, "--quiet",
            *set_args({"device": "cpu", "sac.hidden": [32, 32], "sac.batch_size": 8,
                       "train.total_steps": 8, "train.warmup_steps": 8, "train.eval_every": 0,
                       "train.eval_episodes": 1, "train.seed": 5}))
    return run_dir / "policy.safetensors"
