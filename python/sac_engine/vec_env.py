"""The env pool as a Gymnasium-style vector env (the C++ side is python/bindings/vec_env.cpp).

reset(seed=None) -> (obs, info); step(actions) -> (obs, rewards, terminations, truncations,
infos). Actions are (num_envs, act_dim) in the task's bounds (single_action_space). Same-step
autoreset: when env i's episode ends, obs[i] is already the next episode's first observation and
infos["final_obs"][i] the finished episode's last one (infos["_final_obs"][i] is True);
infos["episode"]["r"/"l"][i] hold its return and length. The arrays are read-only float32 views
of the pool's own buffers, refilled in place by the next step (no copy per step): copy what you
keep past it, e.g. obs.copy().
"""
import numpy as np

from . import _core
from .spaces import box

try:
    from gymnasium.vector import AutoresetMode as _AutoresetMode
    _SAME_STEP = _AutoresetMode.SAME_STEP
except ImportError:
    _SAME_STEP = "SameStep"


class VecEnv(_core.VecEnv):
    """num_envs envs of one task stepped together on `threads` threads (0: one per core); env i
    is seeded seed + i."""

    def __init__(self, env_id, num_envs=1, threads=0, seed=0):
        super().__init__(env_id, num_envs, threads, seed)
        n, low, high = self.num_envs, np.float32(self.action_low), np.float32(self.action_high)
        self.single_observation_space = box(-np.inf, np.inf, (self.obs_dim,))
        self.single_action_space = box(low, high, (self.act_dim,))
        self.observation_space = box(-np.inf, np.inf, (n, self.obs_dim))
        self.action_space = box(np.tile(low, (n, 1)), np.tile(high, (n, 1)), (n, self.act_dim))
        self.metadata = {"autoreset_mode": _SAME_STEP}
        self.render_mode = None

    def close(self):
        """Nothing to release early: the pool goes with the last reference to it."""

    def __repr__(self):
        return (f"VecEnv({self.env_id!r}, num_envs={self.num_envs}, threads={self.threads}, "
                f"seed={self.seed})")


def make_vec_env(env_id, num_envs=1, threads=0, seed=0):
    """A VecEnv of `num_envs` envs of task `env_id` (a Gymnasium id, e.g. "HalfCheetah-v5")."""
    return VecEnv(env_id, num_envs, threads, seed)
