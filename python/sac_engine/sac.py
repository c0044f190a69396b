"""sac_engine.SAC: the engine's SAC learner for envs that step in Python, in the shape
Stable-Baselines3 users know.

    import gymnasium as gym
    import sac_engine
    model = sac_engine.SAC(gym.make("Pendulum-v1"), {"sac": {"hidden": [64, 64]}},
                           total_steps=20000, run_dir="runs/pendulum")
    model.learn(20000)
    action, _ = model.predict(obs, deterministic=True)
    model.save("pendulum-model"); model = sac_engine.SAC.load("pendulum-model")

The env is a gymnasium.Env (or anything with its reset/step signature) with Box observation
and action spaces, or a gymnasium.vector.VectorEnv in any autoreset mode of Gymnasium 1.x
(next-step, same-step, disabled); with train.seeds, a list of such envs, one per seed. The env
steps in Python; the replay rings, the updates (the GIL released) and the random streams live in
C++ (_core.Learner, python/bindings/learner.cpp), on the CPU or CUDA backend by `device`.

No transition crosses an episode boundary; a truncated episode bootstraps from its real final
observation, a terminated one does not. Observations are taken as float32; actions are mapped
from (-1, 1) to the action Box's bounds.

The config is `sac train`'s: the same keys (sac.*, train.*, device, log.*), defaults and
validation; env.* does not apply (the env is the one given) and is refused. Keyword overrides
name a key by its dotted name (**{"sac.batch_size": 64}) or by its last part when that is
unique (batch_size=64, warmup_steps=1000).

A run directory (run_dir) holds what `sac train` writes: config.json (the env's description in
its "env"), metrics.jsonl, eval.csv, tb/ and checkpoints/, written by the engine's own writers.
Resume (SAC.load(run_dir, env).learn(total)) restores the networks, the optimiser state, the
replay rings, the random streams (warm-up actions, action noise, minibatch draws) and the
counters; it cannot restore the env's own state: the env is reset (seed train.seed + the step
reached) and new episodes begin. A deterministic env whose episodes end at the checkpoint's
step therefore continues exactly as the run that never stopped (python/tests/test_sac.py).
Tested by python/tests/test_sac.py and tests/pypi/test_sac_gymnasium.py.
"""
import json
import math
import os
import sys
import time

import numpy as np

from . import _core

_EVAL_SEED_OFFSET = 1000003  # evaluation episodes are seeded apart from training episodes


# ---- spaces and envs


def _space_name(space):
    text, kind = repr(space), type(space).__name__
    return text if text.startswith(kind) else f"{kind} {text}"


def _box_bounds(space, what):
    """(shape, low, high) of a Box `space`; TypeError naming any other space."""
    if type(space).__name__ != "Box" or not hasattr(space, "low") or not hasattr(space, "high"):
        raise TypeError(f"{what} is {_space_name(space)}: sac_engine.SAC takes Box "
                        "observation and action spaces only")
    shape = tuple(space.shape)
    if len(shape) != 1:
        raise ValueError(f"{what} is {space!r} of shape {shape}: sac_engine.SAC takes 1-D Boxes "
                         "(gymnasium.wrappers.FlattenObservation flattens others)")
    low = np.broadcast_to(np.asarray(space.low, np.float64), shape)
    high = np.broadcast_to(np.asarray(space.high, np.float64), shape)
    return shape, low, high


def _is_vector_env(env):
    return hasattr(env, "num_envs") and hasattr(env, "single_observation_space")


def _autoreset_mode(env):
    mode = getattr(env, "metadata", {}).get("autoreset_mode", "NextStep")
    name = str(getattr(mode, "value", mode)).replace("_", "").lower()
    if name not in ("nextstep", "samestep", "disabled"):
        raise ValueError(f"the vector env's autoreset_mode {mode!r} is none of Gymnasium's "
                         "(NextStep, SameStep, Disabled)")
    return name


class _Stepped:
    """One batch step of N envs, as the learner stores it: the transition's next observation
    (the real final one where an episode ended), reward, terminated and keep (0: no transition,
    an autoreset step), the observations the next step starts from, and the finished episodes'
    returns."""

    def __init__(self, next_obs, reward, terminated, keep, obs, finished):
        self.next_obs, self.reward, self.terminated, self.keep = next_obs, reward, terminated, keep
        self.obs, self.finished = obs, finished


