"""sac_engine.train(): what `sac train` runs, from Python."""
import json
import os

from . import _core


def _override_list(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
    return [str(o) for o in overrides]


def train(config, overrides=None, run_dir=None, progress=True):
    """Trains exactly as `sac train CONFIG --set ... --run-dir RUN_DIR` does and returns the
    summary object that command prints, as a dict.

    config: a config file path, or a dict in the config files' layout (over the defaults).
    overrides: None, a list of "key.path=value" strings, or a dict {"key.path": value}.
    run_dir: None for runs/<task>-s<seed>-<time> (relative to the working directory).
    progress: the progress line on stderr.
    The GIL is released while training. The first Ctrl-C (SIGINT) or SIGTERM stops the run after
    writing a checkpoint and returns with summary["interrupted"] True, as the command line does.
    Bad settings raise sac_engine.ConfigError (a ValueError) before any work.
    """
    o = _override_list(overrides)
    d = "" if run_dir is None else os.fspath(run_dir)
    if isinstance(config, dict):
        text = _core.train_text(json.dumps(config), o, d, progress)
    else:
        text = _core.train_file(os.fspath(config), o, d, progress)
    return json.loads(text)
