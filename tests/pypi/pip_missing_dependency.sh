#!/usr/bin/env bash
# pip_missing_dependency.sh SOURCE_DIR WORK_DIR: the ctest pip_install_missing_dependency.
# `pip install SOURCE_DIR` into a fresh venv (WORK_DIR/venv) twice, each time with one required
# piece missing: MuJoCo looked for in a folder without it (SAC_MUJOCO_ROOT, through
# scikit-build-core's cmake.define), and CXX naming a compiler that does not exist. Each must fail,
# and pip's own output must carry the configure's message naming the piece and how to get it
# (cmake/mujoco.cmake, required_compiler.cmake). The configure stops early, so this takes about
# half a minute per case; pip fetches scikit-build-core, pybind11 and mujoco-core from PyPI.
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
python=${PYTHON:-/usr/bin/python3}

rm -rf "$work/venv"
"$python" -m venv "$work/venv"

# check NAME RC OUT EXPECTED...: pip failed (RC != 0) and its output OUT holds every EXPECTED text
check() {
  local name=$1 rc=$2 out=$3; shift 3
  if [ "$rc" -eq 0 ]; then
    echo "pip_missing_dependency.sh: FAILED: pip install succeeded with $name missing" >&2
    exit 1
  fi
  # the message as pip shows it, with its line breaks and indents taken out
  local flat
  flat=$(echo "$out" | tr '\n' ' ' | tr -s ' ')
  for text in "$@"; do
    if ! grep -qF -- "$text" <<<"$flat"; then
      echo "pip_missing_dependency.sh: FAILED: with $name missing pip does not say '$text':" >&2
      echo "$out" >&2
      exit 1
    fi
  done
  local message
  message=$(grep -o 'sac: missing[^.]*\.' <<<"$flat" || true)
  echo "pip_missing_dependency.sh: $name missing, pip says: $message"
}

pip=("$work/venv/bin/pip" install --disable-pip-version-check -q)
rc=0
hide_mujoco=--config-settings=cmake.define.SAC_MUJOCO_ROOT=$work/no-such-mujoco
out=$("${pip[@]}" "$hide_mujoco" "$src" 2>&1) || rc=$?
check mujoco "$rc" "$out" "sac: missing MuJoCo 4.0.1" "no-such-mujoco" "mujoco-core==4.0.1"

rc=0
out=$(CXX="$work/no-such-c++" "${pip[@]}" "$src" 2>&1) || rc=$?
check "the C++ compiler" "$rc" "$out" "sac: missing C++ compiler" "no-such-c++" \
  "apt-get install g++"
