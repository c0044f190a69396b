"""sac_engine: sac-engine's tasks, policies and trainer from Python.

    import sac_engine
    envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=64, threads=0, seed=0)
    obs, info = envs.reset()
    obs, rewards, terminations, truncations, infos = envs.step(actions)
    policy = sac_engine.Policy.load("runs/.../policy.safetensors")
    actions = policy.act(obs)                     # deterministic, in the task's bounds
    summary = sac_engine.train("configs/pendulum.json", {"train.total_steps": 5000})
    curves = sac_engine.read_run(summary["run_dir"])

Built by CMake into build/python (PYTHONPATH=build/python); see README.md, "Python".
"""
from ._core import ConfigError, InputError, Policy
from .runs import read_run
from .spaces import Box
from .training import train
from .vec_env import VecEnv, make_vec_env

__all__ = ["Box", "ConfigError", "InputError", "Policy", "VecEnv", "make_vec_env", "read_run", "train"]
