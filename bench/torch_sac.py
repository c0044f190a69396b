#!/usr/bin/env python3
# torch_sac.py: the PyTorch reference of one SAC update (the same conventions as the C++ engine),
# and a throughput benchmark of that update. tests/golden/make_golden.py imports the update from
# here, so there is one PyTorch implementation.
#
#   /usr/bin/python3 bench/torch_sac.py                      # a few updates on random data, prints losses
#   /usr/bin/python3 bench/torch_sac.py --bench --env HalfCheetah-v5 --batch 256 --threads 2
#   python3 bench/torch_sac.py --bench --env HalfCheetah-v5 --device cuda [--compile-graph]
#
# The benchmark prints one JSON line:
#   {"impl":"torch","device":..,"threads":..,"batch":..,"hidden":[..],"updates_per_second":..,
#    "ms_per_update":..,"gflops":..,"mode":"eager"|"cuda_graph", ...}
import argparse
import copy
import inspect
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# sac conventions, shared with the c++ engine (kernels/tanh_gaussian.h, sac_losses.h, optimizer.h)
LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0
GAMMA = 0.99
TAU = 0.005
LR = 3e-4
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
LOG2 = math.log(2.0)

# observation and action sizes of the tasks the engine knows
ENV_DIMS = {
    "Pendulum-v1": (3, 1),
    "InvertedPendulum-v5": (4, 1),
    "InvertedDoublePendulum-v5": (9, 1),
    "HalfCheetah-v5": (17, 6),
    "Hopper-v5": (11, 3),
    "Walker2d-v5": (17, 6),
    "Ant-v5": (105, 8),
    "Humanoid-v5": (348, 17),
    "Swimmer-v5": (8, 2),
    "Reacher-v5": (10, 2),
    "Pusher-v5": (23, 7),
}


