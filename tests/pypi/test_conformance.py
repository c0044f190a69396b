"""Our ten tasks against Gymnasium's own v5 tasks (tests/pypi/conformance.py holds the
comparisons and prints the README's table). Here, per task:

- the same observation and action spaces;
- the same reset distribution (2,000 resets; per-coordinate KS tests on qpos, qvel and the first
  observation, Bonferroni-corrected p > 0.001);
- the same step from 1,000 states reached in Gymnasium's task, both on MuJoCo 4.0.1 (ours through
  the project's C library, Gymnasium's through this venv's mujoco wheel of the same version):
  observation, reward and every reward term Gymnasium reports in `info` within 1e-6
  (|ours - theirs| / max(1, |theirs|)) and the same `terminated`; ours reports exactly the
  reward terms Gymnasium's task reports;
- episodes of random actions: truncation at exactly max_episode_steps, the same length
  distribution (KS p > 0.001).
Run: ctest -R pypi_tests."""
import mujoco
import numpy as np
import pytest

import conformance as c
from conftest import ROOT

TOL, ALPHA = 1e-6, 0.001


@pytest.fixture(scope="session")
def steps():
    """Per task: the results of ours and of Gymnasium's task from the same states."""
    import gymnasium
    out = {}
    for t in c.TASKS:
        states = c.collect_states(t)
        out[t] = {"ours": c.step_from_states(gymnasium.make(f"sac_engine/{t}").unwrapped, states),
                  "gym": c.step_from_states(gymnasium.make(t).unwrapped, states)}
    return out


@pytest.mark.parametrize("task", c.TASKS)
def test_spaces(task):
    s = c.compare_spaces(task)
    assert s["observation_space"] and s["action_space"], s


@pytest.mark.parametrize("task", c.TASKS)
def test_reset_distribution(task):
    r = c.compare_resets(task)
    assert r["p"] > ALPHA, r


def test_the_same_mujoco():
    import sac_engine
    assert mujoco.__version__ == sac_engine.mujoco_version() == "4.0.1"


@pytest.mark.parametrize("task", c.TASKS)
def test_step_from_the_same_states(task, steps):
    r = steps[task]
    d = c.differences(r["ours"], r["gym"])
    print(task, d)
    assert d["obs"] <= TOL and d["reward"] <= TOL, d
    assert d["terminated_differ"] == 0, d


@pytest.mark.parametrize("task", c.TASKS)
def test_reward_terms_from_the_same_states(task, steps):
    r = steps[task]
    # the same terms under the same keys, every one of them (none on one side only)
    ours, theirs = sorted(c.term_names(r["ours"])), sorted(c.term_names(r["gym"]))
    assert ours and ours == theirs, (ours, theirs)
    terms = c.differences(r["ours"], r["gym"])["terms"]
    print(task, terms)
    for term in c.term_names(r["gym"]):
        assert terms[term] <= TOL, (term, terms)


@pytest.mark.parametrize("task", c.TASKS)
def test_episodes(task):
    e = c.compare_episodes(task)
    assert e["gym_truncation_ok"] and e["ours_truncation_ok"], e
    assert e["length_p"] > ALPHA, e
