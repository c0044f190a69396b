"""envpool_compare.py: sac_engine's env pool beside EnvPool (PyPI), stepped from Python the same
way: the same task, number of envs and threads, synchronous steps (EnvPool with batch_size =
num_envs) of the same uniform random actions, rounds of the two alternated in one process; prints
each engine's median env steps/s and the ratio, one JSON line per (task, threads) and a markdown
table at the end. Versions: ours run Debian's MuJoCo C library (2.2.2) with the project's v5
tasks; EnvPool's extension links its own MuJoCo (the version string printed is the one found in
that extension) with its own v5 tasks.

    python3 -m venv /tmp/ep && /tmp/ep/bin/pip install envpool "numpy<2"
    PYTHONPATH=build/python /tmp/ep/bin/python bench/envpool_compare.py --threads 1 2

(numpy < 2 for the module CMake builds against Debian's pybind11 2.10; a `pip install .` of this
project into that venv works with any numpy.) Benchmarks are not tests: nothing is asserted.
"""
import argparse
import json
import os
import re
import statistics
import time

import numpy as np

import envpool
import sac_engine


def envpool_mujoco_version():
    import glob
    for path in glob.glob(os.path.join(os.path.dirname(envpool.__file__), "mujoco", "*gym*.so")):
        with open(path, "rb") as f:
            found = set(re.findall(rb"\x00([23]\.\d+\.\d+)\x00", f.read()))
        if found:
            return ",".join(sorted(v.decode() for v in found))
    return "unknown"


def time_steps(step, actions, steps):
    t0 = time.perf_counter()
    for k in range(steps):
        step(actions[k % len(actions)])
    return time.perf_counter() - t0


def compare(task, num_envs, threads, steps, rounds, seed=0):
    ours = sac_engine.make_vec_env(task, num_envs=num_envs, threads=threads, seed=seed)
    theirs = envpool.make_gymnasium(task, num_envs=num_envs, batch_size=num_envs,
                                    num_threads=threads, seed=seed)
    assert ours.single_action_space.shape == theirs.action_space.shape[-1:]
    low, high = ours.single_action_space.low, ours.single_action_space.high
    rng = np.random.default_rng(seed)
    actions = rng.uniform(low, high, (64, num_envs, len(low))).astype(np.float32)
    ours.reset()
    theirs.reset()
    # warm-up, then alternated rounds
    time_steps(ours.step, actions, steps // 10)
    time_steps(theirs.step, actions, steps // 10)
    rates = {"sac_engine": [], "envpool": []}
    for _ in range(rounds):
        rates["sac_engine"].append(num_envs * steps / time_steps(ours.step, actions, steps))
        rates["envpool"].append(num_envs * steps / time_steps(theirs.step, actions, steps))
    med = {k: statistics.median(v) for k, v in rates.items()}
    theirs.close()
    return {"task": task, "num_envs": num_envs, "threads": threads, "steps": steps,
            "rounds": rounds, "sac_engine_steps_per_second": round(med["sac_engine"]),
            "envpool_steps_per_second": round(med["envpool"]),
            "ratio": round(med["sac_engine"] / med["envpool"], 3),
            "envpool": envpool.__version__, "envpool_mujoco": envpool_mujoco_version()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="+", default=["HalfCheetah-v5", "Hopper-v5", "Ant-v5"])
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=1000, help="batch steps per round")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    rows = []
    for task in a.tasks:
        for threads in a.threads:
            r = compare(task, a.num_envs, threads, a.steps, a.rounds)
            rows.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n| task | envs | threads | sac_engine steps/s | EnvPool {rows[0]['envpool']} steps/s "
          "| sac_engine / EnvPool |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['num_envs']} | {r['threads']} | {r['sac_engine_steps_per_second']:,} "
              f"| {r['envpool_steps_per_second']:,} | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
