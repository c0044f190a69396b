"""check_installed.py VENV: run by pip_install.sh with the venv's interpreter after
`pip install ".[gymnasium]"`: the module comes from the venv's site-packages (not the source
tree or build/python), VecEnv is a gymnasium.vector.VectorEnv, and gymnasium.make on each of
the ten sac_engine/<Task>-v5 ids passes gymnasium.utils.env_checker.check_env with no warning
but those Gymnasium's own tasks give too (infinite observation bounds, an action range other than
[-1, 1]; test_gymnasium.py compares with Gymnasium's tasks themselves)."""
import os
import sys
import warnings

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

import sac_engine

venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(sac_engine._core.__file__)
assert where.startswith(venv + os.sep), f"sac_engine._core came from {where}, not from {venv}"
print(f"check_installed.py: sac_engine from {os.path.dirname(where)}, gymnasium "
      f"{gymnasium.__version__}, numpy {np.__version__}")

# MuJoCo is the library of the mujoco-core package installed beside it (found by rpath)
with open("/proc/self/maps") as maps:
    mujoco_libs = {line.split()[-1] for line in maps if "libmujoco.so" in line}
site = os.path.dirname(os.path.dirname(where))
assert mujoco_libs == {os.path.join(site, "mujoco", "libmujoco.so.4.0.1")}, mujoco_libs
print(f"check_installed.py: MuJoCo from {mujoco_libs.pop()}")

envs = sac_engine.make_vec_env("HalfCheetah-v5", num_envs=4, threads=2, seed=0)
assert isinstance(envs, gymnasium.vector.VectorEnv)
obs, _ = envs.reset(seed=1)
obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())
assert obs.shape == (4, 17) and np.isfinite(obs).all() and np.isfinite(rewards).all()
assert obs.strides == (17 * 4, 4), "numpy and pybind11 disagree on the array layout"

from sac_engine.gym import TASKS  # noqa: E402

EXPECTED = ("minimum value is -infinity", "maximum value is infinity",
            "we recommend using a symmetric and normalized space")
for task in TASKS:
    env = gymnasium.make(f"sac_engine/{task}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    other = [str(w.message) for w in caught if not any(e in str(w.message) for e in EXPECTED)]
    assert not other, f"{task}: check_env warned: {other}"
    env.close()
    print(f"check_installed.py: check_env passed: sac_engine/{task}")
