"""sac_engine.SAC on small deterministic Python envs written here (Gymnasium's reset/step
signatures, no gymnasium needed): the run directory, resume byte for byte, the three autoreset
modes of a vector env, bad spaces and values, exceptions and Ctrl-C from the env, the config.
Run: ctest -R python_tests, or PYTHONPATH=build/python python3 -m pytest python/tests/test_sac.py
"""
import importlib.util
import json
import os
import time

import numpy as np
import pytest

import sac_engine
from sac_engine.spaces import Box

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "check_safetensors", os.path.join(ROOT, "tests", "check_safetensors.py"))
check_safetensors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_safetensors)

# small enough for a test: 16x16 networks, batches of 32, one thread
SMALL = {"device": "cpu", "sac.hidden": [16, 16], "sac.batch_size": 32, "sac.buffer_size": 5000,
         "train.warmup_steps": 100, "train.log_every": 100, "train.eval_every": 200,
         "train.eval_episodes": 2, "train.threads": 1, "train.seed": 5}


class LineEnv:
    """A point on a line pushed by its action: obs (x, v, t / length), reward -x^2, episodes of
    `length` steps (truncated). Deterministic: reset ignores its seed. `fail` maps a step number
    (counted over the env's life) to what step() does then: an exception to raise, or
    "nan_obs", "nan_reward", "bad_shape"."""

    def __init__(self, length=25, fail=None, low=-2.0, high=2.0):
        self.observation_space = Box(-np.inf, np.inf, (3,))
        self.action_space = Box(low, high, (1,))
        self.length, self.fail, self.calls = length, fail or {}, 0

    def _obs(self):
        return np.array([self.x, self.v, self.t / self.length], np.float32)

    def reset(self, seed=None, options=None):
        self.x, self.v, self.t = 1.0, 0.0, 0
        return self._obs(), {}

    def step(self, action):
        self.calls += 1
        what = self.fail.get(self.calls)
        if isinstance(what, BaseException):
            raise what
        a = float(np.clip(action[0], -2, 2))
        self.v = 0.9 * self.v + 0.1 * a
        self.x = float(np.clip(self.x + 0.1 * self.v, -4, 4))
        self.t += 1
        obs, reward = self._obs(), -self.x * self.x
        if what == "nan_obs":
            obs[1] = np.nan
        if what == "nan_reward":
            reward = float("inf")
        if what == "bad_shape":
            obs = obs[:2]
        return obs, reward, False, self.t >= self.length, {}


def small(**extra):
    d = dict(SMALL)
    d.update(extra)
    return d


def model(env, run_dir, eval_env=None, **extra):
    return sac_engine.SAC(env, eval_env=eval_env if eval_env is not None else LineEnv(),
                          run_dir=str(run_dir), **small(**extra))


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def tensors(path):
    """{name: bytes} and metadata of a checkpoint file."""
    t, meta = check_safetensors.fallback_load(path)
    return {k: v[2] for k, v in t.items()}, meta


# ---- a run and its folder


def test_a_run_writes_the_run_directory_of_sac_train(tmp_path):
    run = tmp_path / "run"
    m = model(LineEnv(), run, **{"train.checkpoint_every": 200})
    m.learn(600)
    assert m.num_timesteps == 600
    config = json.load(open(run / "config.json"))
    assert config["env"]["python"] == "LineEnv" and config["env"]["act_dim"] == 1
    assert config["sac"]["hidden"] == [16, 16] and config["train"]["total_steps"] == 600
    lines = read_jsonl(run / "metrics.jsonl")
    assert [l["step"] for l in lines] == [100, 200, 300, 400, 500, 600]
    # updates: one per step after the warm-up of 100
    assert lines[-1]["updates"] == 500 and "critic_loss" in lines[-1]
    assert "episode_return" in lines[-1]
    # unstable_episodes counts MuJoCo blow-ups of the built-in tasks: a Python env has none to
    # count, so no line (nor the summary) claims a number
    assert not any("unstable_episodes" in l for l in lines)
    rows = open(run / "eval.csv").read().splitlines()
    assert rows[0] == "step,wall_seconds,mean_return,min_return,max_return,episodes"
    assert [r.split(",")[0] for r in rows[1:]] == ["200", "400", "600"]
    assert os.listdir(run / "tb")
    names = sorted(os.listdir(run / "checkpoints"))
    assert names == ["ckpt-000000000600.replay.safetensors", "ckpt-000000000600.safetensors"]
    for name in names:
        check_safetensors.check(str(run / "checkpoints" / name), use_package=False)
    summary = json.load(open(run / "summary.json"))
    assert summary["steps"] == 600 and summary["final_eval_return"] is not None
    assert "unstable_episodes" not in summary


