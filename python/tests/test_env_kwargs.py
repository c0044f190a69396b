"""Gymnasium's v5 keyword arguments from Python: make_vec_env(..., **kwargs) makes the task with
them (observation size, reward weights, max_episode_steps), tuples with an infinite end and numpy
values are taken as Gymnasium's callers pass them, and a bad one raises ValueError naming it.
gymnasium.make("sac_engine/<Task>-v5", **kwargs): tests/pypi/test_gymnasium.py."""
import numpy as np
import pytest

import sac_engine
from sac_engine import _core
from sac_engine.kwargs import kwargs_json


def test_kwargs_as_json():
    assert kwargs_json({"healthy_z_range": (0.7, float("inf")), "frame_skip": np.int64(3),
                        "ctrl_cost_weight": np.float32(0.5)}) == \
        '{"healthy_z_range": [0.7, null], "frame_skip": 3, "ctrl_cost_weight": 0.5}'
    with pytest.raises(ValueError, match="NaN"):
        kwargs_json({"ctrl_cost_weight": float("nan")})
    with pytest.raises(ValueError):
        kwargs_json({"xml_file": object()})


def test_vec_env_takes_the_tasks_keywords():
    assert sac_engine.make_vec_env("Ant-v5").obs_dim == 105
    envs = sac_engine.make_vec_env("Ant-v5", num_envs=2, include_cfrc_ext_in_observation=False,
                                   exclude_current_positions_from_observation=False,
                                   max_episode_steps=40)
    assert envs.obs_dim == 29
    assert envs.single_observation_space.shape == (29,)
    assert envs.max_episode_steps == 40
    hopper = sac_engine.make_vec_env("Hopper-v5", healthy_z_range=(0.7, float("inf")))
    assert hopper.obs_dim == 11


def test_reward_weights_apply():
    a = _core.Task("HalfCheetah-v5")
    b = _core.Task("HalfCheetah-v5", kwargs_json({"ctrl_cost_weight": 0.3}))
    action = np.full(6, 0.5)
    a.reset(1)
    b.reset(1)
    _, _, _, _, terms_a = a.step(action)
    _, _, _, _, terms_b = b.step(action)
    assert terms_a["reward_ctrl"] == pytest.approx(-0.1 * 1.5)
    assert terms_b["reward_ctrl"] == pytest.approx(-0.3 * 1.5)
    assert terms_a["reward_forward"] == terms_b["reward_forward"]


def test_bad_keywords_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="takes no keyword 'ctrl_cost'.*ctrl_cost_weight"):
        sac_engine.make_vec_env("Ant-v5", ctrl_cost=0.1)
    with pytest.raises(ValueError, match="'frame_skip'.*\"x\""):
        sac_engine.make_vec_env("Hopper-v5", frame_skip="x")
    with pytest.raises(ValueError, match="/no/such/robot.xml"):
        sac_engine.make_vec_env("Ant-v5", xml_file="/no/such/robot.xml")
    with pytest.raises(ValueError, match="no body named 'nobody'"):
        sac_engine.make_vec_env("Ant-v5", main_body="nobody")
