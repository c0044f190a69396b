"""The PyPI tests (tests/pypi): run with the pypi venv's interpreter and PYTHONPATH=build/python
by the ctest pypi_tests; the `sac` binary is SAC_BINARY (set by ctest), else build/sac. The
helpers that run `sac` are python/tests/conftest.py's, re-exported here."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_python_tests = _load("sac_python_tests_conftest", os.path.join(ROOT, "python", "tests", "conftest.py"))
run_sac, set_args, read_jsonl = _python_tests.run_sac, _python_tests.set_args, _python_tests.read_jsonl
sac_binary = _python_tests.sac_binary
# tests/check_safetensors.py: the format's checksum and header reader
check_safetensors = _load("check_safetensors", os.path.join(ROOT, "tests", "check_safetensors.py"))


def pytest_configure(config):
    # the learning checks of test_sac_gymnasium.py: ctest pypi_learning (label slow) runs them,
    # pypi_tests leaves them out
    config.addinivalue_line("markers", "slow: a learning check (minutes): ctest -R pypi_learning")
