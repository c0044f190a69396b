"""Our eleven tasks against Gymnasium's own v5 tasks (tests/pypi/conformance.py holds the
comparisons and prints the README's tables). Here, per task:

- the same observation and action spaces;
- the same reset distribution (2,000 resets; per-coordinate KS tests on qpos, qvel and the first
  observation, Bonferroni-corrected p > 0.001);
- the same step from 1,000 states reached in Gymnasium's task: against Gymnasium's task on
  mujoco 2.3.3 (the second venv, the wheel nearest to Debian's MuJoCo 2.2.2 that ours run on),
  observation, reward and each reward term Gymnasium reports in `info` within 1e-6
  (|ours - theirs| / max(1, |theirs|)) and the same `terminated`; against Gymnasium's task on the
  current mujoco wheel (4.0.0) the same, except where mujoco 2.3.3 and 4.0.0 themselves differ by
  more than 1e-6 on those states (Gymnasium's task against itself), which is then the
  explanation; ours reports exactly the reward terms Gymnasium's task reports;
- the other values of `info` (x_position, x_velocity, tendon_length, ...) within 1e-6 of 2.3.3;
- episodes of random actions: truncation at exactly max_episode_steps, the same length
  distribution (KS p > 0.001);
- with keyword arguments (conformance.KWARGS, one non-default set per task) and other robots
  (conformance.MODELS, xml_file of tests/models/): the same spaces, and observation, reward,
  every reward term and info value within 1e-6 of Gymnasium's task on mujoco 2.3.3 made with the
  same arguments, from 300 states reached in it.
HumanoidStandup-v5 differs between MuJoCo versions on many states: VERSION_SENSITIVE below.
Run: ctest -R pypi_tests."""
import os
import subprocess

import mujoco
import numpy as np
import pytest

import conformance as c
from conftest import ROOT

TOL, ALPHA = 1e-6, 0.001
# HumanoidStandup-v5 lies on the floor in many contacts, where MuJoCo versions part ways: from
# the same states Gymnasium's own task on mujoco 4.0.0 agrees with itself on mujoco 2.3.3 in
# none of them, and ours (MuJoCo 2.2.2) agrees with it on 2.3.3 to the last bit in about half
# (measured: 103 of 200) and by far not in the others. Until both run one MuJoCo version, its
# step is held to: the states where the two agree within 1e-6 at least MIN_AGREEING of them,
# observation, reward and every term and info value exact there, and the contact-free control
# cost within 1e-6 everywhere.
VERSION_SENSITIVE, MIN_AGREEING = ("HumanoidStandup-v5",), 0.35


def mujoco233_python():
    path = os.environ.get("SAC_MUJOCO233_PYTHON",
                          os.path.join(ROOT, "build", "pypi-venv-mujoco233", "bin", "python"))
    if not os.path.exists(path):
        raise RuntimeError(f"no mujoco 2.3.3 venv at {path} (ctest's pypi_venv_mujoco233 makes it)")
    return path


