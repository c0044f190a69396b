#!/usr/bin/env bash
# pip_install.sh SOURCE_DIR WORK_DIR: the ctest pip_install. `pip install "SOURCE_DIR[gymnasium]"`
# into a fresh venv (WORK_DIR/venv, made anew each run with Debian's python3): pip fetches
# scikit-build-core and pybind11 from PyPI, which run the project's CMake (pyproject.toml) and
# put the module in the venv's site-packages. Then, outside the source tree and without
# PYTHONPATH, check_installed.py imports it from there and runs Gymnasium's env checker on
# gymnasium.make("sac_engine/<Task>-v5") for the ten tasks. Fails, with the reason, when PyPI
# cannot be reached.
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

rm -rf "$work/venv"
"$python" -m venv "$work/venv"
# the compile runs as many jobs as ctest was given cores (sac.sh: JOBS), at most the cores
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
t0=$(date +%s)
if ! "$work/venv/bin/pip" install --disable-pip-version-check -q "$src[gymnasium]"; then
  echo "pip_install.sh: FAILED: pip install \"$src[gymnasium]\" (see above; PyPI unreachable?)" >&2
  exit 1
fi
echo "pip_install.sh: pip install took $(( $(date +%s) - t0 )) s"
cd "$work"
env -u PYTHONPATH "$work/venv/bin/python" "$here/check_installed.py" "$work/venv"