class _EnvDriver:
    """Steps one env (or vector env) of one seed and checks what it returns."""

    def __init__(self, env, obs_dim, act_dim):
        self.env, self.O, self.A = env, obs_dim, act_dim
        self.vector = _is_vector_env(env)
        self.N = int(env.num_envs) if self.vector else 1
        self.mode = _autoreset_mode(env) if self.vector else None
        self.returns = np.zeros(self.N)
        self.after_done = np.zeros(self.N, bool)  # next-step mode: the next step resets these
        self.step_index = 0  # for messages

    def _obs(self, obs, what):
        o = np.asarray(obs, dtype=np.float32)
        want = (self.N, self.O) if self.vector else (self.O,)
        if o.shape != want:
            raise ValueError(f"the env's {what} returned an observation of shape {o.shape}; "
                             f"its observation space says {want}")
        if not np.all(np.isfinite(o)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(o))[0])
            raise ValueError(f"the env's {what} returned a non-finite observation: "
                             f"obs{list(bad)} = {o[bad]} (float32) at step {self.step_index}")
        return o.reshape(self.N, self.O)

    def _flags(self, x, what, dtype):
        a = np.asarray(x, dtype=dtype)
        want = (self.N,) if self.vector else ()
        if a.shape != want:
            raise ValueError(f"the env's step returned {what} of shape {a.shape}; expected {want}")
        return a.reshape(self.N)

    def reset(self, seed):
        obs, _ = self.env.reset(seed=int(seed))
        self.returns[:] = 0
        self.after_done[:] = False
        return self._obs(obs, "reset")

    def step(self, actions):
        """Steps with `actions` (N x act_dim, in the env's bounds); a _Stepped."""
        self.step_index += 1
        act = actions if self.vector else actions[0]
        obs, reward, terminated, truncated, info = self.env.step(act)
        o = self._obs(obs, "step")
        r = self._flags(reward, "a reward", np.float64)
        if not np.all(np.isfinite(r)) or not np.all(np.isfinite(r.astype(np.float32))):
            j = int(np.argwhere(~np.isfinite(r.astype(np.float32)))[0][0])
            raise ValueError(f"the env's step returned a non-finite reward: reward[{j}] = {r[j]} "
                             f"(float32 {np.float32(r[j])}) at step {self.step_index}")
        term = self._flags(terminated, "terminated", bool)
        trunc = self._flags(truncated, "truncated", bool)
        done = term | trunc
        keep = ~self.after_done
        next_obs = o.copy()
        if self.mode == "samestep" and done.any():
            final = info.get("final_obs", info.get("final_observation"))
            if final is None:
                raise ValueError("the same-step vector env ended an episode without "
                                 "info['final_obs']")
            for j in np.flatnonzero(done):
                next_obs[j] = self._obs_row(final[j])
        finished = []
        self.returns[keep] += r[keep]
        for j in np.flatnonzero(done & keep):
            finished.append(float(self.returns[j]))
            self.returns[j] = 0.0
        if not self.vector and done[0]:
            o = self.reset_after_episode()
        elif self.mode == "disabled" and done.any():
            obs, _ = self.env.reset(options={"reset_mask": done})
            o = self._obs(obs, "reset")
        if self.mode == "nextstep":
            self.after_done = done & keep
        return _Stepped(next_obs, r.astype(np.float32), term.astype(np.float32),
                        keep.astype(np.float32), o, finished)

    def _obs_row(self, row):
        o = np.asarray(row, dtype=np.float32)
        if o.shape != (self.O,) or not np.all(np.isfinite(o)):
            raise ValueError(f"the env's final observation {o!r} is not {self.O} finite values "
                             f"(step {self.step_index})")
        return o

    def reset_after_episode(self):
        obs, _ = self.env.reset()
        return self._obs(obs, "reset")


def _env_description(env, obs_dim, low, high):
    spec = getattr(env, "spec", None)
    spec_id = spec.id if spec is not None and getattr(spec, "id", None) else None
    cls = type(getattr(env, "unwrapped", env)).__name__
    return {"python": spec_id or cls, "class": cls, "spec_id": spec_id, "obs_dim": obs_dim,
            "act_dim": len(low), "action_low": [float(x) for x in low],
            "action_high": [float(x) for x in high]}


def _spaces_of(env):
    if _is_vector_env(env):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


