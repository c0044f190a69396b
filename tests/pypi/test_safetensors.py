"""The `safetensors` package (PyPI) reads what `sac` writes: a policy file and both files of a
checkpoint load with safetensors.numpy (and safetensors.torch where torch is installed); the
names, shapes and dtypes are the networks' and counters' of the run's config, the metadata is a
map of string to string (as the format requires) with a checksum that matches the loaded tensors,
and the values are the run's: the actor computed in numpy from the loaded weights gives the
engine's actions, the checkpoint's actor is the policy's, its counters are the summary's, and the
replay file's transitions are what the env pool gives for its actions.
Run: ctest -R pypi_tests."""
import json
import os

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import sac_engine
from conftest import ROOT, check_safetensors, run_sac, set_args

HIDDEN = [32, 24]
STEPS, WARMUP, SEED = 700, 500, 2


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A Pendulum-v1 run of 700 steps (500 random, then 200 updates) ending in a checkpoint."""
    run_dir = tmp_path_factory.mktemp("st") / "run"
    summary = run_sac("train", os.path.join(ROOT, "configs", "pendulum.json"), "--quiet",
                      "--run-dir", run_dir,
                      *set_args({"device": "cpu", "sac.hidden": HIDDEN, "sac.batch_size": 16,
                                 "train.total_steps": STEPS, "train.warmup_steps": WARMUP,
                                 "train.eval_every": 0, "train.eval_episodes": 1,
                                 "train.threads": 1, "train.seed": SEED}))
    ckpt = summary["checkpoint"]
    return {"dir": run_dir, "summary": summary, "policy": str(run_dir / "policy.safetensors"),
            "checkpoint": ckpt, "replay": ckpt.replace(".safetensors", ".replay.safetensors")}


def metadata(path):
    with safe_open(path, "numpy") as f:
        return f.metadata()


def check_metadata_and_checksum(path, tensors):
    md = metadata(path)
    assert isinstance(md, dict) and md
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in md.items()), md
    # the checksum (include/sac/safetensors.h) over the tensors as the package loaded them
    header, _ = check_safetensors.read_header(path)
    loaded = {name: (header[name]["dtype"], list(a.shape), a.tobytes()) for name, a in tensors.items()}
    assert md["checksum"] == check_safetensors.checksum(md, loaded)
    return md


def actor_names(prefix="actor.0"):
    return {f"{prefix}.{layer}.{p}" for layer in range(3) for p in ("weight", "bias")}


def test_policy_file(run):
    tensors = load_file(run["policy"])
    assert set(tensors) == actor_names()
    shapes = {"actor.0.0.weight": (HIDDEN[0], 3), "actor.0.0.bias": (HIDDEN[0],),
              "actor.0.1.weight": (HIDDEN[1], HIDDEN[0]), "actor.0.1.bias": (HIDDEN[1],),
              "actor.0.2.weight": (2, HIDDEN[1]), "actor.0.2.bias": (2,)}  # [mean, log-std]
    for name, a in tensors.items():
        assert a.dtype == np.float32 and a.shape == shapes[name], name
    md = check_metadata_and_checksum(run["policy"], tensors)
    assert md["format"] == "sac-engine policy"
    with open(run["dir"] / "config.json") as f:
        assert json.loads(md["config"]) == json.load(f)

    # the actor in numpy from the loaded weights: tanh(mean) scaled to Pendulum's [-2, 2] is the
    # action the engine's loader gives (sac eval, sac rollout --policy, Policy.act)
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    h = obs.astype(np.float64)
    for layer in range(3):
        h = h @ tensors[f"actor.0.{layer}.weight"].T.astype(np.float64)
        h = h + tensors[f"actor.0.{layer}.bias"]
        if layer < 2:
            h = np.maximum(h, 0.0)
    ours = 2.0 * np.tanh(h[:, :1])
    engine = sac_engine.Policy.load(run["policy"]).act(obs)
    np.testing.assert_allclose(engine, ours, rtol=1e-5, atol=1e-6)
    assert np.abs(engine).max() > 1e-3  # a real actor, not zeros


def test_checkpoint_file(run):
    tensors = load_file(run["checkpoint"])
    policy = load_file(run["policy"])
    for group, members, inputs in (("actor", 1, 3), ("critic", 2, 4), ("target", 2, 4)):
        for m in range(members):
            for layer, (fan_out, fan_in) in enumerate(
                    [(HIDDEN[0], inputs), (HIDDEN[1], HIDDEN[0]),
                     (2 if group == "actor" else 1, HIDDEN[1])]):
                for prefix in ("", "adam_m.", "adam_v.") if group != "target" else ("",):
                    w = tensors[f"{prefix}{group}.{m}.{layer}.weight"]
                    b = tensors[f"{prefix}{group}.{m}.{layer}.bias"]
                    assert w.shape == (fan_out, fan_in) and b.shape == (fan_out,)
                    assert w.dtype == np.float32 and b.dtype == np.float32
    # the run ended with this checkpoint: its actor is the policy file's
    for name in actor_names():
        np.testing.assert_array_equal(tensors[name], policy[name])
    s = run["summary"]
    assert tensors["trainer.steps"].dtype == np.int64 and tensors["trainer.steps"][0] == STEPS
    assert tensors["trainer.updates"][0] == s["updates"] == STEPS - WARMUP
    assert tensors["counters.updates"][0] == s["updates"]
    assert tensors["log_alpha"].shape == (1,) and tensors["log_alpha"].dtype == np.float32
    assert tensors["trainer.final_eval"].dtype == np.float64
    assert tensors["trainer.final_eval"][0] == s["final_eval_return"]
    assert tensors["pool.rng_seeds"][0] == SEED
    md = check_metadata_and_checksum(run["checkpoint"], tensors)
    assert md["format"] == "sac-engine checkpoint" and md["step"] == str(STEPS)
    assert md["replay_file"] == os.path.basename(run["replay"])
    assert md["replay_checksum"] == metadata(run["replay"])["checksum"]


def test_replay_file(run):
    t = load_file(run["replay"])
    assert t["size"][0] == STEPS and t["size"].dtype == np.int64
    n = int(t["size"][0])
    obs, act, rew, nxt, term = (t[k][:n] for k in ("obs", "action", "reward", "next_obs",
                                                   "terminated"))
    for k, shape in (("obs", (3,)), ("action", (1,)), ("reward", ()), ("next_obs", (3,)),
                     ("terminated", ())):
        assert t[k].dtype == np.float32 and t[k].shape[1:] == shape, k
    md = check_metadata_and_checksum(run["replay"], t)
    assert md["format"] == "sac-engine replay" and md["env_id"] == "Pendulum-v1"
    # the transitions are the env pool's for the stored actions (unit actions x 2: Pendulum's
    # bounds, applied exactly), in order from the first reset of the env seeded SEED
    envs = sac_engine.make_vec_env("Pendulum-v1", num_envs=1, threads=1, seed=SEED)
    o, _ = envs.reset()
    for i in range(n):
        np.testing.assert_array_equal(obs[i], o[0])
        o, r, terminated, truncated, infos = envs.step(2.0 * act[i][None])
        assert r[0] == rew[i] and terminated[0] == bool(term[i])
        final = infos["final_obs"][0] if truncated[0] or terminated[0] else o[0]
        np.testing.assert_array_equal(nxt[i], final)
    assert np.abs(act).max() <= 1.0 and len(np.unique(act)) > n // 2


def test_torch_loads_the_same_tensors(run):
    torch = pytest.importorskip("torch", reason="torch is not installed (the venv leaves it out)")
    from safetensors.torch import load_file as load_torch
    for path in (run["policy"], run["checkpoint"], run["replay"]):
        a, b = load_file(path), load_torch(path)
        assert set(a) == set(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name].numpy())