@pytest.fixture(scope="session")
def steps(tmp_path_factory):
    """Per task: the states, and the results of ours, Gymnasium on this venv's mujoco and
    Gymnasium on mujoco 2.3.3 (a subprocess in the second venv) from them."""
    d = tmp_path_factory.mktemp("conformance")
    states = {t: c.collect_states(t) for t in c.TASKS}
    np.savez(d / "states.npz", **{f"{t}/{k}": v for t, s in states.items() for k, v in s.items()})
    subprocess.run([mujoco233_python(), os.path.join(ROOT, "tests", "pypi", "conformance.py"),
                    "--gym-steps", str(d / "states.npz"), str(d / "gym233.npz")], check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    old = np.load(d / "gym233.npz")
    assert str(old["mujoco_version"]) == "2.3.3"
    out = {}
    for t, s in states.items():
        import gymnasium
        out[t] = {
            "ours": c.step_from_states(gymnasium.make(f"sac_engine/{t}").unwrapped, s),
            "gym": c.step_from_states(gymnasium.make(t).unwrapped, s),
            "gym233": c.load_steps(old, t),
        }
    return out


@pytest.mark.parametrize("task", c.TASKS)
def test_spaces(task):
    s = c.compare_spaces(task)
    assert s["observation_space"] and s["action_space"], s


@pytest.mark.parametrize("task", c.TASKS)
def test_reset_distribution(task):
    r = c.compare_resets(task)
    assert r["p"] > ALPHA, r


@pytest.mark.parametrize("task", c.TASKS)
def test_step_from_the_same_states(task, steps):
    r = steps[task]
    if task in VERSION_SENSITIVE:
        return check_version_sensitive(r["ours"], r["gym233"])
    near = c.differences(r["ours"], r["gym233"])
    assert near["obs"] <= TOL and near["reward"] <= TOL, ("against mujoco 2.3.3", near)
    assert near["terminated_differ"] == 0, near
    now = c.differences(r["ours"], r["gym"])
    versions = c.differences(r["gym233"], r["gym"])  # Gymnasium's task against itself
    print(task, "ours-gym233", near, "ours-gym", now, "gym233-gym", versions, mujoco.__version__)
    for what in ("obs", "reward"):
        assert now[what] <= TOL or versions[what] > TOL, (what, now, versions)
    assert now["terminated_differ"] <= versions["terminated_differ"] or now["terminated_differ"] == 0


@pytest.mark.parametrize("task", c.TASKS)
def test_reward_terms_from_the_same_states(task, steps):
    r = steps[task]
    # the same terms under the same keys, every one of them (none on one side only)
    ours, theirs = sorted(c.term_names(r["ours"])), sorted(c.term_names(r["gym"]))
    assert ours and ours == theirs, (ours, theirs)
    if task in VERSION_SENSITIVE:
        return check_version_sensitive(r["ours"], r["gym233"])
    assert sorted(c.term_names(r["gym233"])) == sorted(c.term_names(r["gym"]))
    near = c.differences(r["ours"], r["gym233"])["terms"]
    now = c.differences(r["ours"], r["gym"])["terms"]
    versions = c.differences(r["gym233"], r["gym"])["terms"]
    print(task, "ours-gym233", near, "ours-gym", now, "gym233-gym", versions)
    for term in c.term_names(r["gym"]):
        assert near[term] <= TOL, ("against mujoco 2.3.3", term, near)
        assert now[term] <= TOL or versions[term] > TOL, (term, now, versions)


@pytest.mark.parametrize("task", c.TASKS)
def test_info_from_the_same_states(task, steps):
    # the positions and velocities of Gymnasium's info, every key, within 1e-6 of mujoco 2.3.3's
    r = steps[task]
    assert c.info_names(r["ours"]) == c.info_names(r["gym"])
    if task in VERSION_SENSITIVE:
        return check_version_sensitive(r["ours"], r["gym233"])
    near = c.differences(r["ours"], r["gym233"])["info"]
    print(task, "ours-gym233", near)
    assert all(d <= TOL for d in near.values()), near


def check_version_sensitive(ours, gym233):
    """VERSION_SENSITIVE's rule (above): exact where the MuJoCo versions agree, and enough such
    states; the control cost (no contact in it) within 1e-6 on every state."""
    agree = c.rel(ours["obs"], gym233["obs"]).max(axis=1) <= TOL
    assert agree.mean() >= MIN_AGREEING, agree.mean()
    assert c.rel(ours["reward"][agree], gym233["reward"][agree]).max() <= TOL
    assert not np.any(ours["terminated"] != gym233["terminated"])
    for key in [k for k in gym233 if k.startswith(("term/", "info/"))]:
        assert c.rel(ours[key][agree], gym233[key][agree]).max() <= TOL, key
    assert c.rel(ours["term/reward_quadctrl"], gym233["term/reward_quadctrl"]).max() <= TOL


@pytest.mark.parametrize("task", c.TASKS)
def test_episodes(task):
    e = c.compare_episodes(task)
    assert e["gym_truncation_ok"] and e["ours_truncation_ok"], e
    assert e["length_p"] > ALPHA, e


# ---- with Gymnasium's v5 keyword arguments, and other robots (conformance.KWARGS, MODELS)

KWARGS_STATES = 300  # states per case: every case steps both tasks from each


@pytest.fixture(scope="session")
def kwargs_steps(tmp_path_factory):
    """Per case (conformance.kwargs_cases()): ours, Gymnasium's on this venv's mujoco and on
    mujoco 2.3.3, each made with the case's keyword arguments, from the same states."""
    import json
    import gymnasium
    d = tmp_path_factory.mktemp("conformance_kwargs")
    cases = c.kwargs_cases()
    states = {name: c.collect_states(task, KWARGS_STATES, kwargs=kwargs)
              for name, task, kwargs in cases}
    np.savez(d / "states.npz", **{f"{n}/{k}": v for n, s in states.items() for k, v in s.items()})
    with open(d / "cases.json", "w") as f:
        json.dump({name: [task, json.loads(sac_kwargs_json(kwargs))]
                   for name, task, kwargs in cases}, f)
    subprocess.run([mujoco233_python(), os.path.join(ROOT, "tests", "pypi", "conformance.py"),
                    "--gym-steps", str(d / "states.npz"), str(d / "gym233.npz"),
                    str(d / "cases.json")], check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    old = np.load(d / "gym233.npz")
    out = {}
    for name, task, kwargs in cases:
        ours = gymnasium.make(f"sac_engine/{task}", **kwargs).unwrapped
        gym = gymnasium.make(task, **kwargs).unwrapped
        out[name] = {"ours": c.step_from_states(ours, states[name]),
                     "gym": c.step_from_states(gym, states[name]),
                     "gym233": c.load_steps(old, name),
                     "spaces": (ours.observation_space.shape, gym.observation_space.shape,
                                ours.action_space.shape, gym.action_space.shape)}
    return out


def sac_kwargs_json(kwargs):
    from sac_engine.kwargs import kwargs_json
    return kwargs_json(kwargs)


@pytest.mark.parametrize("case", [name for name, _, _ in c.kwargs_cases()])
def test_step_with_keyword_arguments(case, kwargs_steps):
    r = kwargs_steps[case]
    ours_obs, gym_obs, ours_act, gym_act = r["spaces"]
    assert ours_obs == gym_obs and ours_act == gym_act, r["spaces"]
    near = c.differences(r["ours"], r["gym233"])
    now = c.differences(r["ours"], r["gym"])
    versions = c.differences(r["gym233"], r["gym"])
    print(case, "ours-gym233", near, "ours-gym", now, "gym233-gym", versions)
    assert sorted(c.term_names(r["ours"])) == sorted(c.term_names(r["gym"]))
    if case.split(":")[0] in VERSION_SENSITIVE:
        return check_version_sensitive(r["ours"], r["gym233"])
    assert near["obs"] <= TOL and near["reward"] <= TOL, ("against mujoco 2.3.3", near)
    assert near["terminated_differ"] == 0, near
    assert c.info_names(r["ours"]) == c.info_names(r["gym"])
    assert all(d <= TOL for d in near["info"].values()), near
    for term in c.term_names(r["gym"]):
        assert near["terms"][term] <= TOL, ("against mujoco 2.3.3", term, near)
        assert now["terms"][term] <= TOL or versions["terms"][term] > TOL, (term, now, versions)
    for what in ("obs", "reward"):
        assert now[what] <= TOL or versions[what] > TOL, (what, now, versions)
