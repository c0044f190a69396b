"""The reward terms of each task (sac_engine._core.Task.step's fifth value, TaskEnv's info): the
names Gymnasium's v5 tasks use in `info`, and the reward exactly their sum, added in the order
Task.reward_terms lists them (the order the tasks compute the reward in). Their values against
Gymnasium's own tasks: tests/pypi/test_conformance.py. The vector env's infos hold each env's
terms too."""
import numpy as np
import pytest

import sac_engine
from sac_engine import _core

# Gymnasium 1.x's v5 tasks: the reward keys of their `info`
GYMNASIUM_TERMS = {
    "InvertedPendulum-v5": {"reward_survive"},
    "InvertedDoublePendulum-v5": {"reward_survive", "distance_penalty", "velocity_penalty"},
    "HalfCheetah-v5": {"reward_forward", "reward_ctrl"},
    "Hopper-v5": {"reward_forward", "reward_ctrl", "reward_survive"},
    "Walker2d-v5": {"reward_forward", "reward_ctrl", "reward_survive"},
    "Ant-v5": {"reward_forward", "reward_ctrl", "reward_contact", "reward_survive"},
    "Humanoid-v5": {"reward_forward", "reward_ctrl", "reward_contact", "reward_survive"},
    "Swimmer-v5": {"reward_forward", "reward_ctrl"},
    "Reacher-v5": {"reward_dist", "reward_ctrl"},
    "Pusher-v5": {"reward_dist", "reward_ctrl", "reward_near"},
    "HumanoidStandup-v5": {"reward_linup", "reward_quadctrl", "reward_impact"},
    "Pendulum-v1": set(),  # Gymnasium's Pendulum-v1 reports no terms
}


def test_every_task_is_listed():
    assert sorted(GYMNASIUM_TERMS) == sorted(_core.env_ids())


@pytest.mark.parametrize("env_id", sorted(GYMNASIUM_TERMS))
def test_terms_are_named_as_gymnasium_and_add_up_to_the_reward(env_id):
    task = _core.Task(env_id)
    assert set(task.reward_terms) == GYMNASIUM_TERMS[env_id]
    rng = np.random.default_rng(0)
    task.reset(0)
    seen = {name: set() for name in task.reward_terms}
    for _ in range(300):
        action = rng.uniform(task.action_low, task.action_high)
        _, reward, terminated, unstable, terms = task.step(action)
        assert list(terms) == list(task.reward_terms)
        total = None
        for name in task.reward_terms:  # left to right, as the task adds them
            total = terms[name] if total is None else total + terms[name]
            seen[name].add(np.sign(terms[name]))
        if total is None:
            assert env_id == "Pendulum-v1"
        elif env_id == "HumanoidStandup-v5":  # Gymnasium adds 1 outside its terms
            assert total + 1 == reward, (env_id, terms, reward)
        else:
            assert total == reward, (env_id, terms, reward)
        if terminated or unstable:
            task.reset()
    # costs and penalties are reported negative, as Gymnasium's info has them
    for name, signs in seen.items():
        if "ctrl" in name or "contact" in name or "penalty" in name or "impact" in name:
            assert signs <= {-1.0, 0.0}, (name, signs)
        if name == "reward_survive":
            assert signs <= {0.0, 1.0}, (name, signs)


def test_vec_env_infos_hold_each_envs_terms():
    # env i of a pool seeded S is the Task seeded S + i; actions in [-1, 1] reach both unchanged
    envs = sac_engine.make_vec_env("Ant-v5", num_envs=3, threads=2, seed=4)
    tasks = [_core.Task("Ant-v5") for _ in range(3)]
    envs.reset()
    for i, task in enumerate(tasks):
        task.reset(4 + i)
    rng = np.random.default_rng(1)
    for _ in range(200):
        actions = rng.uniform(-1, 1, (3, 8)).astype(np.float32)
        _, rewards, terminations, truncations, infos = envs.step(actions)
        for i, task in enumerate(tasks):
            _, reward, terminated, unstable, terms = task.step(actions[i])
            for name, value in terms.items():
                assert infos[name].dtype == np.float64 and infos[name].shape == (3,)
                assert infos[f"_{name}"].all()
                assert infos[name][i] == value, (name, i)
            assert rewards[i] == np.float32(reward)
            if terminations[i] or truncations[i]:
                task.reset()  # the pool reset env i with its next draws; so does this


# Gymnasium 1.x's v5 tasks: the other keys of their `info` after a step, in order
GYMNASIUM_INFO = {
    "HalfCheetah-v5": ["x_position", "x_velocity"],
    "Hopper-v5": ["x_position", "z_distance_from_origin", "x_velocity"],
    "Walker2d-v5": ["x_position", "z_distance_from_origin", "x_velocity"],
    "Ant-v5": ["x_position", "y_position", "distance_from_origin", "x_velocity", "y_velocity"],
    "Swimmer-v5": ["x_position", "y_position", "distance_from_origin", "x_velocity",
                   "y_velocity"],
    "Humanoid-v5": ["x_position", "y_position", "tendon_length", "tendon_velocity",
                    "distance_from_origin", "x_velocity", "y_velocity"],
    "HumanoidStandup-v5": ["x_position", "y_position", "z_distance_from_origin",
                           "tendon_length", "tendon_velocity"],
}


@pytest.mark.parametrize("env_id", sorted(GYMNASIUM_TERMS))
def test_info_holds_gymnasiums_positions_and_velocities(env_id):
    task = _core.Task(env_id)
    task.reset(0)
    qpos0, _ = task.get_state()
    rng = np.random.default_rng(0)
    for _ in range(20):
        task.step(rng.uniform(task.action_low, task.action_high))
        info = task.info()
        assert list(info) == GYMNASIUM_INFO.get(env_id, []), info
        if not info:
            continue
        qpos, _ = task.get_state()
        assert info["x_position"] == qpos[0]
        if "distance_from_origin" in info:
            assert info["distance_from_origin"] == pytest.approx(np.hypot(qpos[0], qpos[1]))
        if "tendon_length" in info:
            assert info["tendon_length"].shape == (2,) and info["tendon_velocity"].shape == (2,)


def test_vec_env_infos_hold_each_envs_positions():
    envs = sac_engine.make_vec_env("Humanoid-v5", num_envs=2, threads=1, seed=3)
    task = _core.Task("Humanoid-v5")
    envs.reset()
    task.reset(3)
    actions = np.zeros((2, 17), np.float32)
    _, _, _, _, infos = envs.step(actions)
    task.step(actions[0])
    info = task.info()
    assert infos["x_velocity"].shape == (2,) and infos["tendon_length"].shape == (2, 2)
    assert infos["x_velocity"][0] == info["x_velocity"]
    np.testing.assert_array_equal(infos["tendon_length"][0], info["tendon_length"])
