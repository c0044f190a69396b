"""Our ten tasks against Gymnasium's own v5 tasks (tests/pypi/conformance.py holds the
comparisons and prints the README's table). Here, per task:

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
- episodes of random actions: truncation at exactly max_episode_steps, the same length
  distribution (KS p > 0.001).
Run: ctest -R pypi_tests."""
import os
import subprocess

import mujoco
import numpy as np
import pytest

import conformance as c
from conftest import ROOT

TOL, ALPHA = 1e-6, 0.001


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
    assert sorted(c.term_names(r["gym233"])) == sorted(c.term_names(r["gym"]))
    near = c.differences(r["ours"], r["gym233"])["terms"]
    now = c.differences(r["ours"], r["gym"])["terms"]
    versions = c.differences(r["gym233"], r["gym"])["terms"]
    print(task, "ours-gym233", near, "ours-gym", now, "gym233-gym", versions)
    for term in c.term_names(r["gym"]):
        assert near[term] <= TOL, ("against mujoco 2.3.3", term, near)
        assert now[term] <= TOL or versions[term] > TOL, (term, now, versions)


@pytest.mark.parametrize("task", c.TASKS)
def test_episodes(task):
    e = c.compare_episodes(task)
    assert e["gym_truncation_ok"] and e["ours_truncation_ok"], e
    assert e["length_p"] > ALPHA, e
