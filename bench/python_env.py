"""python_env.py: env steps per second through the Python module beside `sac bench env`, in one
run, and the Python overhead per batch step that follows from the two rates.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_env.py [--sac build/sac]
        [--env HalfCheetah-v5] [--num-envs 64] [--threads 1 2] [--steps 2000] [--rounds 4]

For each thread count, R rounds alternate the two measurements (so a shared machine's load hits
both alike): `sac bench env --rounds 1` (the pool stepped from C++, uniform random actions), then
the same number of batch steps of sac_engine's VecEnv.step() from Python with pregenerated
uniform random actions. overhead_us_per_step = 1e6 * num_envs * (1 / python_rate - 1 / cpp_rate):
the Python call, argument checks and action mapping per batch step. A last line measures the
bare call: VecEnv.step() on one Pendulum-v1 env (no physics). Prints one JSON line per setting.
"""
import argparse
import json
import subprocess
import time

import numpy as np

import sac_engine


def python_rate(env_id, num_envs, threads, steps, warmup=200):
    envs = sac_engine.make_vec_env(env_id, num_envs=num_envs, threads=threads, seed=0)
    envs.reset()
    low, high = envs.single_action_space.low, envs.single_action_space.high
    rng = np.random.default_rng(0)
    table = rng.uniform(low, high, (16, num_envs, envs.act_dim)).astype(np.float32)
    for k in range(warmup):
        envs.step(table[k % 16])
    t0 = time.perf_counter()
    for k in range(steps):
        envs.step(table[k % 16])
    return steps * num_envs / (time.perf_counter() - t0)


def cpp_rate(sac, env_id, num_envs, threads, steps):
    out = subprocess.run([sac, "bench", "env", "--env", env_id, "--num-envs", str(num_envs),
                          "--threads", str(threads), "--steps", str(steps), "--rounds", "1"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["env_steps_per_second"]


def main():
    p = argparse.ArgumentParser(description="Python env steps/s beside `sac bench env`")
    p.add_argument("--sac", default="build/sac")
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--num-envs", type=int, default=64)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=4)
    a = p.parse_args()
    for threads in a.threads:
        cpp, py = [], []
        for _ in range(a.rounds):
            cpp.append(cpp_rate(a.sac, a.env, a.num_envs, threads, a.steps // a.rounds))
            py.append(python_rate(a.env, a.num_envs, threads, a.steps // a.rounds))
        c, q = float(np.median(cpp)), float(np.median(py))
        print(json.dumps({"env": a.env, "num_envs": a.num_envs, "threads": threads,
                          "sac_bench_env_steps_per_second": round(c),
                          "python_env_steps_per_second": round(q),
                          "python_over_cpp": round(q / c, 3),
                          "overhead_us_per_step": round(1e6 * a.num_envs * (1 / q - 1 / c), 1),
                          "rounds_cpp": [round(x) for x in cpp], "rounds_python": [round(x) for x in py]}),
              flush=True)
    calls = python_rate("Pendulum-v1", 1, 1, 20000)
    print(json.dumps({"env": "Pendulum-v1", "num_envs": 1, "threads": 1,
                      "python_step_calls_per_second": round(calls),
                      "us_per_call": round(1e6 / calls, 2)}), flush=True)


if __name__ == "__main__":
    main()