# ---- config


def _override_strings(overrides):
    """Keyword overrides as `key=json` strings; a key is dotted, or a unique last part."""
    names = [n for n in _core.config_key_names() if not n.startswith("env.")]
    out = []
    for key, value in overrides.items():
        if "." not in key and key != "device":
            matches = [n for n in names if n.split(".")[-1] == key]
            if len(matches) != 1:
                raise _core.ConfigError(
                    f"unknown config key '{key}'" if not matches else
                    f"config key '{key}' is ambiguous: {', '.join(matches)}")
            key = matches[0]
        out.append(f"{key}={json.dumps(value)}")
    return out


def _config_text(config):
    if config is None:
        return "{}"
    if isinstance(config, dict):
        return json.dumps(config)
    path = os.fspath(config)
    if not os.path.exists(path):
        raise FileNotFoundError(f"cannot read config file '{path}'")
    with open(path) as f:
        return f.read()


# ---- the model


class SACPolicy:
    """The actor of a SAC model, with sac_engine.Policy's interface (act, obs_dim, act_dim,
    action_low, action_high, device, config_json)."""

    def __init__(self, model, seed_index=0):
        self._model, self._seed_index = model, seed_index

    def act(self, obs, deterministic=True):
        """Actions in the env's bounds: (n, act_dim) for (n, obs_dim), (act_dim,) for one."""
        return self._model._learner.act(np.asarray(obs, np.float32), deterministic,
                                        self._seed_index)

    obs_dim = property(lambda self: self._model._desc["obs_dim"])
    act_dim = property(lambda self: self._model._desc["act_dim"])
    action_low = property(lambda self: list(self._model._desc["action_low"]))
    action_high = property(lambda self: list(self._model._desc["action_high"]))
    env_id = property(lambda self: self._model._desc["python"])
    device = property(lambda self: self._model._learner.device)
    config_json = property(lambda self: self._model._learner.config_json)


