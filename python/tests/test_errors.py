"""Errors a Python user meets: FileNotFoundError for a missing file, ValueError for a corrupt or
wrong file with the message `sac` prints after "sac: error: ", and a one-line ValueError for an
out-of-range argument (not pybind11's TypeError listing the signatures).
Run: ctest -R python_tests, or PYTHONPATH=build/python python3 -m pytest python/tests/test_errors.py"""
import errno
import os
import subprocess

import pytest

import sac_engine
from conftest import ROOT, sac_binary


def cli_error(*args):
    """The one-line message of `sac ARGS`, which must fail with exit 2, after "sac: error: "."""
    r = subprocess.run([sac_binary(), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sac: error: "), r.stderr
    return lines[0][len("sac: error: "):]


def one_line(e):
    text = str(e.value)
    assert "\n" not in text and "Invoked with" not in text, text
    return text


def test_missing_policy_file_is_file_not_found(tmp_path):
    path = str(tmp_path / "missing.safetensors")
    with pytest.raises(FileNotFoundError) as e:
        sac_engine.Policy.load(path)
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == path
    assert "missing.safetensors" in one_line(e)


def test_missing_config_file_is_file_not_found(tmp_path):
    path = str(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError) as e:
        sac_engine.train(path, run_dir=str(tmp_path / "run"), progress=False)
    assert e.value.filename == path
    assert not os.path.exists(tmp_path / "run")


def test_corrupt_policy_file_is_value_error_with_the_cli_message(tmp_path, hopper_policy):
    data = bytearray(open(hopper_policy, "rb").read())
    data[-5] ^= 0x40  # a flipped bit in the weights: the checksum catches it
    bad = tmp_path / "corrupt.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError) as e:
        sac_engine.Policy.load(str(bad))
    assert isinstance(e.value, sac_engine.InputError)
    assert one_line(e) == cli_error("eval", bad, "--device", "cpu")
    assert "checksum" in str(e.value)


def test_wrong_file_is_value_error_with_the_cli_message(tmp_path):
    wrong = tmp_path / "config.json"
    wrong.write_text('{"env": {"id": "Hopper-v5"}}\n')
    with pytest.raises(ValueError) as e:
        sac_engine.Policy.load(str(wrong))
    assert one_line(e) == cli_error("eval", wrong, "--device", "cpu")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(b"\x08\x00\x00")
    with pytest.raises(ValueError) as e:
        sac_engine.Policy.load(str(truncated))
    assert one_line(e) == cli_error("eval", truncated, "--device", "cpu")


def test_bad_setting_is_value_error_with_the_cli_message(tmp_path):
    config = os.path.join(ROOT, "configs", "pendulum.json")
    with pytest.raises(ValueError) as e:
        sac_engine.train(config, {"train.seed": -1}, run_dir=str(tmp_path / "run"), progress=False)
    assert isinstance(e.value, sac_engine.ConfigError)
    assert one_line(e) == cli_error("train", config, "--set", "train.seed=-1",
                                    "--run-dir", tmp_path / "run2")


@pytest.mark.parametrize("kwargs, name", [
    ({"seed": -1}, "seed"),
    ({"seed": 2**53 + 1}, "seed"),
    ({"num_envs": 0}, "num_envs"),
    ({"num_envs": 100000}, "num_envs"),
    ({"threads": -1}, "threads"),
])
def test_out_of_range_argument_is_one_line_value_error(kwargs, name):
    with pytest.raises(ValueError) as e:
        sac_engine.make_vec_env("Pendulum-v1", **kwargs)
    text = one_line(e)
    assert text.startswith(f"{name} must be an integer in ["), text
    assert str(list(kwargs.values())[0]) in text


def test_reset_with_a_negative_seed_is_one_line_value_error():
    envs = sac_engine.make_vec_env("Pendulum-v1", num_envs=2, seed=0)
    with pytest.raises(ValueError) as e:
        envs.reset(seed=-3)
    assert one_line(e).startswith("seed must be an integer in [0, ")
    envs.reset(seed=4)  # the env still works
    assert envs.seed == 4


def test_unknown_task_is_value_error():
    with pytest.raises(ValueError) as e:
        sac_engine.make_vec_env("NoSuchTask-v0")
    assert "NoSuchTask-v0" in one_line(e)
