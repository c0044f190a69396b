"""Gymnasium integration (imported by `import sac_engine` when gymnasium >= 1.0 is importable).

    import gymnasium, sac_engine
    env = gymnasium.make("sac_engine/Hopper-v5")     # the eleven MuJoCo tasks, as sac_engine/<Task>-v5
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

TaskEnv is one instance of a task (sac_engine._core.Task, python/bindings/task.cpp) as a
gymnasium.Env: float64 observations and float32 actions in the task's bounds, as Gymnasium's own
v5 tasks declare them; the time limit is the TimeLimit wrapper that gymnasium.make adds from the
registration (max_episode_steps), as for Gymnasium's tasks. truncated is True on its own only when
the physics became unstable (a MuJoCo warning or a non-finite state; info["unstable"]), which
Gymnasium's tasks do not check. info also holds the reward's terms under Gymnasium's v5 keys
(reward_forward, reward_ctrl, reward_survive, reward_contact, reward_dist, reward_near,
distance_penalty, velocity_penalty, reward_linup, ...; each task its own, costs negative), which
add up to the reward (HumanoidStandup-v5 adds 1, as Gymnasium's does), and the positions and
velocities Gymnasium's step adds (x_position, x_velocity, distance_from_origin, tendon_length,
...; reset's info stays empty).
reset(seed=S) draws the reset noise the env pool's env seeded S draws. Gymnasium's v5 keyword
arguments go through gymnasium.make("sac_engine/Ant-v5", ctrl_cost_weight=0.05,
xml_file="./my_robot.xml", ...) with Gymnasium's names, types and defaults; an unknown name, a
wrong type or a model that does not fit raises ValueError naming it. Tested by
tests/pypi/test_gymnasium.py and tests/pypi/conformance.py.
"""
import gymnasium
import numpy as np

from . import _core
from .kwargs import kwargs_json

# Gymnasium's v5 MuJoCo tasks (Pendulum-v1 stays Gymnasium's own)
TASKS = ("InvertedPendulum-v5", "InvertedDoublePendulum-v5", "HalfCheetah-v5", "Hopper-v5",
         "Walker2d-v5", "Ant-v5", "Humanoid-v5", "Swimmer-v5", "Reacher-v5", "Pusher-v5",
         "HumanoidStandup-v5")
NAMESPACE = "sac_engine"


class TaskEnv(gymnasium.Env):
    """One instance of task `task` (e.g. "Hopper-v5") as a Gymnasium env; made by
    gymnasium.make("sac_engine/<task>")."""

    metadata = {"render_modes": []}

    def __init__(self, task, render_mode=None, **kwargs):
        if render_mode is not None:
            raise gymnasium.error.UnsupportedMode(
                f"sac_engine/{task} renders nothing from Python (sac rollout --video renders)")
        self._task = _core.Task(task, kwargs_json(kwargs))
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self._task.obs_dim,),
                                                      np.float64)
        self.action_space = gymnasium.spaces.Box(np.float32(self._task.action_low),
                                                 np.float32(self._task.action_high),
                                                 (self._task.act_dim,), np.float32)
        self.render_mode = None
        self._seeded = False
        self._closed = False

    def reset(self, *, seed=None, options=None):
        """Resets the task: with `seed`, its noise generator restarts from that seed; without, the
        next draws (the first unseeded reset seeds it from self.np_random). Returns (obs, {})."""
        self._check_open("reset")
        super().reset(seed=seed)
        if seed is None and not self._seeded:
            seed = int(self.np_random.integers(0, 2**63))
        obs = self._task.reset(seed)
        self._seeded = True
        return obs, {}

    def step(self, action):
        """Applies `action` (act_dim values in the task's bounds, not clipped) for one step; info
        holds "unstable" and the reward's terms."""
        self._check_open("step")
        obs, reward, terminated, unstable, terms = self._task.step(action)
        info = {"unstable": bool(unstable), **self._task.info(), **terms}
        return obs, float(reward), bool(terminated), bool(unstable), info

    def close(self):
        """A later step() or reset() raises RuntimeError; closing twice is allowed."""
        self._closed = True

    # state access, for comparisons with Gymnasium's tasks (their MujocoEnv has the same names)
    def get_state(self):
        """(qpos, qvel), copies."""
        return self._task.get_state()

    def set_state(self, qpos, qvel):
        """Sets qpos and qvel and runs mj_forward, as Gymnasium's MujocoEnv.set_state does."""
        self._task.set_state(qpos, qvel)

    @property
    def dt(self):
        """Seconds of simulated time per step."""
        return self._task.dt

    def _check_open(self, what):
        if self._closed:
            raise RuntimeError(f"sac_engine/{self._task.env_id}: {what}() called after close(); "
                               "make a new env with gymnasium.make")


def register_task(task):
    """Registers sac_engine/<task> (once; later calls do nothing)."""
    env_id = f"{NAMESPACE}/{task}"
    if env_id in gymnasium.registry:
        return
    steps = _core.Task(task).max_episode_steps
    gymnasium.register(id=env_id, entry_point="sac_engine.gym:TaskEnv",
                       kwargs={"task": task}, max_episode_steps=steps)


def register_envs():
    """Registers sac_engine/<Task>-v5 for each task in TASKS (once; later calls do nothing)."""
    for task in TASKS:
        register_task(task)