class SAC:
    """Soft Actor-Critic on a Python env, the engine's learner underneath (see the module).

    env: a gymnasium.Env or gymnasium.vector.VectorEnv with Box spaces (None only through
    SAC.load, for predicting), or a list of them, one per seed of train.seeds.
    config: None, a dict in the config files' layout, or a config file path.
    eval_env: the env (or list, one per seed) evaluations run on; None: one made from
    env.spec by gymnasium.make when the env has a spec, else no evaluation.
    run_dir: the run directory (None: runs/<env>-s<seed>-<time> at the first learn(); False:
    none, nothing written).
    overrides: config keys, dotted (**{"sac.batch_size": 64}) or by a unique last part.
    Bad spaces or settings raise TypeError, ValueError or sac_engine.ConfigError before any work.
    """

    def __init__(self, env, config=None, eval_env=None, run_dir=None, _desc=None, **overrides):
        self._config_text = _config_text(config)
        self._overrides = _override_strings(overrides)
        resolved = json.loads(_core.resolve_config(self._config_text, self._overrides))
        self._seeds = resolved["train"].get("seeds") or [resolved["train"]["seed"]]
        # with train.seeds a seed whose numbers go non-finite stops alone, as in `sac train`
        self._per_seed = bool(resolved["train"].get("seeds"))
        self._stopped_because = {}
        self._envs = self._env_list(env, "env")
        if self._envs is None:
            if _desc is None:
                raise TypeError("SAC(env): env is None")
            self._desc, self.n_envs = _desc, 1
        else:
            self._desc, self.n_envs = self._describe(self._envs)
            if _desc is not None:
                self._check_fits(_desc)
        low, high = self._desc["action_low"], self._desc["action_high"]
        self._learner = _core.Learner(self._config_text, self._overrides, self._desc["obs_dim"],
                                      self._desc["act_dim"], low, high, self.n_envs)
        self.config = json.loads(self._learner.config_json)  # the resolved config, less env.*
        self.config.pop("env", None)
        self._eval_envs = self._env_list(eval_env, "eval_env") if eval_env is not None else None
        self._run_dir = run_dir
        self._run_open = False
        self._resume_step = -1  # a loaded run directory: the step its checkpoint holds
        self._obs = None  # the observations the next step starts from (None: reset first)
        self.interrupted = False

    # ---- envs

    def _env_list(self, env, what):
        if env is None:
            return None
        envs = list(env) if isinstance(env, (list, tuple)) else [env]
        if len(envs) != len(self._seeds):
            raise ValueError(f"{what}: {len(envs)} env(s) for {len(self._seeds)} seed(s) "
                             f"{self._seeds}: give one env (or vector env) per seed")
        return envs

    def _describe(self, envs):
        first = None
        for k, env in enumerate(envs):
            obs_space, act_space = _spaces_of(env)
            (obs_dim,), _, _ = _box_bounds(obs_space, "the observation space")
            _, low, high = _box_bounds(act_space, "the action space")
            bad = np.flatnonzero(~(np.isfinite(low) & np.isfinite(high)))
            if bad.size:
                j = int(bad[0])
                raise ValueError(f"the action space {act_space!r} has an infinite bound "
                                 f"(action {j}: [{low[j]}, {high[j]}]): SAC's actions lie in a "
                                 "bounded Box")
            n = int(env.num_envs) if _is_vector_env(env) else 1
            desc = _env_description(env, obs_dim, low, high)
            if first is None:
                first = (desc, n)
            elif (desc["obs_dim"], desc["action_low"], desc["action_high"], n) != (
                    first[0]["obs_dim"], first[0]["action_low"], first[0]["action_high"],
                    first[1]):
                raise ValueError(f"the env of seed {self._seeds[k]} differs from the first in "
                                 "its spaces or number of envs")
        return first

    def _check_fits(self, desc):
        for key in ("obs_dim", "act_dim", "action_low", "action_high"):
            if self._desc[key] != desc[key]:
                raise ValueError(f"the env does not fit the saved model: its {key} is "
                                 f"{self._desc[key]}, the model's {desc[key]}")

    def _make_eval_envs(self):
        if self._eval_envs is not None or self._envs is None:
            return self._eval_envs
        spec = getattr(self._envs[0], "spec", None)
        if spec is None:
            return None
        import gymnasium
        make = (lambda: gymnasium.make(spec.id)) if _is_vector_env(self._envs[0]) else (
            lambda: gymnasium.make(spec))
        self._eval_envs = [make() for _ in self._seeds]
        return self._eval_envs

    def set_env(self, env):
        """Trains on `env` (one per seed) from the next learn(), which resets it."""
        envs = self._env_list(env, "env")
        desc, n = self._describe(envs)
        self._check_fits(desc)
        if n != self.n_envs:
            raise ValueError(f"the env steps {n} envs per seed, the model {self.n_envs}")
        self._envs, self._obs = envs, None

    def get_env(self):
        return None if self._envs is None else (
            self._envs[0] if len(self._envs) == 1 else self._envs)

    # ---- properties

    @property
    def num_timesteps(self):
        """Env steps so far, per seed (all envs of a seed together), as train.total_steps."""
        return self._learner.steps

    @property
    def policy(self):
        """Seed number 0's actor, usable as a sac_engine.Policy."""
        return SACPolicy(self)

    def policy_of_seed(self, seed_index):
        return SACPolicy(self, seed_index)

    @property
    def run_dir(self):
        return self._run_dir if self._run_dir is not False else None

    # ---- predicting

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        """(actions, None) as Stable-Baselines3 returns them: actions in the env's bounds,
        (n, act_dim) for a batch of observations, (act_dim,) for one."""
        return self._learner.act(np.asarray(obs, np.float32), deterministic, 0), None

    # ---- learning

    def learn(self, total_timesteps, callback=None, progress_bar=False):
        """Trains until the run has taken `total_timesteps` env steps per seed (as
        train.total_steps: a loaded run continues to that count), with sac train's warm-up,
        updates per step, metrics, evaluations and checkpoints. callback(model), called after
        each batch step, stops the run by returning False. Ctrl-C (KeyboardInterrupt) stops
        after writing a checkpoint, as `sac train` does on SIGINT; an exception raised by the
        env propagates unchanged, the run directory keeping its last checkpoint. Returns self.
        """
        if self._envs is None:
            raise ValueError("this model has no env: SAC.load(path, env=...) or set_env(env)")
        L, c = self._learner, self.config["train"]
        L.set_total_steps(int(total_timesteps))
        if c["eval_every"] == 0:
            L.next_eval = int(total_timesteps)
        self._open_run()
        self.interrupted = False
        self._progress = progress_bar
        self._t0, self._prior, self._start_steps = time.monotonic(), L.wall_seconds, L.steps
        self._start_updates = L.updates
        self._last_log = (self._t0, L.steps, L.updates)
        self._next_checkpoint = self._next_multiple(c["checkpoint_every"])
        finishing = L.steps >= total_timesteps
        try:
            if self._obs is None:
                self._obs = self._reset_envs()
            while L.steps < total_timesteps:
                self._step()
                self._after_step(int(total_timesteps))
                if callback is not None and callback(self) is False:
                    break
        except KeyboardInterrupt:
            self._interrupt()
            return self
        except BaseException:
            L.abandon()
            self._obs = None  # the envs stopped mid-step: the next learn() resets them
            self._close_run()
            raise
        self._finish(finishing, int(total_timesteps))
        return self

    def _next_multiple(self, every):
        return (self._learner.steps // every + 1) * every if every > 0 else 0

    def _reset_envs(self):
        self._drivers = [_EnvDriver(env, self._desc["obs_dim"], self._desc["act_dim"])
                         for env in self._envs]
        steps = self._learner.steps
        return np.concatenate([d.reset(seed + steps) for d, seed in
                               zip(self._drivers, self._seeds)])

    def _step(self):
        L, N = self._learner, self.n_envs
        actions = L.explore(self._obs)
        stepped = [d.step(actions[k * N:(k + 1) * N]) for k, d in enumerate(self._drivers)]
        cat = lambda name: np.concatenate([getattr(s, name) for s in stepped])
        L.add(cat("reward"), cat("next_obs"), cat("terminated"), cat("keep"))
        self._obs = cat("obs")
        for k, s in enumerate(stepped):
            for ret in s.finished:
                L.record_episode(k, ret)
        L.update()
        for k in L.non_finite_actions:
            self._stop_seed(k, L.non_finite(k) or "its actions")

    # ---- the run directory, metrics, evaluation, checkpoints

    def _open_run(self):
        if self._run_open or self._run_dir is False:
            return
        if self._run_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            s = str(self._seeds[0]) + (f"-{self._seeds[-1]}" if len(self._seeds) > 1 else "")
            self._run_dir = os.path.join("runs", f"{self._desc['python']}-s{s}-{stamp}")
        self._run_dir = os.fspath(self._run_dir)
        self._learner.open_run(self._run_dir, json.dumps(self._desc), self._resume_step)
        self._run_open = True

    def _close_run(self):
        if self._run_open:
            self._learner.close_run()
            self._run_open = False
            # a later learn() continues the folder; its log lines up to here stay
            self._resume_step = self._learner.steps

    def _wall(self):
        return self._prior + time.monotonic() - self._t0

    def _after_step(self, total):
        L, c = self._learner, self.config["train"]
        steps = L.steps
        if steps >= L.next_log or steps >= total:
            L.next_log += c["log_every"]
            self._log_metrics(total)
        if steps >= L.next_eval and steps < total:
            L.next_eval += c["eval_every"]
            self._evaluate()
        if c["checkpoint_every"] > 0 and steps >= self._next_checkpoint and steps < total:
            self._checkpoint()
            self._next_checkpoint = self._next_multiple(c["checkpoint_every"])

    def _log_metrics(self, total):
        L = self._learner
        now = time.monotonic()
        t, s, u = self._last_log
        dt = max(1e-9, now - t)
        sps, ups = (L.steps - s) / dt, (L.updates - u) / dt
        self._last_log = (now, L.steps, L.updates)
        for k in range(L.num_seeds):
            if L.stopped_step(k) >= 0:
                continue
            line = {"step": L.steps, "updates": L.updates, "wall_seconds": self._wall(),
                    "sps": sps, "ups": ups}
            if L.updates > 0:
                line.update(L.metrics(k))
            ret_sum, episodes = L.take_recent_returns(k)
            if episodes > 0:
                line["episode_return"] = ret_sum / episodes
            if self._run_open:
                L.append_metrics(k, json.dumps(line))
        if self._per_seed:
            for k in range(L.num_seeds):
                bad = L.non_finite(k) if L.stopped_step(k) < 0 else ""
                if bad:
                    self._stop_seed(k, bad)
        else:
            bad = L.non_finite()
            if bad:
                self._diverged(bad)
        if self._progress:
            sys.stderr.write(f"\r[{self._desc['python']}] step {L.steps}/{total} | sps {sps:.0f}"
                             f" | ups {ups:.0f} | eval {self._last_eval_text()}   ")
            sys.stderr.flush()

    def _diverged(self, what):
        L = self._learner
        raise RuntimeError(f"training diverged at step {L.steps} (update {L.updates}): "
                           f"{what} is not finite; stopped. {self._checkpoint_note()}")

    def _stop_seed(self, k, what):
        """Seed number k's numbers went non-finite: it stops alone (acting with zeros, no more
        metrics, evaluations or policy), its summary.json says why; the others go on."""
        L = self._learner
        L.stop_seed(k)
        self._stopped_because[k] = what
        seed = self._seeds[k]
        where = (f" ({os.path.join(self._run_dir, f'seed-{seed}', 'summary.json')})"
                 if self._run_open else "")
        sys.stderr.write(f"sac_engine: seed {seed} diverged at step {L.steps} (update "
                         f"{L.updates}): {what} is not finite; it stops here{where}, the other "
                         "seeds go on\n")
        if self._run_open:
            summary = self._summary(k, None)
            summary["run_dir"] = os.path.join(self._run_dir, f"seed-{seed}")
            L.write_summary(k, json.dumps(summary))
        if all(L.stopped_step(j) >= 0 for j in range(L.num_seeds)):
            self._diverged(f"{what} (the last seed still training, seed {seed})")

    def _last_eval_text(self):
        final, _ = self._learner.eval_returns(0)
        return "-" if final is None else f"{final:.0f}"

    def _checkpoint_note(self):
        if not self._run_open:
            return "No run directory is kept (run_dir=False)."
        ckpt = os.path.join(self._run_dir, "checkpoints")
        names = sorted(n for n in os.listdir(ckpt) if n.endswith(".safetensors")
                       and ".replay." not in n) if os.path.isdir(ckpt) else []
        return (f"The last good checkpoint is '{os.path.join(ckpt, names[-1])}'" if names
                else "No checkpoint was written before")

    def evaluate(self, episodes=None, seed_index=0):
        """Mean, min and max return of `episodes` deterministic episodes (train.eval_episodes
        by default) of seed number seed_index's actor on its eval env, and the episode count."""
        envs = self._make_eval_envs()
        if envs is None:
            raise ValueError("no eval env: pass eval_env=, or an env with a spec")
        n = self.config["train"]["eval_episodes"] if episodes is None else int(episodes)
        returns = []
        for e in range(n):
            driver = _EnvDriver(envs[seed_index], self._desc["obs_dim"], self._desc["act_dim"])
            if driver.vector:
                raise ValueError("eval_env must be a single env (not a vector env)")
            obs = driver.reset(self._seeds[seed_index] + _EVAL_SEED_OFFSET + e)
            total, done = 0.0, False
            while not done:
                action = self._learner.act(obs, True, seed_index)
                o, r, term, trunc, _ = driver.env.step(action[0])
                driver.step_index += 1
                obs = driver._obs(o, "step")
                total += float(r)
                done = bool(term) or bool(trunc)
            returns.append(total)
        return float(np.mean(returns)), float(np.min(returns)), float(np.max(returns)), n

    def _evaluate(self):
        L = self._learner
        if self.config["train"]["eval_episodes"] == 0 or self._make_eval_envs() is None:
            return
        wall = self._wall()
        for k in range(L.num_seeds):
            if L.stopped_step(k) >= 0:
                continue
            mean, lo, hi, n = self.evaluate(seed_index=k)
            if self._run_open:
                L.append_eval(k, L.steps, wall, mean, lo, hi, n)

    def _checkpoint(self):
        if not self._run_open:
            return None
        self._learner.wall_seconds = self._wall()
        return self._learner.checkpoint(os.path.join(self._run_dir, "checkpoints"),
                                        json.dumps(self._desc))

    def _interrupt(self):
        L = self._learner
        L.abandon()
        if L.owed > 0:
            L.update()
        self._obs = None
        path = self._checkpoint()
        self._close_run()
        self.interrupted = True
        if self._progress:
            sys.stderr.write("\n")
        where = (f"checkpoint '{path}' written; continue with: sac_engine.SAC.load("
                 f"'{self._run_dir}', env).learn(total_timesteps)" if path
                 else "no run directory kept")
        sys.stderr.write(f"sac_engine: stopped by Ctrl-C at step {L.steps}; {where}\n")

    def _finish(self, finishing, total):
        if not finishing and self._learner.steps >= total:
            self._evaluate()
            if self._progress:
                sys.stderr.write("\n")
        path = self._checkpoint()
        if self._run_open:
            for k in range(self._learner.num_seeds):
                if self._learner.stopped_step(k) >= 0:
                    continue  # a seed that diverged has no policy to keep
                self._learner.write_policy(self._learner.run_policy_path(k),
                                           json.dumps(self._desc), k)
            self._write_summaries(path)
        self._close_run()

    def _summary(self, k, path):
        L = self._learner
        seg = max(1e-9, time.monotonic() - self._t0)
        final, best = L.eval_returns(k)
        s = {"task": self._desc["python"], "seed": self._seeds[k], "device": L.device,
             "steps": L.steps, "updates": L.updates, "wall_seconds": self._wall(),
             "final_eval_return": final, "best_eval_return": best,
             # this learn() call's rates (a resumed run's earlier segments ran at their own)
             "env_steps_per_second": (L.steps - self._start_steps) / seg,
             "updates_per_second": (L.updates - self._start_updates) / seg,
             "checkpoint": path, "run_dir": self._run_dir}
        if L.stopped_step(k) >= 0:
            what = self._stopped_because.get(k, "a value")
            s["final_eval_return"] = None
            s["diverged"] = {"step": L.stopped_step(k), "what": what, "message":
                             f"training diverged at step {L.stopped_step(k)}: {what} is not "
                             "finite; this seed stopped there, the other seeds of the run went on"}
        return s

    def _write_summaries(self, path):
        L = self._learner
        if L.num_seeds == 1:
            L.write_summary(-1, json.dumps(self._summary(0, path)))
            return
        per_seed = []
        for k in range(L.num_seeds):
            s = self._summary(k, path)
            s["run_dir"] = os.path.join(self._run_dir, f"seed-{self._seeds[k]}")
            if L.stopped_step(k) < 0:  # a stopped seed's summary was written when it stopped
                L.write_summary(k, json.dumps(s))
            per_seed.append(s)
        L.write_summary(-1, json.dumps({"task": self._desc["python"], "seeds": self._seeds,
                                        "steps": L.steps, "updates": L.updates,
                                        "per_seed": per_seed, "run_dir": self._run_dir}))

    # ---- saving and loading

    def save(self, path):
        """Writes the model into folder `path`: config.json (with the env's description) and a
        checkpoint (networks, optimiser state, replay rings, random streams, counters) in
        path/checkpoints, in the run directory's formats; SAC.load(path) reads it back. Also
        path/policy.safetensors, the actor alone (of the first seed), which
        sac_engine.Policy.load reads without the env."""
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
        self._learner.write_config(path, json.dumps(self._desc))
        self._learner.write_policy(os.path.join(path, "policy.safetensors"),
                                   json.dumps(self._desc), 0)
        return self._learner.checkpoint(os.path.join(path, "checkpoints"), json.dumps(self._desc))

    @classmethod
    def load(cls, path, env=None, eval_env=None, **kwargs):
        """A model from a folder save() wrote, or from a run directory (its latest checkpoint;
        learn() then continues that run directory). env: the env to train on (None: predict
        only); it must have the saved spaces."""
        path = os.fspath(path)
        config_path = os.path.join(path, "config.json")
        if not os.path.exists(config_path):
            raise FileNotFoundError(f"cannot read '{config_path}': not a saved model or run "
                                    "directory")
        with open(config_path) as f:
            config = json.load(f)
        desc = config.pop("env")
        if not isinstance(desc, dict) or "python" not in desc:
            raise ValueError(f"'{path}' is not a sac_engine.SAC model (its config has no "
                             "Python env): `sac train` runs resume with sac train --resume")
        is_run = any(os.path.exists(os.path.join(path, n)) for n in
                     ("metrics.jsonl", "eval.csv")) or any(
            n.startswith("seed-") for n in os.listdir(path))
        model = cls(env, config, eval_env=eval_env, run_dir=path if is_run else None,
                    _desc=desc, **kwargs)
        step = model._learner.restore(os.path.join(path, "checkpoints"))
        if is_run:
            model._resume_step = step
        return model
