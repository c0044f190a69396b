"""sac_engine.train and read_run: the same run as `sac train` with the same config (on the CPU
backend a run is deterministic, so every figure but the timings matches), results as arrays."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import sac_engine
from conftest import PENDULUM_OVERRIDES, ROOT

TIMINGS = {"wall_seconds", "env_steps_per_second", "updates_per_second", "run_dir", "checkpoint"}


def test_train_equals_the_command_line(tmp_path, pendulum_cli_run):
    cli_dir, cli = pendulum_cli_run
    with open(os.path.join(ROOT, "configs", "pendulum.json")) as f:
        config = json.load(f)  # as a dict, with the overrides given as a dict
    summary = sac_engine.train(config, PENDULUM_OVERRIDES, run_dir=tmp_path / "run", progress=False)
    assert set(summary) == set(cli)
    assert {k: v for k, v in summary.items() if k not in TIMINGS} == \
           {k: v for k, v in cli.items() if k not in TIMINGS}
    assert summary["steps"] == 2500 and summary["updates"] == 2000
    assert summary["run_dir"] == str(tmp_path / "run") and not summary["interrupted"]
    assert (tmp_path / "run" / "policy.safetensors").read_bytes() == \
           (cli_dir / "policy.safetensors").read_bytes()

    ours, theirs = sac_engine.read_run(tmp_path / "run"), sac_engine.read_run(cli_dir)
    np.testing.assert_array_equal(ours["eval"]["step"], [1000, 2000, 2500])
    np.testing.assert_array_equal(ours["eval"]["mean_return"], theirs["eval"]["mean_return"])
    # eval.csv holds 6 significant digits
    assert ours["eval"]["mean_return"][-1] == pytest.approx(summary["final_eval_return"], rel=1e-5)
    assert ours["eval"]["mean_return"].dtype == np.float64
    m = ours["metrics"]
    np.testing.assert_array_equal(m["step"], [500, 1000, 1500, 2000, 2500])
    assert np.isnan(m["critic_loss"][0]) and np.isfinite(m["critic_loss"][1:]).all()
    np.testing.assert_array_equal(m["critic_loss"], theirs["metrics"]["critic_loss"])
    assert ours["summary"]["steps"] == 2500 and ours["config"]["env"]["id"] == "Pendulum-v1"


def test_bad_config_is_refused_before_any_work(tmp_path):
    with pytest.raises(sac_engine.ConfigError, match="sac.nope"):
        sac_engine.train({"sac": {"nope": 1}}, run_dir=tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="train.total_steps"):
        sac_engine.train(os.path.join(ROOT, "configs", "pendulum.json"),
                         ["train.total_steps=-5"], run_dir=tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(FileNotFoundError):
        sac_engine.read_run(tmp_path)


def test_sigint_stops_with_a_checkpoint(tmp_path):
    # as `sac train`: the first SIGINT ends the run after a checkpoint, and train() returns
    script = f"""
import json, os, signal, sys, threading, time
import sac_engine
# the signal comes from another thread once the run is under way (its config.json is written)
def interrupt():
    while not os.path.exists({str(tmp_path / "run" / "config.json")!r}):
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
s = sac_engine.train({{"env": {{"id": "Pendulum-v1"}}}},
                     {{"device": "cpu", "train.total_steps": 10000000, "train.eval_every": 0,
                       "sac.hidden": [16], "sac.batch_size": 16, "train.threads": 1}},
                     run_dir={str(tmp_path / "run")!r}, progress=False)
print(json.dumps(s))
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["interrupted"] is True and 0 < summary["steps"] < 10000000
    assert os.path.exists(summary["checkpoint"])
    assert "continue with: sac train --resume" in r.stderr
