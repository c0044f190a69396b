"""The reward terms of each task (sac_engine._core.Task.step's fifth value, TaskEnv's info): the
names Gymnasium's v5 tasks use in `info`, and the reward exactly their sum, added in the order
Task.reward_terms lists them (the order the tasks compute the reward in). Their values against
Gymnasium's own tasks: tests/pypi/test_conformance.py."""
import numpy as np
import pytest

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
        else:
            assert total == reward, (env_id, terms, reward)
        if terminated or unstable:
            task.reset()
    # costs and penalties are reported negative, as Gymnasium's info has them
    for name, signs in seen.items():
        if "ctrl" in name or "contact" in name or "penalty" in name:
            assert signs <= {-1.0, 0.0}, (name, signs)
        if name == "reward_survive":
            assert signs <= {0.0, 1.0}, (name, signs)
