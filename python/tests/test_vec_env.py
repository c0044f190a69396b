"""sac_engine.make_vec_env: the same trajectories as `sac rollout`, no copy per step, the GIL
released while stepping, bad actions refused with the pool left usable."""
import sys
import threading
import time

import numpy as np
import pytest

import sac_engine
from conftest import read_jsonl, run_sac


def rollout(tmp_path, env_id, policy, seed, steps):
    path = tmp_path / f"rollout-{env_id}-{seed}.jsonl"
    run_sac("rollout", "--env", env_id, "--policy", policy, "--seed", seed, "--steps", steps,
            "--record", path)
    lines = read_jsonl(path)
    # per step: the step line, and the reset line that follows a finished episode (if any)
    steps_out, first = [], lines[0]
    for k, line in enumerate(lines):
        if "action" in line:
            nxt = lines[k + 1] if k + 1 < len(lines) and "action" not in lines[k + 1] else None
            steps_out.append((line, nxt))
    return first, steps_out


def test_matches_rollout_recording(tmp_path, hopper_policy):
    # env i of a pool seeded S is `sac rollout --seed S+i`; feed each env its rollout's actions
    seeds, steps = (11, 12), 300
    records = [rollout(tmp_path, "Hopper-v5", hopper_policy, s, steps) for s in seeds]
    envs = sac_engine.make_vec_env("Hopper-v5", num_envs=2, threads=2, seed=seeds[0])
    obs, info = envs.reset()
    assert info == {}
    for i, (first, _) in enumerate(records):
        np.testing.assert_array_equal(obs[i], np.float32(first["obs"]))
    episodes = 0
    for t in range(steps):
        actions = np.array([records[i][1][t][0]["action"] for i in range(2)], dtype=np.float32)
        obs, rewards, terminations, truncations, infos = envs.step(actions)
        for i in range(2):
            line, reset_line = records[i][1][t]
            assert rewards[i] == np.float32(line["reward"])
            assert terminations[i] == line["terminated"] and truncations[i] == line["truncated"]
            done = line["terminated"] or line["truncated"]
            assert infos["_final_obs"][i] == done
            if done:
                # same-step autoreset: the final observation in infos, the next episode's first in obs
                episodes += 1
                np.testing.assert_array_equal(infos["final_obs"][i], np.float32(line["obs"]))
                np.testing.assert_array_equal(obs[i], np.float32(reset_line["obs"]))
                assert infos["episode"]["l"][i] == line["t"]
            else:
                np.testing.assert_array_equal(obs[i], np.float32(line["obs"]))
    assert episodes >= 2, "the recording should hold finished episodes"


def test_spaces_and_reset_seed():
    envs = sac_engine.make_vec_env("InvertedPendulum-v5", num_envs=3, threads=1, seed=4)
    assert envs.num_envs == 3
    assert envs.single_observation_space.shape == (4,)
    assert envs.single_action_space.shape == (1,)
    assert envs.single_action_space.dtype == np.float32
    np.testing.assert_array_equal(envs.single_action_space.low, [-3.0])
    np.testing.assert_array_equal(envs.single_action_space.high, [3.0])
    assert envs.action_space.shape == (3, 1) and envs.observation_space.shape == (3, 4)
    a = envs.reset(seed=9)[0].copy()
    envs.step(np.zeros((3, 1), np.float32))
    np.testing.assert_array_equal(envs.reset(seed=9)[0], a)
    other = sac_engine.make_vec_env("InvertedPendulum-v5", num_envs=3, threads=1, seed=9)
    np.testing.assert_array_equal(other.reset()[0], a)


def test_arrays_are_views_of_the_pool_buffers():
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=4, threads=1, seed=0)
    obs0, _ = envs.reset()
    before = obs0.copy()
    actions = np.full((4, 6), 0.5, np.float32)
    out1 = envs.step(actions)
    out2 = envs.step(actions)
    for a, b in zip(out1[:4], out2[:4]):
        assert np.shares_memory(a, b)
        assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        assert a.flags.writeable is False and a.flags.owndata is False
    assert np.shares_memory(obs0, out2[0])
    assert obs0.dtype == np.float32 and out2[1].dtype == np.float32
    assert not np.array_equal(obs0, before)  # refilled in place by the steps
    with pytest.raises(ValueError):
        obs0[0, 0] = 1.0  # read-only


def test_step_releases_the_gil():
    # a Python thread must run while step() runs: it timestamps its iterations, and some must
    # fall in the middle half of a step() call. Were the GIL held, the thread could only run
    # before the call enters C++ (at most one switch interval, 0.1 ms here, of a ~6 ms call).
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=256, threads=1, seed=0)
    envs.reset()
    actions = np.zeros((256, 6), np.float32)
    stop, ticks = threading.Event(), []

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        thread = threading.Thread(target=spin)
        thread.start()
        calls = []
        for _ in range(20):
            t0 = time.perf_counter()
            envs.step(actions)
            calls.append((t0, time.perf_counter()))
        stop.set()
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    ticks = np.array(ticks)
    inside = sum(int(np.any((ticks > t0 + (t1 - t0) / 4) & (ticks < t1 - (t1 - t0) / 4)))
                 for t0, t1 in calls)
    assert inside > 0, "no Python code ran in the middle of a step() call"


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 6), np.float32), "shape"),
    (np.zeros((4, 5), np.float32), "shape"),
    (np.zeros(24, np.float32), "shape"),
    (np.full((4, 6), "x"), "dtype"),
    (np.zeros((4, 6), np.complex64), "dtype"),
    ("not an array", "dtype"),
    (None, "numbers"),
    (np.array([[0.0] * 6] * 3 + [[0.0, np.nan, 0, 0, 0, 0]], np.float32), r"\[3, 1\]"),
    (np.array([[0.0] * 6] * 3 + [[0.0, 0, 0, 0, 0, np.inf]]), r"\[3, 5\]"),
    (np.full((4, 6), 1e39), "finite"),  # overflows float32
])
@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_bad_actions_raise_and_the_pool_stays_usable(bad, message):
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=4, threads=2, seed=1)
    twin = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=4, threads=2, seed=1)
    envs.reset(), twin.reset()
    good = np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)
    envs.step(good), twin.step(good)
    with pytest.raises(ValueError, match=message):
        envs.step(bad)
    # nothing was stepped: the next good step matches the twin that never saw the bad actions
    a = envs.step(good[::-1].copy())
    b = twin.step(good[::-1].copy())
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)


def test_other_numeric_dtypes_and_layouts_are_converted():
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=2, threads=1, seed=2)
    twin = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=2, threads=1, seed=2)
    envs.reset(), twin.reset()
    a = np.asfortranarray(np.linspace(-1, 1, 12).reshape(2, 6))  # float64, not C-contiguous
    x = envs.step(a)[0]
    y = twin.step(np.ascontiguousarray(a, np.float32))[0]
    np.testing.assert_array_equal(x, y)
    envs.step([[0] * 6, [1] * 6])  # nested lists of ints


def test_step_before_reset_and_unknown_task():
    envs = sac_engine.make_vec_env("Pendulum-v1", num_envs=1, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.zeros((1, 1), np.float32))
    with pytest.raises(ValueError, match="Nope-v0"):
        sac_engine.make_vec_env("Nope-v0")
