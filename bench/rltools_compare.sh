#!/usr/bin/env bash
# rltools_compare.sh: RLtools' Pendulum-v1 SAC benchmark beside `sac train` with the same
# settings, each timed as a whole process (start to exit, wall time), alternated.
#
#   bench/rltools_compare.sh RLTOOLS_CHECKOUT [SAC_BINARY=build/sac] [--runs N=5] [--build-dir DIR]
#
# RLTOOLS_CHECKOUT is a checkout of github.com/rl-tools/rl-tools (never part of this project).
# The script builds its target rl_environments_pendulum_sac_benchmark into DIR (default
# /tmp/rltools-bench-<hash of the checkout path>) the way RLtools' CMake does it for a
# Release build (-O3 -ffast-math -march=native, plus -Ofast on that target), linked to OpenBLAS
# (BLA_VENDOR=OpenBLAS, MKL not looked for), HDF5, TensorBoard, CUDA and zlib off, nothing
# downloaded, nothing written into the checkout. RLtools runs with OPENBLAS_NUM_THREADS=1 (one
# thread, as it does not set the count itself); `sac` pins OpenBLAS to one thread on its own.
#
# Each round runs three processes in a rotating order: RLtools, `sac train
# bench/rltools_pendulum.json` with train.threads unset (0: one per core) and with
# train.threads=1. The sac config maps RLtools' settings (src/rl/environments/pendulum/sac/cpu/
# training.cpp and the defaults it inherits): 10,000 env steps, uniform random actions for the
# first 100, then one update per step (9,900 updates), 64x64 ReLU actor and twin critics,
# batch 100, replay 10,000, Adam lr 1e-3 (actor, critics, alpha), betas 0.9/0.999, eps 1e-7,
# alpha 0.5 at the start and learned (target entropy -1), log-std bounds [-20, 2], gamma 0.99,
# tau 0.005. Not expressible in our config: RLtools clamps the log-std to the bounds where we
# squash it with tanh into them; its Adam also floors the second moment at 1e-7 under the
# square root; its temperature gradient is taken on alpha (alpha x (entropy - target)), ours on
# log alpha. The sac run also writes a policy file and a final checkpoint (RLtools writes
# nothing) and one metrics line; it evaluates nothing while timed.
#
# Returns, outside the timed part: each sac run's policy is evaluated afterwards with `sac eval
# POLICY --episodes 100` (deterministic). RLtools' benchmark build has no evaluation step and
# prints only its own timer ("Time: ...", from after allocation to the last step); for its return
# the script builds and runs once, untimed, the same training.cpp without BENCHMARK
# (rl_environments_pendulum_sac_blas: same training settings, 100 deterministic episodes every
# 1,000 steps) and reports the evaluation at step 10,000.
#
# Output: one line per process on stderr as it finishes, then a table of all times and their
# medians, the same for each program's own timer (RLtools' "Time:", sac's summary.json
# wall_seconds; the difference to the process time is start-up and exit), the ratio RLtools
# median / sac median per sac row (> 1: sac is faster) and each round's ratio, the returns,
# and the load average before and after (timings are only comparable on a quiet machine).
# Exit status: 2 for a wrong checkout or binary or a target that does not build, 1 when a
# timed run fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CONFIG="$HERE/rltools_pendulum.json"
TARGET=rl_environments_pendulum_sac_benchmark
RETURN_TARGET=rl_environments_pendulum_sac_blas

die() { echo "rltools_compare.sh: $1" >&2; exit "${2:-2}"; }
usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; }

