"""The env pool as a Gymnasium vector env (the C++ side is python/bindings/vec_env.cpp).

reset(seed=None, options=None) -> (obs, info); step(actions) -> (obs, rewards, terminations,
truncations, infos). Actions are (num_envs, act_dim) in the task's bounds (single_action_space).
Same-step autoreset (metadata["autoreset_mode"]): when env i's episode ends, obs[i] is already the
next episode's first observation and infos["final_obs"][i] the finished episode's last one
(infos["_final_obs"][i] is True); infos["episode"]["r"/"l"][i] hold its return and length;
infos[<term>] each env's reward terms (Gymnasium's v5 keys, as TaskEnv's info). The
arrays are read-only float32 views of the pool's own buffers, refilled in place by the next step
(no copy per step): copy what you keep past it, e.g. obs.copy().

With gymnasium (>= 1.0) importable, VecEnv is also a gymnasium.vector.VectorEnv (its spaces are
gymnasium.spaces.Box); without it, the same class with plain spaces (spaces.py).
"""
import numpy as np

from . import _core
from .kwargs import kwargs_json
from .spaces import box

try:
    from gymnasium.vector import AutoresetMode as _AutoresetMode
    from gymnasium.vector import VectorEnv as _VectorEnv
    _SAME_STEP = _AutoresetMode.SAME_STEP
    _BASES = (_core.VecEnv, _VectorEnv)
except ImportError:  # gymnasium is optional
    _SAME_STEP = "SameStep"
    _BASES = (_core.VecEnv,)


class VecEnv(*_BASES):
    """num_envs envs of one task stepped together on `threads` threads (0: one per core); env i
    is seeded seed + i. `kwargs` are the task's keyword arguments (Gymnasium's v5 names)."""

    metadata = {"autoreset_mode": _SAME_STEP, "render_modes": []}

    def __init__(self, env_id, num_envs=1, threads=0, seed=0, **kwargs):
        _core.VecEnv.__init__(self, env_id, num_envs, threads, seed, kwargs_json(kwargs))
        n, low, high = self.num_envs, np.float32(self.action_low), np.float32(self.action_high)
        self.single_observation_space = box(-np.inf, np.inf, (self.obs_dim,))
        self.single_action_space = box(low, high, (self.act_dim,))
        self.observation_space = box(-np.inf, np.inf, (n, self.obs_dim))
        self.action_space = box(np.tile(low, (n, 1)), np.tile(high, (n, 1)), (n, self.act_dim))
        self.render_mode = None
        self.closed = False

    def reset(self, *, seed=None, options=None):
        """Resets every env (env i reseeded with seed + i when seed is given); returns (obs, {}).
        `options` is accepted for Gymnasium's signature; the tasks take none."""
        self._check_open("reset")
        return _core.VecEnv.reset(self, seed)

    def step(self, actions):
        """Steps every env; returns (obs, rewards, terminations, truncations, infos)."""
        self._check_open("step")
        return _core.VecEnv.step(self, actions)

    def close(self, **kwargs):
        """Marks the pool closed: a later step() or reset() raises RuntimeError. Its memory goes
        with the last reference to it (the arrays handed out stay readable). Closing twice is
        allowed."""
        self.closed = True

    def _check_open(self, what):
        if self.closed:
            raise RuntimeError(f"VecEnv({self.env_id!r}).{what}() called after close(); "
                               "make a new one with sac_engine.make_vec_env")

    def __repr__(self):
        return (f"VecEnv({self.env_id!r}, num_envs={self.num_envs}, threads={self.threads}, "
                f"seed={self.seed})")


def make_vec_env(env_id, num_envs=1, threads=0, seed=0, **kwargs):
    """A VecEnv of `num_envs` envs of task `env_id` (a Gymnasium id, e.g. "HalfCheetah-v5"),
    made with the task's keyword arguments `kwargs` (Gymnasium's v5 names, e.g.
    ctrl_cost_weight=0.05, xml_file="./my_robot.xml", max_episode_steps=500)."""
    return VecEnv(env_id, num_envs, threads, seed, **kwargs)
