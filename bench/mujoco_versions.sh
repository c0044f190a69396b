#!/usr/bin/env bash
# mujoco_versions.sh [ROUNDS] [ENV_STEPS]: one core's raw mj_step rate of each task's model file on
# Debian's MuJoCo 2.2.2 (the project's physics before 4.0.1) against MuJoCo 4.0.1 (the project's
# now, .deps/ of ./sac.sh), alternated in one run: bench/mj_step_rate.c compiled against each,
# each task run ROUNDS times per version (default 3) for ENV_STEPS env steps (default 20000),
# versions alternating within each round. Prints each run as a JSON line, then the README's
# table of medians (us per env step, and the ratio). Debian's libmujoco-dev and its runtime
# libraries are unpacked into a temporary prefix (never installed). Run on a quiet machine,
# pinned to one core: taskset -c 1 bench/mujoco_versions.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
steps=${2:-20000}
mj4=${SAC_MUJOCO_ROOT:-$repo/.deps/mujoco-4.0.1}
[ -f "$mj4/libmujoco.so.4.0.1" ] || { echo "mujoco_versions.sh: no MuJoCo 4.0.1 in $mj4 (./sac.sh setup fetches it)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Debian's MuJoCo 2.2.2 and what it loads, unpacked into $work/deb
(cd "$work" && apt-get download -qq libmujoco-dev libmujoco2.2.2 libccd2 libqhull-r8.0 libtinyxml2-9 liblodepng0 2>/dev/null)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/deb"; done
lib22=$work/deb/usr/lib/$(gcc -dumpmachine)
cc -O2 "$repo/bench/mj_step_rate.c" -I"$work/deb/usr/include" -L"$lib22" -l:libmujoco.so.2.2.2 \
  -Wl,-rpath,"$lib22" -o "$work/rate-2.2.2"
cc -O2 "$repo/bench/mj_step_rate.c" -I"$mj4/include" "$mj4/libmujoco.so.4.0.1" -Wl,-rpath,"$mj4" \
  -o "$work/rate-4.0.1"

# task model file, frame skip, contact forces (the tasks' settings)
tasks=("half_cheetah.xml 5 0" "hopper.xml 4 0" "walker2d_v5.xml 4 0" "ant.xml 5 1"
       "humanoid.xml 5 1" "inverted_pendulum.xml 2 0" "inverted_double_pendulum.xml 5 0"
       "swimmer.xml 4 0" "reacher.xml 2 0" "pusher_v5.xml 5 0")
for round in $(seq "$rounds"); do
  for t in "${tasks[@]}"; do
    set -- $t
    for v in 2.2.2 4.0.1; do
      LD_LIBRARY_PATH=$lib22 "$work/rate-$v" "$repo/envs/models/$1" "$2" "$3" "$steps" "$round" \
        2>/dev/null | tee -a "$work/runs.jsonl"
    done
  done
done

python3 - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
models = list(dict.fromkeys(r["model"] for r in runs))
print("| model file | us per env step, MuJoCo 2.2.2 | MuJoCo 4.0.1 | 4.0.1 / 2.2.2 |")
print("|---|---|---|---|")
for m in models:
    med = {v: statistics.median(r["us_per_env_step"] for r in runs if r["model"] == m and r["mujoco"] == v)
           for v in ("2.2.2", "4.0.1")}
    print(f"| {m} | {med['2.2.2']:.1f} | {med['4.0.1']:.1f} | {med['4.0.1'] / med['2.2.2']:.2f} |")
PY
