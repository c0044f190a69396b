"""sac_engine.load_plugin(): tasks written in C++ (include/sac/plugin.h) from a shared library.
Tested by python/tests/test_plugins.py."""
import os

from . import _core


def load_plugin(path):
    """Loads the task plugin at `path` (a shared library built with SAC_PLUGIN, sac/plugin.h) and
    returns the ids of its tasks, which make_vec_env, train and (with gymnasium) gymnasium.make
    ("sac_engine/<id>") then take. A library loaded before returns its ids again. Raises
    sac_engine.InputError (a ValueError) naming the path and the reason when it is refused (it
    cannot be loaded, exports no registration function, was built against another task API
    version, or registers an id that exists). A run that must resume or evaluate in another
    process names the plugin in its config as well ("env.plugins": [path]).
    """
    ids = _core.load_plugin(os.fspath(path))
    try:
        from . import gym
    except ImportError:  # gymnasium is optional
        return ids
    for task in ids:
        gym.register_task(task)
    return ids
