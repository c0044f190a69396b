#!/usr/bin/env bash
# sac.sh: one entry point for people and CI.
#   ./sac.sh setup                 install missing Debian packages, configure and build (build/)
#   ./sac.sh train CONFIG [ARGS]   setup, then `sac train CONFIG ARGS` (e.g. configs/halfcheetah.json)
#   ./sac.sh test                  setup, then run the whole test suite with ctest
#   ./sac.sh sanitize              the same tests in an ASan/UBSan build (build-sanitize/)
#   ./sac.sh fuzz                  the parsers' libFuzzer targets (clang, build-fuzz/): replay each
#                                  corpus, then fuzz each target FUZZ_SECONDS (default 30; tests/fuzz)
#   ./sac.sh gpu-pack [--dry-run]  the CUDA build for sm_90 (build-gpu/) packed into .gpu/ for the
#                                  GPU campaign; --dry-run runs that campaign here without a GPU
# Environment: BUILD_DIR (default build), JOBS (default: cores), SAC_ENABLE_CUDA (ON/OFF, default
# ON when nvcc is found), CMAKE_CUDA_ARCHITECTURES (default 90), PYTHON (the interpreter of the
# sac_engine module and its tests; default /usr/bin/python3, where Debian's packages install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-/usr/bin/python3}
PACKAGES=(cmake ninja-build g++ pkg-config nlohmann-json3-dev
          libgtest-dev libopenblas-dev python3-dev python3-numpy python3-pybind11 pybind11-dev
          python3-pytest python3 python3-venv python3-pip libboost-context-dev libcli11-dev
          libprotobuf-dev protobuf-compiler
          libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libegl-dev libegl1
          libegl-mesa0 libgl1-mesa-dri libosmesa6-dev liblodepng-dev)

# the test of `sac sweep` on a real one-node Slurm (tests/slurm/sweep_test.sh)
PACKAGES+=(slurm-wlm munge)
# the AVX2 clones' test (CMakeLists.txt: VectorClones.Avx2ClonesUnderValgrind)
PACKAGES+=(valgrind)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "sac.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# MuJoCo: PyPI's mujoco-core wheel holds libmujoco.so and the C headers (cmake/mujoco.cmake); the
# files the build needs are taken from it into SAC_MUJOCO_ROOT once
MUJOCO_VERSION=4.0.1
export SAC_MUJOCO_ROOT=${SAC_MUJOCO_ROOT:-$PWD/.deps/mujoco-$MUJOCO_VERSION}
fetch_mujoco() {
  [ -f "$SAC_MUJOCO_ROOT/libmujoco.so.$MUJOCO_VERSION" ] &&
    [ -f "$SAC_MUJOCO_ROOT/include/mujoco/mujoco.h" ] && return 0
  echo "sac.sh: fetching MuJoCo $MUJOCO_VERSION (PyPI: mujoco-core) into $SAC_MUJOCO_ROOT" >&2
  local tmp
  tmp=$(mktemp -d)
  # the library inside does not depend on the Python version the wheel is tagged with
  if ! "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --platform "manylinux_2_28_$(uname -m)" -d "$tmp" \
      "mujoco-core==$MUJOCO_VERSION"; then
    echo "sac.sh: cannot download mujoco-core==$MUJOCO_VERSION from PyPI (see above)" >&2
    rm -rf "$tmp"; exit 1
  fi
  # only the library and the headers, into $tmp/mujoco
  "$PYTHON" - "$tmp"/mujoco_core-*.whl "$tmp" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist()
                        if n.startswith(("mujoco/include/mujoco/", "mujoco/libmujoco.so"))])
PY
  mkdir -p "$(dirname "$SAC_MUJOCO_ROOT")"
  rm -rf "$SAC_MUJOCO_ROOT"
  mv "$tmp/mujoco" "$SAC_MUJOCO_ROOT"
  rm -rf "$tmp"
}

