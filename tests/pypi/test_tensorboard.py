"""TensorBoard's own reader (the `tensorboard` package from PyPI, EventAccumulator of
tensorboard.backend.event_processing, with its record reader that checks every CRC) loads the
event files `sac train` writes in RUN_DIR/tb, and every scalar equals the number of
metrics.jsonl (as float32, what TensorBoard keeps) or eval.csv (which prints 6 significant
digits) at the same step; no step of a tag is there twice. Also across a stop by signal and a
resume, a resume after a crash past the latest checkpoint (the events after it go, as the lines
of metrics.jsonl do), and with train.seeds, where each seed's folder holds its own tb/ and
TensorBoard shows the seeds as runs.
Run: ctest -R pypi_tests (or the pypi venv's python -m pytest tests/pypi/test_tensorboard.py)."""
import csv
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

from conftest import ROOT, read_jsonl, run_sac, sac_binary, set_args

CONFIG = os.path.join(ROOT, "configs", "pendulum.json")
SMALL = {"device": "cpu", "sac.hidden": [32, 32], "sac.batch_size": 32, "train.warmup_steps": 200,
         "train.eval_every": 400, "train.eval_episodes": 2, "train.log_every": 100,
         "train.threads": 1, "train.seed": 3}
EVAL_COLUMNS = ["wall_seconds", "mean_return", "min_return", "max_return", "episodes"]


def tensorboard_scalars(tb_dir):
    """{tag: [(step, value, wall_time), ...]} as TensorBoard reads the folder."""
    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})  # 0: keep every event
    acc.Reload()
    return {tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)]
            for tag in acc.Tags()["scalars"]}


def check_run(run_dir, t0, t1):
    """Every scalar of run_dir/tb equals metrics.jsonl / eval.csv at its step, and back."""
    scalars = tensorboard_scalars(os.path.join(run_dir, "tb"))
    for tag, events in scalars.items():
        steps = [s for s, _, _ in events]
        assert len(steps) == len(set(steps)), f"{tag}: a step is there twice: {steps}"
        for _, _, wall_time in events:
            assert t0 - 1 <= wall_time <= t1 + 1, f"{tag}: wall time {wall_time} outside the run"
    want = {}
    for line in read_jsonl(os.path.join(run_dir, "metrics.jsonl")):
        for key, value in line.items():
            if key != "step":
                want.setdefault("train/" + key, []).append((line["step"], np.float32(value)))
    got_train = {tag: [(s, v) for s, v, _ in events] for tag, events in scalars.items()
                 if tag.startswith("train/")}
    assert got_train == want
    assert "train/critic_loss" in got_train and "train/unstable_episodes" in got_train
    with open(os.path.join(run_dir, "eval.csv")) as f:
        rows = list(csv.DictReader(f))
    assert rows, "no evaluation"
    for column in EVAL_COLUMNS:
        got = scalars["eval/" + column]
        assert [s for s, _, _ in got] == [int(r["step"]) for r in rows], column
        for (step, value, _), row in zip(got, rows):
            # eval.csv's 6 significant digits, plus float32's own rounding
            expected = float(row[column])
            assert abs(value - expected) <= (5e-6 + 1.2e-7) * abs(expected), (column, step)
    assert set(scalars) == set(got_train) | {"eval/" + c for c in EVAL_COLUMNS}
    return scalars


def train(run_dir, total, **overrides):
    t0 = time.time()
    run_sac("train", CONFIG, "--quiet", "--run-dir", run_dir,
            *set_args({**SMALL, "train.total_steps": total, **overrides}))
    return t0


def test_a_run_reads_back_in_tensorboard(tmp_path):
    run_dir = tmp_path / "run"
    t0 = train(run_dir, 1500)
    scalars = check_run(run_dir, t0, time.time())
    assert len(os.listdir(run_dir / "tb")) == 1
    assert [s for s, _, _ in scalars["train/sps"]][-1] == 1500


