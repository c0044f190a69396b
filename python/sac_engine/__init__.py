"""sac_engine: sac-engine's tasks, policies and trainer from Python.

    import sac_engine
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=64, threads=0, seed=0)
    obs, info = envs.reset()
    obs, rewards, terminations, truncations, infos = envs.step(actions)
    policy = sac_engine.Policy.load("runs/.../policy.safetensors")
    actions = policy.act(obs)                     # deterministic, in the task's bounds
    summary = sac_engine.train("configs/pendulum.json", {"train.total_steps": 5000})
    curves = sac_engine.read_run(summary["run_dir"])
    ids = sac_engine.load_plugin("./libmytasks.so")  # tasks of a plugin (C++, sac/plugin.h)
    model = sac_engine.SAC(gymnasium.make("Pendulum-v1")).learn(20000)   # any Gymnasium env

With gymnasium (>= 1.0) importable, VecEnv is a gymnasium.vector.VectorEnv and the ten MuJoCo
tasks are registered as sac_engine/<Task>-v5 (gymnasium.make("sac_engine/Hopper-v5")); without it
the module works the same with plain spaces.

`pip install .` (pyproject.toml) builds it into a venv; CMake also builds it into build/python
(PYTHONPATH=build/python); see README.md, "Python".
"""
import numpy as _np

from . import _core

if _core._pybind11_version < (2, 12) and int(_np.__version__.split(".")[0]) >= 2:
    raise ImportError(
        f"sac_engine was built with pybind11 {'.'.join(map(str, _core._pybind11_version))}, "
        f"which cannot read the arrays of numpy {_np.__version__} (pybind11 >= 2.12 can): use "
        "numpy < 2 with this build (Debian's python3-numpy is 1.24), or `pip install .`, "
        "which builds with pybind11 from PyPI")

from ._core import ConfigError, InputError, Policy, mujoco_version  # noqa: E402
from .plugins import load_plugin
from .runs import read_run
from .sac import SAC
from .spaces import Box
from .training import train
from .vec_env import VecEnv, make_vec_env

__all__ = ["Box", "ConfigError", "InputError", "Policy", "SAC", "VecEnv", "load_plugin",
           "make_vec_env", "mujoco_version", "read_run", "train"]

try:
    import gymnasium as _gymnasium
except ImportError:  # gymnasium is optional
    _gymnasium = None
if _gymnasium is not None:
    from .gym import TaskEnv, register_envs
    register_envs()
    __all__ += ["TaskEnv"]
