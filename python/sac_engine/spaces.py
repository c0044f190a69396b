"""Observation and action spaces: Gymnasium's Box when gymnasium is importable, else a plain Box
with the same shape, low, high and dtype attributes (and sample/contains)."""
import numpy as np

try:
    import gymnasium as _gymnasium
except ImportError:  # gymnasium is optional
    _gymnasium = None


class Box:
    """A box [low, high] of float32 values, for when gymnasium is not installed."""

    def __init__(self, low, high, shape, dtype=np.float32):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.low = np.broadcast_to(np.asarray(low, self.dtype), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, self.dtype), self.shape).copy()

    def sample(self, rng=None):
        """A uniform sample (finite bounds only)."""
        rng = rng if rng is not None else np.random.default_rng()
        return rng.uniform(self.low, self.high).astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self):
        return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"


def box(low, high, shape):
    """A float32 Box: gymnasium.spaces.Box when available, else the plain Box above."""
    if _gymnasium is not None:
        shape = tuple(shape)
        return _gymnasium.spaces.Box(np.broadcast_to(np.asarray(low, np.float32), shape),
                                     np.broadcast_to(np.asarray(high, np.float32), shape),
                                     shape, np.float32)
    return Box(low, high, shape)