def test_tensorboard_checks_the_crcs_it_reads(tmp_path):
    """The reader above verifies both CRCs of every record: a flipped byte loses the events
    from there on, so the files it read whole were framed right."""
    run_dir = tmp_path / "run"
    train(run_dir, 600)
    (name,) = os.listdir(run_dir / "tb")
    whole = sum(len(v) for v in tensorboard_scalars(run_dir / "tb").values())
    data = bytearray((run_dir / "tb" / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / name).write_bytes(bytes(data))
    assert 0 < sum(len(v) for v in tensorboard_scalars(broken).values()) < whole


def test_stop_by_signal_and_resume(tmp_path):
    run_dir = tmp_path / "run"
    t0 = time.time()
    args = [sac_binary(), "train", CONFIG, "--quiet", "--run-dir", str(run_dir),
            *set_args({**SMALL, "train.total_steps": 10_000_000, "train.eval_every": 2000})]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not os.path.exists(run_dir / "metrics.jsonl") or \
            len(read_jsonl(run_dir / "metrics.jsonl")) < 30:
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    stopped = json.loads(out.strip().splitlines()[-1])
    assert stopped["interrupted"] is True, out
    stopped = stopped["steps"]
    total = stopped + 2000
    summary = run_sac("train", "--quiet", "--resume", run_dir,
                      "--set", f"train.total_steps={total}")
    assert summary["resumed_from_step"] == stopped
    scalars = check_run(run_dir, t0, time.time())
    assert len(os.listdir(run_dir / "tb")) == 2  # the resumed segment's own file
    assert [s for s, _, _ in scalars["train/sps"]][-1] == total


def test_resume_after_a_crash_past_the_checkpoint(tmp_path):
    """A run that wrote metrics and events after its latest checkpoint, then died: the resumed
    run writes those steps again, and TensorBoard shows each once, as metrics.jsonl holds it."""
    run_dir = tmp_path / "run"
    t0 = train(run_dir, 1000)  # its final checkpoint at 1000
    shutil.copytree(run_dir / "checkpoints", tmp_path / "saved")
    run_sac("train", "--quiet", "--resume", run_dir, "--set", "train.total_steps=2000")
    before = tensorboard_scalars(run_dir / "tb")
    # the state of a run that crashed at 2000 whose latest checkpoint was 1000's
    shutil.rmtree(run_dir / "checkpoints")
    shutil.copytree(tmp_path / "saved", run_dir / "checkpoints")
    summary = run_sac("train", "--quiet", "--resume", run_dir, "--set", "train.total_steps=2000")
    assert summary["resumed_from_step"] == 1000
    after = check_run(run_dir, t0, time.time())
    assert len(os.listdir(run_dir / "tb")) == 3
    # the steps written again hold the same numbers (the CPU backend is deterministic)
    for tag in ("train/critic_loss", "train/alpha", "eval/mean_return"):
        assert [(s, v) for s, v, _ in after[tag]] == [(s, v) for s, v, _ in before[tag]], tag


def test_seeds_write_one_tb_folder_each(tmp_path):
    run_dir = tmp_path / "run"
    t0 = train(run_dir, 800, **{"train.seeds": [3, 4]})
    t1 = time.time()
    assert not os.path.exists(run_dir / "tb")
    for seed in (3, 4):
        check_run(run_dir / f"seed-{seed}", t0, t1)
    # `tensorboard --logdir RUN_DIR` shows the seeds as runs
    mux = EventMultiplexer().AddRunsFromDirectory(str(run_dir))
    mux.Reload()
    assert sorted(mux.Runs()) == [os.path.join("seed-3", "tb"), os.path.join("seed-4", "tb")]
    a = mux.Scalars(os.path.join("seed-3", "tb"), "train/critic_loss")
    b = mux.Scalars(os.path.join("seed-4", "tb"), "train/critic_loss")
    assert [e.step for e in a] == [e.step for e in b]
    assert [e.value for e in a] != [e.value for e in b]  # two seeds, two curves