configure_and_build() {
  local dir=$1; shift
  [ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
  local cuda_flags=()
  [ -n "${SAC_ENABLE_CUDA:-}" ] && cuda_flags+=("-DSAC_ENABLE_CUDA=$SAC_ENABLE_CUDA")
  [ -n "${CMAKE_CUDA_ARCHITECTURES:-}" ] && cuda_flags+=("-DCMAKE_CUDA_ARCHITECTURES=$CMAKE_CUDA_ARCHITECTURES")
  # the Python module is required here, so a missing piece fails instead of skipping its tests
  fetch_mujoco
  cmake -S . -B "$dir" -G Ninja "${cuda_flags[@]}" -DSAC_BUILD_PYTHON=ON "-DSAC_MUJOCO_ROOT=$SAC_MUJOCO_ROOT" \
    "-DPython3_EXECUTABLE=$PYTHON" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup)
    install_packages
    configure_and_build "$BUILD_DIR"
    ;;
  train)
    [ $# -ge 1 ] || { echo "usage: ./sac.sh train CONFIG [--set key=value ...]" >&2; exit 2; }
    install_packages
    configure_and_build "$BUILD_DIR"
    exec "$BUILD_DIR/sac" train "$@"
    ;;
  test)
    install_packages
    configure_and_build "$BUILD_DIR"
    # the CUDA tests run against the CUDA simulator here (tests/cuda_sim), on a GPU as well
    sim_tests=$(ctest --test-dir "$BUILD_DIR" -N -L cuda_sim | sed -n 's/^Total Tests: //p')
    echo "sac.sh: ${sim_tests:-0} CUDA tests run on the CUDA simulator (ctest -L cuda_sim), then again under seeds 2 and 3 (ctest -L sim_seeds)"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
    ;;
  sanitize)
    install_packages
    # (the Python module is left out: an instrumented extension needs the ASan runtime preloaded)
    # (and the CUDA simulator: its fibers switch stacks under ASan's feet)
    configure_and_build "${BUILD_DIR}-sanitize" -DSAC_SANITIZE=ON -DSAC_ENABLE_CUDA=OFF -DSAC_CUDA_SIM=OFF \
      -DSAC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release -DSAC_BUILD_PYTHON=OFF
    # any sanitizer report fails its test
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=abort_on_error=0
    ctest --test-dir "${BUILD_DIR}-sanitize" --output-on-failure -j "$JOBS" -LE slow
    ;;
  fuzz)
    # clang's libFuzzer: a build folder of its own with only the fuzz targets and the engine
    # parts they link (tests/fuzz/fuzz.cmake), no CUDA, no tests, no Python module
    PACKAGES+=(clang libclang-rt-dev)
    install_packages
    fetch_mujoco
    CC=clang CXX=clang++ cmake -S . -B "${BUILD_DIR}-fuzz" -G Ninja -DSAC_BUILD_FUZZ=ON \
      -DSAC_ENABLE_CUDA=OFF -DSAC_CUDA_SIM=OFF -DSAC_BUILD_TESTS=OFF -DSAC_BUILD_BENCH=OFF \
      -DSAC_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release "-DSAC_MUJOCO_ROOT=$SAC_MUJOCO_ROOT" \
      >/dev/null
    cmake --build "${BUILD_DIR}-fuzz" -j "$JOBS" --target sac_fuzzers
    exec tests/fuzz/run_fuzzers.sh "${BUILD_DIR}-fuzz" "${FUZZ_SECONDS:-30}"
    ;;
  gpu-pack)
    # the GPU machine runs what is packed here: a CUDA build for its sm_90, nothing compiled there
    dry=0
    case "${1:-}" in
      "") ;;
      --dry-run) dry=1 ;;
      *) echo "usage: ./sac.sh gpu-pack [--dry-run]" >&2; exit 2 ;;
    esac
    install_packages
    command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] ||
      { echo "sac.sh gpu-pack: needs nvcc (the CUDA toolkit) to build the CUDA binaries" >&2; exit 2; }
    SAC_ENABLE_CUDA=ON CMAKE_CUDA_ARCHITECTURES=90 configure_and_build "${GPU_BUILD_DIR:-build-gpu}"
    if [ $dry = 1 ]; then
      exec tests/gpu_campaign_dry_run.sh "${GPU_BUILD_DIR:-build-gpu}"
    fi
    bench/gpu_pack.sh "${GPU_BUILD_DIR:-build-gpu}" .gpu
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