def mlp(sizes):
    """Returns an MLP with nn.Linear layers of the given sizes, ReLU between them, linear output."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_adam(params, capturable=False, foreach=False):
    """Returns torch.optim.Adam with the SAC hyperparameters; single-tensor path unless foreach.

    foreach=False is passed only where this torch knows the kwarg; capturable likewise.
    """
    kwargs = dict(lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=0.0)
    sig = inspect.signature(torch.optim.Adam.__init__).parameters
    if "foreach" in sig:
        kwargs["foreach"] = True if foreach else False
    if capturable:
        if "capturable" not in sig:
            raise RuntimeError("this torch's Adam has no capturable=True; CUDA graphs need torch >= 1.12")
        kwargs["capturable"] = True
    return torch.optim.Adam(params, **kwargs)


class Sac:
    """Actor, twin critics, target critics, log_alpha and their three Adam optimisers.

    Networks are built in the order actor, critic 0, critic 1 from the current torch seed
    (default nn.Linear init); targets are copies of the critics.
    """

    def __init__(self, obs_dim, act_dim, hidden, device="cpu", capturable=False, foreach=False,
                 log_alpha=0.0):
        self.obs_dim, self.act_dim, self.hidden = obs_dim, act_dim, list(hidden)
        self.target_entropy = -float(act_dim)
        self.actor = mlp([obs_dim] + self.hidden + [2 * act_dim]).to(device)
        self.critics = [mlp([obs_dim + act_dim] + self.hidden + [1]).to(device) for _ in range(2)]
        self.targets = [copy.deepcopy(c) for c in self.critics]
        for t in self.targets:
            t.requires_grad_(False)
        self.log_alpha = torch.tensor(float(log_alpha), device=device, requires_grad=True)
        self.actor_opt = make_adam(self.actor.parameters(), capturable, foreach)
        self.critic_opt = make_adam(
            [p for c in self.critics for p in c.parameters()], capturable, foreach)
        self.alpha_opt = make_adam([self.log_alpha], capturable, foreach)


def sample_action(actor, obs, eps, act_dim):
    """Tanh-Gaussian sample with given noise eps (B x A); returns (action, logpi [B])."""
    out = actor(obs)
    mean, raw = out[:, :act_dim], out[:, act_dim:]
    log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1.0)
    u = mean + torch.exp(log_std) * eps
    a = torch.tanh(u)
    # log(1 - tanh(u)^2) in the stable form 2 (log 2 - u - softplus(-2u))
    log1m_tanh_sq = 2.0 * (LOG2 - u - F.softplus(-2.0 * u))
    logpi = (-0.5 * eps * eps - log_std - HALF_LOG_2PI - log1m_tanh_sq).sum(dim=1)
    return a, logpi


def q_value(critic, obs, act):
    """Q(s, a) [B] of one critic; its input is obs ++ action."""
    return critic(torch.cat([obs, act], dim=1)).squeeze(1)


def sac_update(m, obs, act, rew, next_obs, term, eps_next, eps_cur, trace=None):
    """One SAC update of m (critics, actor, alpha, then Polyak) on one minibatch.

    rew and term are [B]; eps_next and eps_cur are the B x A noises of the next-state and
    current-state policy samples. Returns 0-dim tensors (no host sync): critic_loss, actor_loss,
    alpha_loss and alpha (the value used in this update). trace, when a dict (nullable), receives
    detached intermediates and gradients for the golden file.
    """
    # soft target with the alpha from before this update's alpha step
    alpha = m.log_alpha.detach().exp()
    with torch.no_grad():
        a2, logpi2 = sample_action(m.actor, next_obs, eps_next, m.act_dim)
        qt = torch.min(q_value(m.targets[0], next_obs, a2), q_value(m.targets[1], next_obs, a2))
        y = rew + GAMMA * (1.0 - term) * (qt - alpha * logpi2)

    # critic step, both critics in one optimiser
    q = [q_value(c, obs, act) for c in m.critics]
    critic_loss = ((q[0] - y) ** 2).mean() + ((q[1] - y) ** 2).mean()
    m.critic_opt.zero_grad(set_to_none=True)
    critic_loss.backward()
    if trace is not None:
        trace["logpi_next"], trace["y"] = logpi2.detach().clone(), y.detach().clone()
        trace["q"] = [qi.detach().clone() for qi in q]
        trace["critic_grads"] = [[p.grad.detach().clone() for p in c.parameters()] for c in m.critics]
    m.critic_opt.step()

    # actor step through the updated critics; they only pass input gradients
    for c in m.critics:
        c.requires_grad_(False)
    a_pi, logpi = sample_action(m.actor, obs, eps_cur, m.act_dim)
    qpi = torch.min(q_value(m.critics[0], obs, a_pi), q_value(m.critics[1], obs, a_pi))
    actor_loss = (alpha * logpi - qpi).mean()
    m.actor_opt.zero_grad(set_to_none=True)
    actor_loss.backward()
    for c in m.critics:
        c.requires_grad_(True)
    if trace is not None:
        trace["action_pi"], trace["logpi"] = a_pi.detach().clone(), logpi.detach().clone()
        trace["actor_grads"] = [p.grad.detach().clone() for p in m.actor.parameters()]
    m.actor_opt.step()

    # alpha step on the same policy sample
    alpha_loss = (-m.log_alpha * (logpi.detach() + m.target_entropy)).mean()
    m.alpha_opt.zero_grad(set_to_none=True)
    alpha_loss.backward()
    if trace is not None:
        trace["log_alpha_grad"] = m.log_alpha.grad.detach().clone()
    m.alpha_opt.step()

    # polyak: target = tau * online + (1 - tau) * target
    with torch.no_grad():
        for c, t in zip(m.critics, m.targets):
            for p, tp in zip(c.parameters(), t.parameters()):
                tp.copy_(TAU * p + (1.0 - TAU) * tp)

    return {"critic_loss": critic_loss.detach(), "actor_loss": actor_loss.detach(),
            "alpha_loss": alpha_loss.detach(), "alpha": alpha}


def net_flops(sizes, batch):
    """Forward GEMM FLOPs of one MLP pass: 2 * B * in * out per layer."""
    return sum(2 * batch * sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))


def update_gemm_flops(obs, act, hidden, batch):
    """GEMM FLOPs of one sac_update (bias, activations and Adam not counted).

    With Fa, Fc the forward FLOPs of one actor and one critic pass, backward counted as 2x forward
    (weight + input grads) for passes that train, 1x for input-grad-only passes:
      target:  actor(s2) fwd Fa + 2 target critics fwd 2 Fc
      critic:  2 critics fwd + bwd                      6 Fc
      actor:   actor(s) fwd + bwd 3 Fa + 2 critics fwd + input-grad bwd 4 Fc
    total = 4 Fa + 12 Fc.
    """
    fa = net_flops([obs] + list(hidden) + [2 * act], batch)
    fc = net_flops([obs + act] + list(hidden) + [1], batch)
    return 4 * fa + 12 * fc


class Replay:
    """A random replay of n transitions on the device, sampled with randint + gather."""

    def __init__(self, n, obs_dim, act_dim, device):
        self.n = n
        self.obs = torch.randn(n, obs_dim, device=device)
        self.act = torch.rand(n, act_dim, device=device) * 2.0 - 1.0
        self.rew = torch.randn(n, device=device)
        self.next_obs = torch.randn(n, obs_dim, device=device)
        self.term = (torch.rand(n, device=device) < 0.01).float()

    def sample(self, batch):
        idx = torch.randint(0, self.n, (batch,), device=self.obs.device)
        return (self.obs.index_select(0, idx), self.act.index_select(0, idx),
                self.rew.index_select(0, idx), self.next_obs.index_select(0, idx),
                self.term.index_select(0, idx))


def bench(args, obs_dim, act_dim, hidden):
    """Times args.updates updates after warm-up and prints one JSON line."""
    mode = "cuda_graph" if args.compile_graph else "eager"
    if args.compile_graph and args.device != "cuda":
        print("torch_sac.py: --compile-graph needs --device cuda; skipped", file=sys.stderr)
        print(json.dumps({"impl": "torch", "device": args.device, "mode": mode,
                          "skipped": "--compile-graph needs --device cuda"}))
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_sac.py: --device cuda but this torch sees no CUDA device "
                 f"(torch {torch.__version__}, built with CUDA {torch.version.cuda})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    m = Sac(obs_dim, act_dim, hidden, dev, capturable=args.compile_graph, foreach=args.foreach)
    replay = Replay(args.replay, obs_dim, act_dim, dev)
    b = args.batch

    # one training-loop step: sample a minibatch and its noise, update
    def step():
        s, a, r, s2, d = replay.sample(b)
        eps_next = torch.randn(b, act_dim, device=dev)
        eps_cur = torch.randn(b, act_dim, device=dev)
        return sac_update(m, s, a, r, s2, d, eps_next, eps_cur)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    if args.compile_graph:
        # warm up on a side stream (allocates the Adam state), then capture the whole step
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = step()
        run = graph.replay
    else:
        run = step
    for _ in range(args.warmup):
        out = run()
    sync()

    # timed updates
    t0 = time.perf_counter()
    for _ in range(args.updates):
        out = run()
    sync()
    dt = time.perf_counter() - t0
    if not all(math.isfinite(float(v)) for v in out.values()):
        sys.exit("torch_sac.py: non-finite loss in the benchmark")

    flops = update_gemm_flops(obs_dim, act_dim, hidden, b)
    res = {"impl": "torch", "device": args.device, "threads": args.threads, "batch": b,
           "hidden": hidden, "updates_per_second": args.updates / dt,
           "ms_per_update": 1e3 * dt / args.updates, "gflops": flops * args.updates / dt / 1e9,
           "mode": mode, "env": args.env, "obs_dim": obs_dim, "act_dim": act_dim,
           "updates": args.updates, "adam": "foreach" if args.foreach else "single_tensor",
           "torch": torch.__version__}
    if dev.type == "cuda":
        res["gpu"] = torch.cuda.get_device_name(dev)
    print(json.dumps(res))


def demo(args, obs_dim, act_dim, hidden):
    """Runs a few updates on one random batch and prints their losses, one JSON line each."""
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    m = Sac(obs_dim, act_dim, hidden, dev)
    batch = Replay(args.batch, obs_dim, act_dim, dev).sample(args.batch)
    for i in range(5):
        eps = [torch.randn(args.batch, act_dim, device=dev) for _ in range(2)]
        out = sac_update(m, *batch, *eps)
        print(json.dumps({"update": i, **{k: float(v) for k, v in out.items()}}))


def main():
    p = argparse.ArgumentParser(description="PyTorch reference SAC update and its benchmark")
    p.add_argument("--bench", action="store_true", help="time updates, print one JSON line")
    p.add_argument("--env", default=None, help="task id, sets --obs-dim/--act-dim: "
                   + ", ".join(ENV_DIMS))
    p.add_argument("--obs-dim", type=int, default=17)
    p.add_argument("--act-dim", type=int, default=6)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--hidden", default="256,256", help="comma-separated hidden widths")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--updates", type=int, default=None,
                   help="timed updates (default 2000 on cpu, 5000 on cuda)")
    p.add_argument("--warmup", type=int, default=None, help="untimed updates first (default 20 / 200)")
    p.add_argument("--replay", type=int, default=100_000, help="replay transitions on the device")
    p.add_argument("--compile-graph", action="store_true",
                   help="capture the whole update in a CUDA graph (cuda only)")
    p.add_argument("--foreach", action="store_true", help="multi-tensor Adam (default single-tensor)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    if args.env is not None:
        if args.env not in ENV_DIMS:
            sys.exit(f"torch_sac.py: unknown --env {args.env!r}; known: {', '.join(ENV_DIMS)}")
        obs_dim, act_dim = ENV_DIMS[args.env]
    else:
        obs_dim, act_dim = args.obs_dim, args.act_dim
    hidden = [int(h) for h in args.hidden.split(",") if h]
    if args.updates is None:
        args.updates = 2000 if args.device == "cpu" else 5000
    if args.warmup is None:
        args.warmup = 20 if args.device == "cpu" else 200
    if min([obs_dim, act_dim, args.batch, args.threads, args.updates, args.replay] + hidden) <= 0:
        sys.exit("torch_sac.py: sizes, --threads, --updates and --replay must be positive")

    if args.bench:
        bench(args, obs_dim, act_dim, hidden)
    else:
        demo(args, obs_dim, act_dim, hidden)


if __name__ == "__main__":
    main()
