"""sac_engine.load_plugin(): a task plugin (include/sac/plugin.h; the test plugins of
tests/plugins/, built into SAC_TEST_PLUGIN_DIR, set by ctest) registers its task, which the vector
env steps and train() trains, also from a config's env.plugins; each refusal is a ValueError
naming the path and the reason, and registers nothing.
Run: ctest -R python_tests, or SAC_TEST_PLUGIN_DIR=build/test_plugins PYTHONPATH=build/python
python3 -m pytest python/tests/test_plugins.py"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import sac_engine
from sac_engine import _core
from conftest import ROOT

TASK = "PluginPointMass-v0"


def plugin(variant):
    folder = os.environ.get("SAC_TEST_PLUGIN_DIR", os.path.join(ROOT, "build", "test_plugins"))
    return os.path.join(folder, f"libsac_test_plugin_{variant}.so")


def fresh_python(code):
    """Runs `code` in a new interpreter (a loaded plugin's task would join env_ids() for every
    later test of this process) and returns its last stdout line as JSON."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_a_plugin_task_steps_and_trains(tmp_path):
    out = fresh_python(f"""
        import json, numpy as np, sac_engine
        from sac_engine import _core
        ids = sac_engine.load_plugin({plugin("good")!r})
        again = sac_engine.load_plugin({plugin("good")!r})
        envs = sac_engine.make_vec_env({TASK!r}, num_envs=2, seed=5, ctrl_cost_weight=0.5)
        obs, _ = envs.reset()
        obs, rewards, terminations, truncations, infos = envs.step(np.ones((2, 2), np.float32))
        summary = sac_engine.train(
            {{"env": {{"id": {TASK!r}, "plugins": [{plugin("good")!r}]}}, "device": "cpu",
              "sac": {{"hidden": [16, 16], "batch_size": 16}},
              "train": {{"total_steps": 300, "warmup_steps": 100, "eval_every": 0,
                        "eval_episodes": 2, "threads": 1}}}},
            run_dir={str(tmp_path / "run")!r}, progress=False)
        print(json.dumps({{"ids": ids, "again": again, "shape": list(obs.shape),
                          "ctrl": [float(c) for c in infos["reward_ctrl"]],
                          "steps": summary["steps"], "ids_after": _core.env_ids()}}))
        """)
    assert out["ids"] == [TASK] and out["again"] == [TASK]
    assert out["shape"] == [2, 4]
    assert out["ctrl"] == [-1.0, -1.0]  # 0.5 * |(1, 1)|^2
    assert out["steps"] == 300
    assert out["ids_after"].count(TASK) == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["env"]["plugins"] == [plugin("good")]


@pytest.mark.parametrize("variant, reason", [
    ("missing", "cannot be loaded: "),
    ("no_entry", "exports no registration function sac_plugin_register"),
    ("other_version", "was built against task API version 1000"),
    ("clash", "task 'Hopper-v5' is already registered by sac's built-in tasks"),
])
def test_each_refusal_is_a_value_error_naming_the_path(variant, reason):
    before = _core.env_ids()
    with pytest.raises(ValueError) as e:
        sac_engine.load_plugin(plugin(variant))
    assert f"plugin '{plugin(variant)}': " in str(e.value) and reason in str(e.value), str(e.value)
    assert _core.env_ids() == before
