#!/usr/bin/env bash
# pip_install.sh SOURCE_DIR WORK_DIR [CMAKE_MODULE_DIR]: the ctest pip_install.
# `pip install "SOURCE_DIR[gymnasium]"` into a fresh venv (WORK_DIR/venv, made anew each run with
# Debian's python3): pip fetches scikit-build-core and pybind11 from PyPI, which run the
# project's CMake (pyproject.toml) and put the module in the venv's site-packages. Then, outside
# the source tree and without PYTHONPATH, check_installed.py imports it from there and runs
# Gymnasium's env checker on gymnasium.make("sac_engine/<Task>-v5") for the ten tasks. With
# CMAKE_MODULE_DIR (build/python), that build's module must refuse this venv's numpy 2 by name.
# Fails, with the reason, when PyPI cannot be reached.
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

# the module CMake built against Debian's pybind11 2.10 (third argument), imported with this
# venv's numpy 2: refused with a message naming both, never arrays read wrong
if [ -n "${3:-}" ]; then
  module_dir=$(cd "$src" && cd "$3" && pwd)
  if out=$(PYTHONPATH=$module_dir "$work/venv/bin/python" -c "import sac_engine" 2>&1); then
    if PYTHONPATH=$module_dir "$work/venv/bin/python" -c "import numpy, sac_engine, sys; assert sac_engine.__file__.startswith('$module_dir'), sac_engine.__file__; sys.exit(int(numpy.__version__[0]) >= 2 and sac_engine._core._pybind11_version < (2, 12))"; then
      echo "pip_install.sh: $3's module imports with this numpy (pybind11 >= 2.12 or numpy < 2)"
    else
      echo "pip_install.sh: FAILED: $3's module imported with numpy 2 and pybind11 < 2.12" >&2; exit 1
    fi
  else
    echo "$out" | grep -q "cannot read the arrays of numpy" ||
      { echo "pip_install.sh: FAILED: unexpected import error: $out" >&2; exit 1; }
    echo "pip_install.sh: $3's module refuses numpy 2 as expected: $(echo "$out" | tail -1)"
  fi
fi
