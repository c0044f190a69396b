"""sac_engine with Gymnasium installed (the pypi venv, tests/pypi/requirements.txt): VecEnv is a
gymnasium.vector.VectorEnv, the eleven tasks are registered as sac_engine/<Task>-v5 and pass
Gymnasium's env checker, the single env steps as the pool does, the registration's time limit
truncates, an unknown id raises Gymnasium's own error, and step after close raises.
Run: ctest -R pypi_tests (PYTHONPATH=build/python BUILD/pypi-venv/bin/python -m pytest tests/pypi)."""
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sac_engine
from sac_engine.gym import TASKS



def checker_warnings(env, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, **kwargs)
    return sorted({str(w.message) for w in caught})


def test_vec_env_is_a_gymnasium_vector_env():
    envs = sac_engine.make_vec_env("Hopper-v5", num_envs=3, threads=1, seed=0)
    assert isinstance(envs, gymnasium.vector.VectorEnv)
    assert envs.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    for space in (envs.single_observation_space, envs.single_action_space,
                  envs.observation_space, envs.action_space):
        assert isinstance(space, gymnasium.spaces.Box) and space.dtype == np.float32
    assert envs.action_space.shape == (3, 3) and envs.single_observation_space.shape == (11,)
    obs, info = envs.reset(seed=5, options={})
    assert obs in envs.observation_space and info == {}
    obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())
    assert obs.shape == (3, 11) and rewards.shape == (3,) and terminations.dtype == bool
    assert envs.unwrapped is envs and envs.num_envs == 3


def test_eleven_tasks_registered():
    ids = sorted(k for k in gymnasium.registry if k.startswith("sac_engine/"))
    assert ids == sorted(f"sac_engine/{t}" for t in TASKS) and len(ids) == 11
    assert "Pendulum-v1" not in " ".join(ids)


@pytest.mark.parametrize("task", TASKS)
def test_make_passes_the_env_checker(task):
    env = gymnasium.make(f"sac_engine/{task}")
    reference = gymnasium.spec(task)  # Gymnasium's own task of the same name
    assert env.spec.max_episode_steps == reference.max_episode_steps
    assert isinstance(env.unwrapped, sac_engine.TaskEnv)
    # no checker warning but those Gymnasium's own task gets too (infinite observation bounds;
    # the action range of InvertedPendulum and Pusher is not [-1, 1])
    ours = checker_warnings(env.unwrapped)
    theirs = checker_warnings(gymnasium.make(task).unwrapped, skip_render_check=True)
    assert ours == theirs
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space and obs.dtype == np.float64
    env.close()


def test_unknown_id_raises_gymnasiums_error():
    with pytest.raises(gymnasium.error.NameNotFound, match="Nope"):
        gymnasium.make("sac_engine/Nope-v5")
    with pytest.raises(gymnasium.error.Error):
        gymnasium.make("sac_engine/Hopper-v9")


def test_step_after_close_raises():
    env = gymnasium.make("sac_engine/Hopper-v5")
    env.reset(seed=0)
    env.close()
    env.close()  # twice is allowed
    with pytest.raises(RuntimeError, match="after close"):
        env.unwrapped.step(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="after close"):
        env.unwrapped.reset()
    envs = sac_engine.make_vec_env("Hopper-v5", num_envs=2, threads=1, seed=0)
    envs.reset()
    envs.close()
    assert envs.closed
    with pytest.raises(RuntimeError, match="after close"):
        envs.step(np.zeros((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="after close"):
        envs.reset()


def test_single_env_steps_as_the_pool():
    # TaskEnv seeded S is the pool's env seeded S, in double precision: the pool's float32
    # observations are its observations rounded (actions in [-1, 1] reach both unchanged)
    env = gymnasium.make("sac_engine/Hopper-v5")
    envs = sac_engine.make_vec_env("Hopper-v5", num_envs=1, threads=1, seed=7)
    obs, _ = env.reset(seed=7)
    pool_obs, _ = envs.reset()
    np.testing.assert_array_equal(np.float32(obs), pool_obs[0])
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(400):
        action = rng.uniform(-1, 1, 3).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        pool_obs, rewards, terminations, truncations, infos = envs.step(action[None])
        assert np.float32(reward) == rewards[0]
        assert terminated == terminations[0] and truncated == truncations[0]
        if terminated or truncated:
            np.testing.assert_array_equal(np.float32(obs), infos["final_obs"][0])
            # the pool reset itself with its next draws; so does an unseeded reset
            obs, _ = env.reset()
            episodes += 1
        np.testing.assert_array_equal(np.float32(obs), pool_obs[0])
    assert episodes >= 2


def test_time_limit_truncates_at_max_episode_steps():
    env = gymnasium.make("sac_engine/Swimmer-v5")  # never terminates
    env.reset(seed=0)
    zero = np.zeros(2, np.float32)
    for t in range(1, 1001):
        _, _, terminated, truncated, _ = env.step(zero)
        assert not terminated
        assert truncated == (t == 1000), t


def test_seeding():
    env = gymnasium.make("sac_engine/Ant-v5")
    a, _ = env.reset(seed=3)
    b, _ = env.reset()
    c, _ = env.reset(seed=3)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    # unseeded first resets differ between envs (seeded from the entropy of np_random)
    x = gymnasium.make("sac_engine/Ant-v5").reset()[0]
    y = gymnasium.make("sac_engine/Ant-v5").reset()[0]
    assert not np.array_equal(x, y)


def test_make_takes_the_v5_keyword_arguments():
    env = gymnasium.make("sac_engine/Ant-v5", ctrl_cost_weight=0.05,
                         healthy_z_range=(0.195, 0.75), include_cfrc_ext_in_observation=False,
                         exclude_current_positions_from_observation=False, frame_skip=10)
    assert env.observation_space.shape == (29,)
    assert env.unwrapped.dt == pytest.approx(0.1)
    obs, _ = env.reset(seed=0)
    _, _, _, _, info = env.step(np.full(8, 0.5, np.float32))
    assert info["reward_ctrl"] == pytest.approx(-0.05 * 8 * 0.25)
    with pytest.raises(ValueError, match="takes no keyword 'bogus'"):
        gymnasium.make("sac_engine/Hopper-v5", bogus=1)
