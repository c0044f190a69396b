#!/usr/bin/env bash
# make_venv.sh VENV [REQUIREMENTS]: a venv of the PyPI tests (ctest fixture `pypi`): VENV created
# with Debian's python3 and REQUIREMENTS (default tests/pypi/requirements.txt) installed from
# PyPI, kept between runs while that file is unchanged (a copy of it in VENV marks a complete
# install). Fails, with the reason, when PyPI cannot be reached: the tests that need it must never
# pass silently.
set -euo pipefail
venv=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req=${2:-$here/requirements.txt}
python=${PYTHON:-/usr/bin/python3}

if cmp -s "$req" "$venv/requirements.txt" 2>/dev/null &&
   "$venv/bin/python" -c "import gymnasium, mujoco, scipy, pytest" 2>/dev/null; then
  echo "make_venv.sh: $venv is up to date"
  exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv" || {
  echo "make_venv.sh: '$python -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$venv/bin/pip" install --disable-pip-version-check -q -r "$req"; then
  echo "make_venv.sh: FAILED to install $req from PyPI (is https://pypi.org reachable?)" >&2
  exit 1
fi
cp "$req" "$venv/requirements.txt"
"$venv/bin/python" -c "import gymnasium, mujoco; print('make_venv.sh: gymnasium', gymnasium.__version__, 'mujoco', mujoco.__version__)"