def test_predict_and_policy_give_actions_in_the_bounds(tmp_path):
    m = model(LineEnv(low=-3.0, high=1.0), tmp_path / "run")
    m.learn(300)
    one, state = m.predict(np.zeros(3))
    assert one.shape == (1,) and state is None
    many, _ = m.predict(np.random.default_rng(0).normal(size=(700, 3)))
    assert many.shape == (700, 1) and np.all(many >= -3.0) and np.all(many <= 1.0)
    assert np.array_equal(m.policy.act(np.zeros((1, 3)))[0], one)
    assert m.policy.obs_dim == 3 and m.policy.act_dim == 1 and m.policy.action_low == [-3.0]
    sampled = m.predict(np.zeros((50, 3)), deterministic=False)[0]
    assert len(set(sampled[:, 0].tolist())) > 1


def test_save_and_load_give_the_same_actions(tmp_path):
    m = model(LineEnv(), tmp_path / "run")
    m.learn(300)
    m.save(tmp_path / "saved")
    loaded = sac_engine.SAC.load(tmp_path / "saved")
    obs = np.random.default_rng(1).normal(size=(20, 3))
    assert np.array_equal(loaded.predict(obs)[0], m.predict(obs)[0])
    assert loaded.num_timesteps == 300
    with pytest.raises(ValueError, match="no env"):
        loaded.learn(400)
    with pytest.raises(ValueError, match="obs_dim"):
        sac_engine.SAC.load(tmp_path / "saved", env=_OtherObsEnv())


class _SpecEnv(LineEnv):
    """LineEnv with a Gymnasium-like spec (an id), behind a wrapper-like `unwrapped`."""

    class spec:
        id = "Line-v0"


def test_the_policy_file_loads_without_the_env_and_acts_as_predict(tmp_path):
    m = model(_SpecEnv(low=-3.0, high=1.0), tmp_path / "run")
    m.learn(300)
    m.save(tmp_path / "saved")
    obs = np.random.default_rng(2).normal(size=(40, 3)).astype(np.float32)
    for path in (tmp_path / "run" / "policy.safetensors", tmp_path / "saved" / "policy.safetensors"):
        check_safetensors.check(str(path), use_package=False)
        p = sac_engine.Policy.load(str(path))
        assert p.env_id == "Line-v0" and p.obs_dim == 3 and p.act_dim == 1
        assert p.action_low == [-3.0] and p.action_high == [1.0]
        assert np.array_equal(p.act(obs), m.predict(obs, deterministic=True)[0])
        assert np.array_equal(p.act(obs[0]), m.predict(obs[0], deterministic=True)[0])
        _, meta = tensors(str(path))
        env = json.loads(meta["python_env"])
        assert env["class"] == "_SpecEnv" and env["spec_id"] == "Line-v0"
        assert env["hidden"] == [16, 16] and env["log_std_min"] == -5.0
        assert env["log_std_max"] == 2.0 and env["mujoco_version"]
        assert env["obs_dim"] == 3 and env["action_low"] == [-3.0]