# arguments
RUNS=5
BUILD_DIR=
POSITIONAL=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#--runs=}; shift ;;
    --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; BUILD_DIR=$2; shift 2 ;;
    --build-dir=*) BUILD_DIR=${1#--build-dir=}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
[[ ${#POSITIONAL[@]} -ge 1 && ${#POSITIONAL[@]} -le 2 ]] ||
  die "usage: bench/rltools_compare.sh RLTOOLS_CHECKOUT [SAC_BINARY] [--runs N] [--build-dir DIR]"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
CHECKOUT=${POSITIONAL[0]}
SAC=${POSITIONAL[1]:-$ROOT/build/sac}

# the checkout: RLtools with the Pendulum SAC benchmark target
BENCH_CMAKE="src/rl/environments/pendulum/sac/cpu/CMakeLists.txt"
[[ -d "$CHECKOUT" ]] || die "RLtools checkout '$CHECKOUT' is not a directory"
CHECKOUT=$(cd "$CHECKOUT" && pwd)
[[ -f "$CHECKOUT/CMakeLists.txt" && -d "$CHECKOUT/include/rl_tools" ]] ||
  die "'$CHECKOUT' is not an RLtools checkout (no CMakeLists.txt and include/rl_tools/)"
grep -q "$TARGET" "$CHECKOUT/$BENCH_CMAKE" 2>/dev/null ||
  die "'$CHECKOUT' has no target $TARGET in $BENCH_CMAKE"
[[ -x "$SAC" ]] || die "sac binary '$SAC' is not an executable (build it, or pass its path)"
WORK=$(mktemp -d /tmp/rltools-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# every run uses one copy of the binary, so a rebuild during the rounds cannot mix two builds
SAC_GIVEN=$SAC
SAC=$WORK/sac
cp "$SAC_GIVEN" "$SAC" || die "cannot copy '$SAC_GIVEN' to $SAC"
"$SAC" config show "$CONFIG" >/dev/null || die "'$SAC_GIVEN' rejects $CONFIG"
command -v cmake >/dev/null || die "cmake not found (apt-get install cmake)"

# build RLtools' benchmark (and, for its return only, the same code without BENCHMARK)
if [[ -z "$BUILD_DIR" ]]; then
  BUILD_DIR=/tmp/rltools-bench-$(printf '%s' "$CHECKOUT" | cksum | cut -d' ' -f1)
fi
mkdir -p "$BUILD_DIR" || die "cannot create build directory '$BUILD_DIR'"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
GENERATOR=()
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
echo "building $TARGET from $CHECKOUT in $BUILD_DIR" >&2
if ! cmake -S "$CHECKOUT" -B "$BUILD_DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBLA_VENDOR=OpenBLAS -DCMAKE_DISABLE_FIND_PACKAGE_MKL=ON \
    -DRL_TOOLS_DISABLE_HDF5=ON -DRL_TOOLS_DISABLE_TENSORBOARD=ON -DRL_TOOLS_DISABLE_ZLIB=ON \
    -DRL_TOOLS_BACKEND_DISABLE_CUDA=ON -DRL_TOOLS_ENABLE_GIT_DIFF=OFF \
    -DRL_TOOLS_WARNINGS_AS_ERRORS=OFF -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
    -DFETCHCONTENT_BASE_DIR="$BUILD_DIR/_deps" >"$BUILD_DIR/configure.log" 2>&1; then
  tail -n 20 "$BUILD_DIR/configure.log" >&2
  die "configuring RLtools failed (full log: $BUILD_DIR/configure.log)"
fi
grep -q "Found BLAS library" "$BUILD_DIR/configure.log" ||
  die "RLtools' CMake found no OpenBLAS, so it defines no $TARGET (apt-get install libopenblas-dev)"
if ! cmake --build "$BUILD_DIR" --target "$TARGET" >"$BUILD_DIR/build.log" 2>&1; then
  tail -n 20 "$BUILD_DIR/build.log" >&2
  die "building $TARGET failed (full log: $BUILD_DIR/build.log)"
fi
RLT=$(find "$BUILD_DIR" -type f -name "$TARGET" -perm -u+x | head -n 1)
[[ -n "$RLT" ]] || die "built $TARGET but found no executable of that name under $BUILD_DIR"
RLT_RET=
if cmake --build "$BUILD_DIR" --target "$RETURN_TARGET" >>"$BUILD_DIR/build.log" 2>&1; then
  RLT_RET=$(find "$BUILD_DIR" -type f -name "$RETURN_TARGET" -perm -u+x | head -n 1)
fi


# one timed process: run NAME ROUND CMD...; its stdout and stderr go to $WORK/NAME-ROUND.log
now() { echo "${EPOCHREALTIME:-$(date +%s.%N)}"; }
declare -A TIMES
run() {
  local name=$1 round=$2 t0 t1 dt rc=0
  shift 2
  t0=$(now)
  "$@" >"$WORK/$name-$round.log" 2>&1 || rc=$?
  t1=$(now)
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$WORK/$name-$round.log" >&2
    die "$name (round $round) exited $rc" 1
  fi
  dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  TIMES[$name]+="$dt "
  echo "round $round: $name $dt s" >&2
}
run_rltools() { (cd "$WORK" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$RLT"); }
run_sac() { "$SAC" train "$CONFIG" --quiet --run-dir "$WORK/$1-$2" "${@:3}"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ROWS=(rltools sac_threads_default sac_threads_1)
echo "machine: $(nproc) cores; $(uptime | sed 's/^ *//')" >&2
LOAD_BEFORE=$(uptime | sed 's/.*load average: //')
for ((r = 1; r <= RUNS; ++r)); do
  for ((k = 0; k < 3; ++k)); do
    row=${ROWS[(r - 1 + k) % 3]}
    case $row in
      rltools) run rltools "$r" run_rltools ;;
      sac_threads_default) run "$row" "$r" run_sac "$row" "$r" ;;
      sac_threads_1) run "$row" "$r" run_sac "$row" "$r" --set train.threads=1 ;;
    esac
  done
done
LOAD_AFTER=$(uptime | sed 's/.*load average: //')

# returns, untimed
returns_of() {
  local row=$1 out=
  for ((r = 1; r <= RUNS; ++r)); do
    out+="$("$SAC" eval "$WORK/$row-$r/policy.safetensors" --episodes 100 --device cpu 2>/dev/null |
      sed -n 's/.*"mean_return":\([^,}]*\).*/\1/p' | awk '{ printf "%.1f", $1 }') "
  done
  echo "$out"
}
RLT_RETURN="none: its benchmark build has no evaluation step"
if [[ -n "$RLT_RET" ]]; then
  mkdir -p "$WORK/rltools-return"
  last=$(cd "$WORK/rltools-return" && OPENBLAS_NUM_THREADS=1 "$RLT_RET" 2>&1 |
    sed -n 's|^Step: 10000/10000 Mean return: \([-0-9.e+]*\).*|\1|p' | tail -n 1) || true
  if [[ -n "$last" ]]; then
    RLT_RETURN="$last (one untimed run of $RETURN_TARGET, 100 deterministic episodes at step 10,000)"
  else
    RLT_RETURN+="; $RETURN_TARGET printed no return at step 10,000"
  fi
else
  RLT_RETURN+="; $RETURN_TARGET did not build"
fi
# each program's own timer: RLtools' "Time:" line, sac's summary.json wall_seconds (the run only)
own_times() {
  local row=$1 out=
  for ((r = 1; r <= RUNS; ++r)); do
    if [[ $row == rltools ]]; then
      out+="$(sed -n 's/^Time: \([0-9.]*\)s.*/\1/p' "$WORK/rltools-$r.log" | tail -n 1 |
        awk '{ printf "%.3f", $1 }') "
    else
      out+="$(sed -n 's/.*"wall_seconds": *\([0-9.e+-]*\).*/\1/p' "$WORK/$row-$r/summary.json" |
        tail -n 1 | awk '{ printf "%.3f", $1 }') "
    fi
  done
  echo "$out"
}

# report
RLT_MED=$(median <<<"${TIMES[rltools]}")
echo
echo "RLtools $(git -C "$CHECKOUT" rev-parse --short HEAD 2>/dev/null || echo '(not a git checkout)'), $RLT"
echo "sac $("$SAC" --version | sed -n 's/^commit: //p'), $SAC_GIVEN (copied at start), config $CONFIG"
echo "wall seconds per process, $RUNS rounds alternated ($(nproc) cores):"
printf '  %-22s %-8s %s\n' row median "all runs"
for row in "${ROWS[@]}"; do
  printf '  %-22s %-8s %s\n' "$row" "$(median <<<"${TIMES[$row]}")" "${TIMES[$row]% }"
done
echo "each program's own timer (RLtools: after allocation to the last step; sac: summary.json wall_seconds):"
for row in "${ROWS[@]}"; do
  own=$(own_times "$row")
  printf '  %-22s %-8s %s\n' "$row" "$(median <<<"$own")" "${own% }"
done
# the ratio of the medians, and each round's own ratio (the two ran within seconds of each other)
read -r -a RLT_ALL <<<"${TIMES[rltools]}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for row in sac_threads_default sac_threads_1; do
  read -r -a SAC_ALL <<<"${TIMES[$row]}"
  per_round=
  for ((i = 0; i < RUNS; ++i)); do per_round+="$(ratio "${RLT_ALL[i]}" "${SAC_ALL[i]}") "; done
  of_medians=$(ratio "$RLT_MED" "$(median <<<"${TIMES[$row]}")")
  median_of_rounds=$(median <<<"$per_round" | awk '{ printf "%.2f", $1 }')
  echo "ratio rltools / $row: $of_medians (> 1: sac faster);" \
    "per round: ${per_round% } (median $median_of_rounds)"
done
echo "returns (mean of 100 deterministic episodes, after training, untimed):"
for row in sac_threads_default sac_threads_1; do
  r=$(returns_of "$row"); echo "  $row: ${r% }"
done
echo "  rltools: $RLT_RETURN"
echo "load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
