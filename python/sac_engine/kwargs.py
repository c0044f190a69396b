"""A task's keyword arguments (Gymnasium's v5 names, e.g. ctrl_cost_weight=0.05) as the JSON
object text the C++ side takes (sac_engine._core.Task and VecEnv): tuples and numpy arrays become
lists, numpy scalars plain numbers, and an infinite end of a range (healthy_z_range=(0.7,
float("inf"))) null, as `sac`'s env.kwargs writes it. Used by gym.py and vec_env.py; tested by
python/tests/test_env_kwargs.py.
"""
import json
import math

import numpy as np


def _plain(name, value):
    # numpy scalars and arrays, tuples: what json can write
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(name, v) for v in list(value)]
    if isinstance(value, dict):
        return {str(k): _plain(name, v) for k, v in value.items()}
    if isinstance(value, float) and math.isinf(value):
        return None  # an infinite end of a range
    if isinstance(value, float) and math.isnan(value):
        raise ValueError(f"keyword '{name}': NaN is not a value")
    return value


def kwargs_json(kwargs):
    """`kwargs` (a dict of keyword arguments) as JSON object text; ValueError on a value JSON
    cannot hold."""
    try:
        return json.dumps({k: _plain(k, v) for k, v in kwargs.items()}, allow_nan=False)
    except TypeError as e:
        raise ValueError(f"keyword arguments: {e}") from None