def test_a_python_env_run_names_its_env_not_a_built_in_task(tmp_path):
    import subprocess
    from conftest import sac_binary
    run = tmp_path / "run"
    m = model(_SpecEnv(), run)
    m.learn(300)
    ckpt = sorted(str(p) for p in (run / "checkpoints").iterdir() if ".replay." not in p.name)[-1]
    _, meta = tensors(ckpt)
    env = json.loads(meta["config"])["env"]
    assert env["python"] == "Line-v0" and env["class"] == "_SpecEnv" and "id" not in env
    # a checkpoint loads as a policy too, with the same actions
    obs = np.random.default_rng(4).normal(size=(8, 3))
    assert np.array_equal(sac_engine.Policy.load(ckpt).act(obs), m.predict(obs)[0])
    # sac train --resume and sac eval refuse the run rather than run HalfCheetah-v5
    before = sorted(os.listdir(run / "checkpoints"))
    r = subprocess.run([sac_binary(), "train", "--resume", str(run), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "sac_engine.SAC run of the Python env Line-v0" in r.stderr
    assert "sac_engine.SAC.load(" in r.stderr
    assert sorted(os.listdir(run / "checkpoints")) == before
    r = subprocess.run([sac_binary(), "eval", str(run / "policy.safetensors")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "policy of the Python env Line-v0" in r.stderr
    # and the run still continues from Python
    sac_engine.SAC.load(run, env=_SpecEnv(), eval_env=LineEnv()).learn(400)
    assert json.load(open(run / "summary.json"))["steps"] == 400


def test_each_seed_writes_its_policy_file(tmp_path):
    m = sac_engine.SAC([LineEnv(), LineEnv()], eval_env=[LineEnv(), LineEnv()],
                       run_dir=str(tmp_path / "run"), **small(**{"train.seeds": [3, 4]}))
    m.learn(300)
    obs = np.random.default_rng(3).normal(size=(10, 3))
    for k, seed in enumerate([3, 4]):
        p = sac_engine.Policy.load(str(tmp_path / "run" / f"seed-{seed}" / "policy.safetensors"))
        assert np.array_equal(p.act(obs), m.policy_of_seed(k).act(obs))
        assert json.loads(p.config_json)["train"]["seed"] == seed


class _OtherObsEnv(LineEnv):
    def __init__(self):
        super().__init__()
        self.observation_space = Box(-1, 1, (4,))


# ---- resume


def _final_state(run):
    ckpt = run / "checkpoints"
    main = sorted(n for n in os.listdir(ckpt) if ".replay." not in n)[-1]
    replay = main.replace(".safetensors", ".replay.safetensors")
    t, _ = tensors(str(ckpt / main))
    t.pop("trainer.wall_seconds")
    return main, t, open(ckpt / replay, "rb").read()


def _log_numbers(run):
    drop = {"wall_seconds", "sps", "ups"}
    metrics = [{k: v for k, v in l.items() if k not in drop}
               for l in read_jsonl(run / "metrics.jsonl")]
    evals = [r.split(",")[:1] + r.split(",")[2:] for r in
             open(run / "eval.csv").read().splitlines()]
    return metrics, evals


class Boom(Exception):
    pass


def test_a_resumed_run_is_byte_identical_to_a_straight_one(tmp_path):
    extra = {"train.checkpoint_every": 100}
    straight = tmp_path / "straight"
    model(LineEnv(), straight, **extra).learn(500)

    # the env raises in its 260th step: the exception comes through unchanged, the run keeps
    # its checkpoint of step 200 (an episode boundary: episodes of 25 steps)
    resumed = tmp_path / "resumed"
    boom = Boom("the env broke")
    m = model(LineEnv(fail={260: boom}), resumed, **extra)
    with pytest.raises(Boom) as raised:
        m.learn(500)
    assert raised.value is boom
    assert raised.traceback[-1].name == "step"  # LineEnv.step raised it
    assert sorted(os.listdir(resumed / "checkpoints"))[-1] == "ckpt-000000000200.safetensors"
    m2 = sac_engine.SAC.load(resumed, env=LineEnv(), eval_env=LineEnv())
    assert m2.num_timesteps == 200
    m2.learn(500)

    a, b = _final_state(straight), _final_state(resumed)
    assert a[0] == b[0] == "ckpt-000000000500.safetensors"
    assert a[1].keys() == b[1].keys()
    for name in a[1]:
        assert a[1][name] == b[1][name], name
    assert a[2] == b[2]  # the replay file, byte for byte
    assert _log_numbers(straight) == _log_numbers(resumed)


def test_ctrl_c_stops_after_a_checkpoint_and_the_run_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    m = model(LineEnv(fail={150: KeyboardInterrupt()}), run)
    assert m.learn(400) is m
    assert m.interrupted and m.num_timesteps == 149
    assert "stopped by Ctrl-C at step 149" in capsys.readouterr().err
    assert os.path.exists(run / "checkpoints" / "ckpt-000000000149.safetensors")
    m2 = sac_engine.SAC.load(run, env=LineEnv(), eval_env=LineEnv())
    m2.learn(400)
    assert read_jsonl(run / "metrics.jsonl")[-1]["step"] == 400


# ---- bad input from the env, at the step it happens


@pytest.mark.parametrize("what,message", [
    ("nan_obs", r"non-finite observation: obs\[1\] = nan .* at step 150"),
    ("nan_reward", r"non-finite reward: reward\[0\] = inf .* at step 150"),
    ("bad_shape", r"observation of shape \(2,\); its observation space says \(3,\)"),
])
def test_bad_values_from_step_stop_the_run_keeping_its_checkpoint(tmp_path, what, message):
    run = tmp_path / "run"
    m = model(LineEnv(fail={150: what}), run, **{"train.checkpoint_every": 100})
    with pytest.raises(ValueError, match=message):
        m.learn(400)
    assert sorted(os.listdir(run / "checkpoints"))[-1] == "ckpt-000000000100.safetensors"
    sac_engine.SAC.load(run, env=LineEnv(), eval_env=LineEnv()).learn(200)


def _space(name):
    """An object of a class named `name` (as Gymnasium's Discrete or Dict), repr NAME(3)."""
    return type(name, (), {"__repr__": lambda s: f"{name}(3)"})()


def test_spaces_sac_cannot_take_are_refused_before_training(tmp_path):
    env = LineEnv()
    env.action_space = _space("Discrete")
    with pytest.raises(TypeError, match=r"action space is Discrete\(3\): sac_engine.SAC takes Box"):
        sac_engine.SAC(env, run_dir=False)
    env = LineEnv()
    env.observation_space = _space("Dict")
    with pytest.raises(TypeError, match="observation space is Dict"):
        sac_engine.SAC(env, run_dir=False)
    with pytest.raises(ValueError, match=r"infinite bound \(action 0: \[-inf, 1.0\]\)"):
        sac_engine.SAC(LineEnv(low=-np.inf, high=1.0), run_dir=False)
    env = LineEnv()
    env.observation_space = Box(-1, 1, (2, 3))
    with pytest.raises(ValueError, match="1-D Boxes"):
        sac_engine.SAC(env, run_dir=False)


def test_the_config_is_sac_trains_without_env_keys():
    with pytest.raises(sac_engine.ConfigError, match="'env.id' does not apply"):
        sac_engine.SAC(LineEnv(), {"env": {"id": "Hopper-v5"}}, run_dir=False)
    with pytest.raises(sac_engine.ConfigError, match="'env.num_envs' does not apply"):
        sac_engine.SAC(LineEnv(), run_dir=False, **{"env.num_envs": 4})
    with pytest.raises(sac_engine.ConfigError, match="sac.batch_size"):
        sac_engine.SAC(LineEnv(), run_dir=False, batch_size=0)
    with pytest.raises(sac_engine.ConfigError, match="unknown config key 'learning_rate'"):
        sac_engine.SAC(LineEnv(), run_dir=False, learning_rate=1e-3)
    with pytest.raises(sac_engine.ConfigError, match="'train.video_every' does not apply"):
        sac_engine.SAC(LineEnv(), run_dir=False, video_every=1000)
    with pytest.raises(sac_engine.ConfigError, match="sequential loop"):
        sac_engine.SAC(LineEnv(), run_dir=False, pipeline="overlapped")
    # a last part names the one key outside env.*: threads is train.threads
    m = sac_engine.SAC(LineEnv(), run_dir=False, warmup_steps=7, threads=1, **{"sac.gamma": 0.9})
    assert m.config["train"]["warmup_steps"] == 7 and m.config["sac"]["gamma"] == 0.9
    assert m.config["train"]["threads"] == 1
    # the defaults are sac train's
    assert m.config["sac"]["hidden"] == [256, 256] and m.config["sac"]["batch_size"] == 256


# ---- vector envs in Gymnasium 1.x's three autoreset modes


class CountingVecEnv:
    """N envs whose observation is (episode, t, env index); env j's episodes last lengths[j]
    steps and end terminated when the episode number is odd, truncated when even; the reward is
    t. Autoreset as Gymnasium 1.x's vector envs in `mode` (NextStep, SameStep, Disabled)."""

    def __init__(self, mode, lengths=(4, 5, 7)):
        self.num_envs = len(lengths)
        self.lengths = np.array(lengths)
        self.single_observation_space = Box(-np.inf, np.inf, (3,))
        self.single_action_space = Box(-1, 1, (1,))
        self.metadata = {"autoreset_mode": mode}
        self.mode = mode
        self.episode = np.full(self.num_envs, -1)
        self.t = np.zeros(self.num_envs, int)
        self.pending = np.zeros(self.num_envs, bool)
        self.real_steps = 0

    def _obs(self):
        return np.stack([self.episode, self.t, np.arange(self.num_envs)], 1).astype(np.float32)

    def _reset_rows(self, mask):
        self.episode[mask] += 1
        self.t[mask] = 0

    def reset(self, seed=None, options=None):
        mask = (options or {}).get("reset_mask", np.ones(self.num_envs, bool))
        self._reset_rows(mask)
        return self._obs(), {}

    def step(self, actions):
        assert np.asarray(actions).shape == (self.num_envs, 1)
        stepping = ~self.pending
        self._reset_rows(self.pending)
        self.t[stepping] += 1
        self.real_steps += int(stepping.sum())
        done = stepping & (self.t == self.lengths)
        terminated = done & (self.episode % 2 == 1)
        truncated = done & ~terminated
        reward = np.where(stepping, self.t, 0).astype(np.float64)
        obs, info = self._obs(), {}
        self.pending[:] = False
        if self.mode == "NextStep":
            self.pending = done.copy()
        elif self.mode == "SameStep" and done.any():
            info["final_obs"] = np.array([obs[j] if done[j] else None for j in
                                          range(self.num_envs)], dtype=object)
            self._reset_rows(done)
            obs = self._obs()
        return obs, reward, terminated, truncated, info


def _replay_rows(folder):
    ckpt = os.path.join(folder, "checkpoints")
    name = [n for n in os.listdir(ckpt) if ".replay." in n][0]
    t, _ = check_safetensors.fallback_load(os.path.join(ckpt, name))
    arr = lambda k: np.frombuffer(t[k][2], np.float32).reshape(t[k][1])
    return arr("obs"), arr("reward"), arr("next_obs"), arr("terminated")


@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
def test_vector_envs_store_no_transition_across_an_episode_boundary(tmp_path, mode):
    env = CountingVecEnv(mode)
    m = sac_engine.SAC(env, run_dir=False, **small(**{"train.warmup_steps": 10000}))
    m.learn(3 * 60)  # 60 batch steps of 3 envs
    m.save(tmp_path / "saved")
    obs, reward, next_obs, terminated = _replay_rows(str(tmp_path / "saved"))
    assert len(obs) == env.real_steps  # every real step, and only those
    assert np.array_equal(next_obs[:, 0], obs[:, 0])  # the same episode
    assert np.array_equal(next_obs[:, 2], obs[:, 2])  # of the same env
    assert np.array_equal(next_obs[:, 1], obs[:, 1] + 1)  # one step on
    assert np.array_equal(reward.reshape(-1), next_obs[:, 1])
    # episode ends: the real final observation; terminated only for odd episodes
    lengths = env.lengths[obs[:, 2].astype(int)]
    ended = next_obs[:, 1] == lengths
    assert ended.sum() > 10
    assert np.array_equal(terminated.reshape(-1) == 1, ended & (next_obs[:, 0] % 2 == 1))


# ---- seeds as members


def test_seeds_train_as_members_each_as_a_run_of_its_own(tmp_path):
    both = sac_engine.SAC([LineEnv(), LineEnv()], eval_env=[LineEnv(), LineEnv()],
                          run_dir=str(tmp_path / "both"), **small(**{"train.seeds": [3, 4]}))
    both.learn(300)
    alone = model(LineEnv(), tmp_path / "alone", **{"train.seed": 4})
    alone.learn(300)
    obs = np.random.default_rng(2).normal(size=(10, 3))
    assert np.array_equal(both.policy_of_seed(1).act(obs), alone.predict(obs)[0])
    assert not np.array_equal(both.policy_of_seed(0).act(obs), alone.predict(obs)[0])
    assert _log_numbers(tmp_path / "both" / "seed-4") == _log_numbers(tmp_path / "alone")
    assert json.load(open(tmp_path / "both" / "summary.json"))["seeds"] == [3, 4]
    with pytest.raises(ValueError, match=r"1 env\(s\) for 2 seed\(s\)"):
        sac_engine.SAC(LineEnv(), run_dir=False, **{"train.seeds": [3, 4]})


class _ExplodingEnv(LineEnv):
    """LineEnv whose reward is near float32's largest: the critic's loss overflows at its first
    updates, as a seed of `sac train` with diverging settings does."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, 3e38, terminated, truncated, info


def test_a_seed_that_diverges_stops_alone_the_others_go_on(tmp_path, capsys):
    run = tmp_path / "run"
    m = sac_engine.SAC([LineEnv(), _ExplodingEnv()], eval_env=[LineEnv(), LineEnv()],
                       run_dir=str(run), **small(**{"train.seeds": [3, 4]}))
    m.learn(400)
    assert "seed 4 diverged at step" in capsys.readouterr().err
    stopped = json.load(open(run / "seed-4" / "summary.json"))
    assert stopped["diverged"]["step"] <= 200 and stopped["final_eval_return"] is None
    assert "is not finite" in stopped["diverged"]["message"]
    assert not (run / "seed-4" / "policy.safetensors").exists()
    assert max(l["step"] for l in read_jsonl(run / "seed-4" / "metrics.jsonl")) < 400
    # seed 3 trained to the end, exactly as a run of its own
    alone = model(LineEnv(), tmp_path / "alone", **{"train.seed": 3})
    alone.learn(400)
    assert _log_numbers(run / "seed-3") == _log_numbers(tmp_path / "alone")
    assert json.load(open(run / "seed-3" / "summary.json"))["steps"] == 400
    obs = np.random.default_rng(5).normal(size=(6, 3))
    p = sac_engine.Policy.load(str(run / "seed-3" / "policy.safetensors"))
    assert np.array_equal(p.act(obs), alone.predict(obs)[0])
    top = json.load(open(run / "summary.json"))
    assert "diverged" in top["per_seed"][1] and "diverged" not in top["per_seed"][0]
    # the final checkpoint was written (the stopped seed's numbers are not checked)
    assert any(n.endswith("000400.safetensors") for n in os.listdir(run / "checkpoints"))


def test_a_run_of_one_seed_that_diverges_stops(tmp_path):
    m = model(_ExplodingEnv(), tmp_path / "run")
    with pytest.raises(RuntimeError, match="training diverged at step"):
        m.learn(400)


def test_when_every_seed_diverged_the_run_stops(tmp_path):
    m = sac_engine.SAC([_ExplodingEnv(), _ExplodingEnv()], eval_env=[LineEnv(), LineEnv()],
                       run_dir=str(tmp_path / "run"), **small(**{"train.seeds": [3, 4]}))
    with pytest.raises(RuntimeError, match="the last seed still training"):
        m.learn(400)


class _TimedLearner:
    """A learner that counts, around each update(), how far a counter thread advanced."""

    def __init__(self, learner, counter):
        object.__setattr__(self, "_l", learner)
        object.__setattr__(self, "_counter", counter)
        object.__setattr__(self, "grown", 0)
        object.__setattr__(self, "calls", 0)

    def __getattr__(self, name):
        return getattr(self._l, name)

    def __setattr__(self, name, value):
        setattr(self._l, name, value)

    def update(self, *args):
        before = self._counter[0]
        self._l.update(*args)
        object.__setattr__(self, "grown", self.grown + self._counter[0] - before)
        object.__setattr__(self, "calls", self.calls + 1)


def test_the_gil_is_released_while_updating(tmp_path):
    import sys
    import threading
    m = model(LineEnv(), tmp_path / "run", **{"sac.hidden": [128, 128], "sac.batch_size": 128,
                                              "train.updates_per_step": 8})
    counter, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # hands the GIL back at once when the main thread waits for it

    timed = _TimedLearner(m._learner, counter)
    m._learner = timed
    # no forced switches: the counter runs only where the main thread releases the GIL
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    thread = threading.Thread(target=count)
    thread.start()
    try:
        m.learn(300)
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join()
    assert timed.calls == 300 and m._learner.updates == 200 * 8
    assert timed.grown > 200  # the counter went on during the update calls
