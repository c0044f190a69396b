#!/usr/bin/env python3
# make_golden.py: writes sac_update_golden.json, ten SAC updates of the PyTorch reference
# (bench/torch_sac.py) on one fixed small batch with fixed noise, for the C++ golden test.
#
#   /usr/bin/python3 tests/golden/make_golden.py [--out tests/golden/sac_update_golden.json]
#
# Problem: obs 5, act 2, hidden [32, 32], batch 16, float32, CPU, torch.manual_seed(0), default
# nn.Linear init, log_alpha 0. Floats are repr(float(x)) of float32 values, so they round-trip.
# Layout: config, init (actor / critic / target nets, log_alpha), batch, noise[10],
# steps[10] (losses, alpha used, log_alpha after; nets after the step, only for the steps in
# "weights_at_steps" unless --all-weights, to keep the file small), grads_step1, forward_step1.
# NET = [{"W": flat row-major out x in, "b": [out]}, ...], one entry per nn.Linear.
import argparse
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import torch_sac as ts  # noqa: E402

OBS, ACT, HIDDEN, BATCH, STEPS = 5, 2, [32, 32], 16, 10


def flat(t):
    """A tensor as a flat list of Python floats (float32 values, exact in double)."""
    return [float(x) for x in t.detach().to(torch.float32).reshape(-1).tolist()]


def net(module):
    """An nn.Sequential MLP as NET: its Linear layers' W (out x in, row-major) and b."""
    return [{"W": flat(l.weight), "b": flat(l.bias)} for l in module if isinstance(l, torch.nn.Linear)]


def grads_net(grads):
    """Per-parameter gradients [W0, b0, W1, b1, ...] as NET."""
    return [{"W": flat(grads[i]), "b": flat(grads[i + 1])} for i in range(0, len(grads), 2)]


def nets(m):
    """The actor, critic and target nets of m."""
    return {"actor": net(m.actor), "critic": [net(c) for c in m.critics],
            "target": [net(t) for t in m.targets]}


def main():
    p = argparse.ArgumentParser(description="write the SAC update golden file")
    p.add_argument("--out", default=os.path.join(HERE, "sac_update_golden.json"))
    p.add_argument("--all-weights", action="store_true", help="nets after every step (~1.6 MB)")
    args = p.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    m = ts.Sac(OBS, ACT, HIDDEN, "cpu", log_alpha=0.0)
    init = nets(m)
    init["log_alpha"] = float(m.log_alpha)

    # fixed batch; every 5th transition terminates
    obs = torch.randn(BATCH, OBS)
    act = torch.rand(BATCH, ACT) * 2.0 - 1.0
    rew = torch.randn(BATCH)
    next_obs = torch.randn(BATCH, OBS)
    term = torch.tensor([1.0 if i % 5 == 4 else 0.0 for i in range(BATCH)])
    noise = [(torch.randn(BATCH, ACT), torch.randn(BATCH, ACT)) for _ in range(STEPS)]

    keep = set(range(1, STEPS + 1)) if args.all_weights else {1, 2, STEPS}
    steps, trace = [], {}
    for k, (eps_next, eps_cur) in enumerate(noise, start=1):
        out = ts.sac_update(m, obs, act, rew, next_obs, term, eps_next, eps_cur,
                            trace=trace if k == 1 else None)
        rec = {key: float(v) for key, v in out.items()}
        rec["log_alpha"] = float(m.log_alpha)
        if k in keep:
            rec.update(nets(m))
        steps.append(rec)

    # sanity: finite losses that change from step to step
    for key in ("critic_loss", "actor_loss", "alpha_loss", "alpha"):
        vals = [s[key] for s in steps]
        if not all(math.isfinite(v) for v in vals) or len(set(vals)) < STEPS - 1:
            sys.exit(f"make_golden.py: {key} is non-finite or constant: {vals}")

    golden = {
        "config": {"obs_dim": OBS, "act_dim": ACT, "hidden": HIDDEN, "batch": BATCH,
                   "gamma": ts.GAMMA, "tau": ts.TAU, "lr": ts.LR, "beta1": ts.BETAS[0],
                   "beta2": ts.BETAS[1], "adam_eps": ts.ADAM_EPS,
                   "log_std_min": int(ts.LOG_STD_MIN), "log_std_max": int(ts.LOG_STD_MAX),
                   "target_entropy": -ACT, "steps": STEPS},
        "weights_at_steps": sorted(keep),
        "init": init,
        "batch": {"obs": flat(obs), "action": flat(act), "reward": flat(rew),
                  "next_obs": flat(next_obs), "terminated": flat(term)},
        "noise": [{"next": flat(n), "cur": flat(c)} for n, c in noise],
        "steps": steps,
        "grads_step1": {"actor": grads_net(trace["actor_grads"]),
                        "critic": [grads_net(g) for g in trace["critic_grads"]],
                        "log_alpha": float(trace["log_alpha_grad"])},
        "forward_step1": {"logpi_next": flat(trace["logpi_next"]), "y": flat(trace["y"]),
                          "q": [flat(q) for q in trace["q"]],
                          "action_pi": flat(trace["action_pi"]), "logpi": flat(trace["logpi"])},
    }
    # json writes floats with repr, so float32 values round-trip exactly
    with open(args.out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, torch {torch.__version__})")
    for s in steps:
        print({k: s[k] for k in ("critic_loss", "actor_loss", "alpha_loss", "alpha", "log_alpha")})


if __name__ == "__main__":
    main()
