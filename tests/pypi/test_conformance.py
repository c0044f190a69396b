"""Our eleven tasks against Gymnasium's own v5 tasks (tests/pypi/conformance.py holds the
comparisons and prints the README's tables). Here, per task:

- the same observation and action spaces;
- the same reset distribution (2,000 resets; per-coordinate KS tests on qpos, qvel and the first
  observation, Bonferroni-corrected p > 0.001);
- the same step from 1,000 states reached in Gymnasium's task, both on MuJoCo 4.0.1 (ours through
  the project's C library, Gymnasium's through this venv's mujoco wheel of the same version):
  observation, reward and every reward term Gymnasium reports in `info` within 1e-6
  (|ours - theirs| / max(1, |theirs|)) and the same `terminated`; ours reports exactly the
  reward terms Gymnasium's task reports;
- the other values of `info` (x_position, x_velocity, tendon_length, ...) within 1e-6;
- episodes of random actions: truncation at exactly max_episode_steps, the same length
  distribution (KS p > 0.001);
- with keyword arguments (conformance.KWARGS, one non-default set per task) and other robots
  (conformance.MODELS, xml_file of tests/models/): the same spaces, and observation, reward,
  every reward term and info value within 1e-6 of Gymnasium's task made with the same
  arguments, from 300 states reached in it.
Run: ctest -R pypi_tests."""
import mujoco
import numpy as np
import pytest

import conformance as c

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
def test_info_from_the_same_states(task, steps):
    # the positions and velocities of Gymnasium's info, every key, within 1e-6
    r = steps[task]
    assert c.info_names(r["ours"]) == c.info_names(r["gym"])
    info = c.differences(r["ours"], r["gym"])["info"]
    print(task, info)
    assert all(d <= TOL for d in info.values()), info


@pytest.mark.parametrize("task", c.TASKS)
def test_episodes(task):
    e = c.compare_episodes(task)
    assert e["gym_truncation_ok"] and e["ours_truncation_ok"], e
    assert e["length_p"] > ALPHA, e


# ---- with Gymnasium's v5 keyword arguments, and other robots (conformance.KWARGS, MODELS)

KWARGS_STATES = 300  # states per case: every case steps both tasks from each


@pytest.fixture(scope="session")
def kwargs_steps():
    """Per case (conformance.kwargs_cases()): ours and Gymnasium's, each made with the case's
    keyword arguments, from the same states."""
    import gymnasium
    out = {}
    for name, task, kwargs in c.kwargs_cases():
        states = c.collect_states(task, KWARGS_STATES, kwargs=kwargs)
        ours = gymnasium.make(f"sac_engine/{task}", **kwargs).unwrapped
        gym = gymnasium.make(task, **kwargs).unwrapped
        out[name] = {"ours": c.step_from_states(ours, states),
                     "gym": c.step_from_states(gym, states),
                     "spaces": (ours.observation_space.shape, gym.observation_space.shape,
                                ours.action_space.shape, gym.action_space.shape)}
    return out


@pytest.mark.parametrize("case", [name for name, _, _ in c.kwargs_cases()])
def test_step_with_keyword_arguments(case, kwargs_steps):
    r = kwargs_steps[case]
    ours_obs, gym_obs, ours_act, gym_act = r["spaces"]
    assert ours_obs == gym_obs and ours_act == gym_act, r["spaces"]
    d = c.differences(r["ours"], r["gym"])
    print(case, d)
    assert sorted(c.term_names(r["ours"])) == sorted(c.term_names(r["gym"]))
    assert d["obs"] <= TOL and d["reward"] <= TOL, d
    assert d["terminated_differ"] == 0, d
    assert c.info_names(r["ours"]) == c.info_names(r["gym"])
    assert all(x <= TOL for x in d["info"].values()), d
    for term in c.term_names(r["gym"]):
        assert d["terms"][term] <= TOL, (term, d)
