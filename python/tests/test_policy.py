"""sac_engine.Policy: the same actions as the command line's loader (`sac rollout --policy`,
which acts with `sac eval`'s loader and deterministic actions), the same evaluation return as
`sac eval`, shapes checked."""
import numpy as np
import pytest

import sac_engine
from conftest import read_jsonl, run_sac


def test_act_equals_rollout_actions(tmp_path, pendulum_cli_run):
    run_dir, _ = pendulum_cli_run
    path = tmp_path / "rollout.jsonl"
    run_sac("rollout", "--env", "Pendulum-v1", "--policy", run_dir / "policy.safetensors",
            "--seed", 7, "--steps", 250, "--record", path)
    lines = read_jsonl(path)
    policy = sac_engine.Policy.load(str(run_dir / "policy.safetensors"))
    assert policy.env_id == "Pendulum-v1" and (policy.obs_dim, policy.act_dim) == (3, 1)
    obs = lines[0]["obs"]
    for line in lines[1:]:
        if "action" in line:
            # the rollout acts on one float32 observation at a time: so does this
            action = policy.act(np.float32(obs))
            assert action.shape == (1,) and action.dtype == np.float32
            assert action[0] == np.float32(line["action"][0])
        obs = line["obs"]


def test_mean_return_equals_sac_eval(pendulum_cli_run):
    # `sac eval` steps one env per episode and acts on all of them at once, deterministically
    run_dir, _ = pendulum_cli_run
    episodes, seed = 4, 123
    printed = run_sac("eval", run_dir / "policy.safetensors", "--episodes", episodes,
                      "--seed", seed, "--device", "cpu")
    policy = sac_engine.Policy.load(str(run_dir / "policy.safetensors"), max_batch=episodes)
    envs = sac_engine.make_vec_env("Pendulum-v1", num_envs=episodes, threads=1, seed=seed)
    obs, _ = envs.reset()
    returns, done = np.zeros(episodes), np.zeros(episodes, bool)
    while not done.all():
        actions = policy.act(obs)
        low, high = envs.single_action_space.low, envs.single_action_space.high
        assert np.all(actions >= low) and np.all(actions <= high)
        obs, rewards, terminations, truncations, _ = envs.step(actions)
        returns += np.where(done, 0.0, rewards.astype(np.float64))
        done |= terminations | truncations
    mean = sum(r / episodes for r in returns)  # evaluate()'s order of operations
    assert mean == printed["mean_return"]
    assert returns.min() == printed["min_return"] and returns.max() == printed["max_return"]


def test_shapes_are_checked(pendulum_cli_run):
    run_dir, _ = pendulum_cli_run
    policy = sac_engine.Policy.load(str(run_dir / "policy.safetensors"), max_batch=8)
    batch = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    out = policy.act(batch)
    assert out.shape == (8, 1) and out.dtype == np.float32
    assert np.all(np.abs(out) <= 2.0)
    sampled = policy.act(batch, deterministic=False)
    assert sampled.shape == (8, 1) and not np.array_equal(sampled, out)
    assert policy.act(np.zeros((0, 3), np.float32)).shape == (0, 1)
    with pytest.raises(ValueError, match="shape"):
        policy.act(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="max_batch"):
        policy.act(np.zeros((9, 3), np.float32))
    with pytest.raises(ValueError, match="finite"):
        policy.act(np.array([0.0, np.nan, 0.0]))


def test_bad_files_are_refused(tmp_path):
    bad = tmp_path / "policy.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(ValueError, match="policy.safetensors"):
        sac_engine.Policy.load(str(bad))
    with pytest.raises(FileNotFoundError):
        sac_engine.Policy.load(str(tmp_path / "missing.safetensors"))


def test_a_checkpoint_loads_as_its_policy(pendulum_cli_run):
    run_dir, summary = pendulum_cli_run
    from_checkpoint = sac_engine.Policy.load(summary["checkpoint"])
    from_policy = sac_engine.Policy.load(str(run_dir / "policy.safetensors"))
    obs = np.random.default_rng(1).normal(size=(16, 3)).astype(np.float32)
    np.testing.assert_array_equal(from_checkpoint.act(obs), from_policy.act(obs))
