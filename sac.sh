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
PACKAGES=(cmake ninja-build g++ pkg-config libmujoco-dev libqhull-dev nlohmann-json3-dev
          libgtest-dev libopenblas-dev python3-dev python3-numpy python3-pybind11 pybind11-dev
          python3-pytest python3 python3-venv libboost-context-dev libcli11-dev
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

configure_and_build() {
  local dir=$1; shift
  [ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
  local cuda_flags=()
  [ -n "${SAC_ENABLE_CUDA:-}" ] && cuda_flags+=("-DSAC_ENABLE_CUDA=$SAC_ENABLE_CUDA")
  [ -n "${CMAKE_CUDA_ARCHITECTURES:-}" ] && cuda_flags+=("-DCMAKE_CUDA_ARCHITECTURES=$CMAKE_CUDA_ARCHITECTURES")
  # the Python module is required here, so a missing piece fails instead of skipping its tests
  cmake -S . -B "$dir" -G Ninja "${cuda_flags[@]}" -DSAC_BUILD_PYTHON=ON \
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
    echo "sac.sh: ${sim_tests:-0} CUDA tests run on the CUDA simulator (ctest -L cuda_sim)"
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
    CC=clang CXX=clang++ cmake -S . -B "${BUILD_DIR}-fuzz" -G Ninja -DSAC_BUILD_FUZZ=ON \
      -DSAC_ENABLE_CUDA=OFF -DSAC_CUDA_SIM=OFF -DSAC_BUILD_TESTS=OFF -DSAC_BUILD_BENCH=OFF \
      -DSAC_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
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
