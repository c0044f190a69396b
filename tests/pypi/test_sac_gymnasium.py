"""sac_engine.SAC on Gymnasium's own envs (the pypi venv, tests/pypi/requirements.txt): single
envs and vector envs in each autoreset mode train and evaluate (an eval env made from the env's
spec), Gymnasium's Discrete and Dict spaces are refused; and, marked slow, the learning checks:
Gymnasium's Pendulum-v1 and InvertedPendulum-v5 reach the returns the C++ learning tests
(tests/learning/test_learning.cpp) reach on the engine's own tasks, in the same steps, with the
same configs (configs/pendulum.json, configs/inverted_pendulum.json, env.* left out).
Run: ctest -R pypi_tests (not slow), ctest -R pypi_learning (slow); or
PYTHONPATH=build/python BUILD/pypi-venv/bin/python -m pytest tests/pypi/test_sac_gymnasium.py -m slow
"""
import json
import os

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import sac_engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = {"device": "cpu", "sac.hidden": [32, 32], "sac.batch_size": 32, "sac.buffer_size": 5000,
         "train.warmup_steps": 200, "train.log_every": 200, "train.eval_every": 400,
         "train.eval_episodes": 2, "train.threads": 1}


def test_a_gymnasium_env_trains_and_evaluates_on_a_copy_made_from_its_spec(tmp_path):
    m = sac_engine.SAC(gymnasium.make("Pendulum-v1"), run_dir=str(tmp_path / "run"), **SMALL)
    m.learn(800)
    rows = open(tmp_path / "run" / "eval.csv").read().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["400", "800"]
    assert json.load(open(tmp_path / "run" / "config.json"))["env"]["python"] == "Pendulum-v1"
    action, _ = m.predict(np.zeros(3, np.float32))
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_vector_envs_of_each_autoreset_mode_train(tmp_path, mode):
    envs = gymnasium.make_vec("Pendulum-v1", num_envs=3, vectorization_mode="sync",
                              vector_kwargs={"autoreset_mode": mode})
    m = sac_engine.SAC(envs, run_dir=str(tmp_path / "run"), **SMALL)
    m.learn(3 * 250)  # past the 200-step episodes of every env
    lines = [json.loads(l) for l in open(tmp_path / "run" / "metrics.jsonl")]
    # each of the three envs finished an episode of 200 steps
    assert any("episode_return" in l for l in lines)
    assert m.num_timesteps == 750


def test_gymnasium_spaces_sac_cannot_take_are_refused():
    with pytest.raises(TypeError, match="action space is Discrete"):
        sac_engine.SAC(gymnasium.make("CartPole-v1"), run_dir=False)
    env = gymnasium.make("Pendulum-v1")
    env.observation_space = gymnasium.spaces.Dict({"x": env.observation_space})
    with pytest.raises(TypeError, match="observation space is Dict"):
        sac_engine.SAC(env, run_dir=False)


def _config(name):
    with open(os.path.join(ROOT, "configs", name)) as f:
        config = json.load(f)
    config.pop("env")
    config["device"] = "cpu"
    return config


@pytest.mark.slow
def test_gymnasium_pendulum_swings_up(tmp_path):
    # tests/learning: PendulumSwingsUp, 15,000 steps, seed 1, final evaluation above -200
    m = sac_engine.SAC(gymnasium.make("Pendulum-v1"), _config("pendulum.json"),
                       run_dir=str(tmp_path / "run"), seed=1)
    m.learn(15000)
    final = json.load(open(tmp_path / "run" / "summary.json"))["final_eval_return"]
    assert final > -200.0, final


@pytest.mark.slow
def test_gymnasium_inverted_pendulum_balances(tmp_path):
    # tests/learning: InvertedPendulumBalances, 25,000 steps, seed 1, final evaluation >= 950
    m = sac_engine.SAC(gymnasium.make("InvertedPendulum-v5"), _config("inverted_pendulum.json"),
                       run_dir=str(tmp_path / "run"), seed=1)
    m.learn(25000)
    final = json.load(open(tmp_path / "run" / "summary.json"))["final_eval_return"]
    assert final >= 950.0, final
