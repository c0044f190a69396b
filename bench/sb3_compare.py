"""sb3_compare.py: sac_engine.SAC beside Stable-Baselines3's SAC (PyPI) on the same Python env
(Gymnasium's own Pendulum-v1 and HalfCheetah-v5, MuJoCo from PyPI) with the same
hyperparameters: networks 256x256, batch 256, Adam lr 3e-4, buffer 1e6, gamma 0.99, tau 0.005,
automatic entropy (alpha starts at 1, target -dim(A)), `learning_starts` uniform random steps,
train_freq 1, gradient_steps 1, on the CPU with the same number of threads. Whole trainings of
the two are alternated in one process (round 1: SB3 then sac_engine, round 2 the other way, ...);
each row is one training: env steps per second over the whole learn() call, and the final
return (mean of 10 deterministic episodes on a fresh env, seeded 1000 + episode, the same
evaluation for both). One JSON line per row, a markdown table at the end.
Differences that remain: SB3 clamps log-std to [-20, 2], sac_engine squashes it into [-5, 2]
with tanh (its config's sac.log_std_min/max); each draws its own random numbers.

Torch: Debian's python3-torch (1.13) in a venv with the system site packages, and
Stable-Baselines3 2.4.1, the last release that supports torch 1.13 (2.5 and later need torch
>= 2.3) and one that supports Gymnasium 1.0 (HalfCheetah-v5). Chosen over PyPI's torch wheel,
whose Linux build pulls in the CUDA libraries (several GB) that a CPU comparison never uses.

    apt-get install python3-torch python3-venv
    /usr/bin/python3 -m venv --system-site-packages /tmp/sb3
    /tmp/sb3/bin/pip install --no-deps stable-baselines3==2.4.1
    /tmp/sb3/bin/pip install cloudpickle pandas matplotlib "gymnasium[mujoco]==1.0.0" "numpy<2"
    PYTHONPATH=build/python /tmp/sb3/bin/python bench/sb3_compare.py \
        --tasks Pendulum-v1 HalfCheetah-v5 --steps 20000 --rounds 2

(--no-deps: Debian's torch calls itself 1.13.0a0, a pre-release pip does not count as the
`torch>=1.13` SB3 asks for, so pip would fetch PyPI's torch instead. The script prints the
versions it ran with in every row. numpy < 2: the module CMake builds against Debian's pybind11 2.10 reads numpy 1's arrays.)
A short run that only shows the script works: --tasks Pendulum-v1 --steps 600
--learning-starts 300 --rounds 1 --eval-episodes 1. Benchmarks are not tests: nothing is
asserted.
"""
import argparse
import json
import sys
import time

import gymnasium
import numpy as np


def evaluate(model, task, episodes):
    """Mean return of `episodes` deterministic episodes on a fresh env (seed 1000 + episode)."""
    env = gymnasium.make(task)
    returns = []
    for e in range(episodes):
        obs, _ = env.reset(seed=1000 + e)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def train_sb3(task, a):
    import torch
    from stable_baselines3 import SAC
    torch.set_num_threads(a.threads)
    model = SAC("MlpPolicy", gymnasium.make(task), learning_rate=3e-4, buffer_size=1_000_000,
                learning_starts=a.learning_starts, batch_size=256, tau=0.005, gamma=0.99,
                train_freq=1, gradient_steps=1, ent_coef="auto", target_entropy="auto",
                policy_kwargs={"net_arch": [256, 256]}, device="cpu", seed=a.seed, verbose=0)
    t0 = time.perf_counter()
    model.learn(a.steps)
    return model, time.perf_counter() - t0


def train_ours(task, a):
    import sac_engine
    model = sac_engine.SAC(gymnasium.make(task), run_dir=False, device="cpu",
                           threads=a.threads, seed=a.seed, warmup_steps=a.learning_starts,
                           eval_every=0, eval_episodes=0, **{
                               "sac.hidden": [256, 256], "sac.batch_size": 256,
                               "sac.buffer_size": 1_000_000, "sac.actor_lr": 3e-4,
                               "sac.critic_lr": 3e-4, "sac.alpha_lr": 3e-4, "sac.gamma": 0.99,
                               "sac.tau": 0.005, "train.updates_per_step": 1})
    t0 = time.perf_counter()
    model.learn(a.steps)
    return model, time.perf_counter() - t0


def versions():
    import mujoco
    import stable_baselines3
    import torch
    return {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__,
            "gymnasium": gymnasium.__version__, "mujoco": mujoco.__version__}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=["Pendulum-v1", "HalfCheetah-v5"])
    p.add_argument("--steps", type=int, default=20000, help="env steps of each training")
    p.add_argument("--learning-starts", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=2, help="trainings of each learner per task")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    a = p.parse_args(argv)
    v = versions()
    learners = {"sb3": train_sb3, "sac_engine": train_ours}
    rows = []
    for task in a.tasks:
        for r in range(a.rounds):
            order = ["sb3", "sac_engine"] if r % 2 == 0 else ["sac_engine", "sb3"]
            for name in order:
                model, seconds = learners[name](task, a)
                row = {"task": task, "learner": name, "round": r + 1, "steps": a.steps,
                       "learning_starts": a.learning_starts, "threads": a.threads,
                       "seconds": seconds, "env_steps_per_second": a.steps / seconds,
                       "final_return": evaluate(model, task, a.eval_episodes), "versions": v}
                print(json.dumps(row), flush=True)
                rows.append(row)
    print("\n| task | learner | env steps/s (median over rounds) | final return (per round) |")
    print("|---|---|---|---|")
    for task in a.tasks:
        for name in learners:
            mine = [r for r in rows if r["task"] == task and r["learner"] == name]
            sps = float(np.median([r["env_steps_per_second"] for r in mine]))
            rets = ", ".join(f"{r['final_return']:.0f}" for r in mine)
            print(f"| {task} | {name} | {sps:.0f} | {rets} |")


if __name__ == "__main__":
    main(sys.argv[1:])
