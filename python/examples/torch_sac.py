"""torch_sac.py: a compact Soft Actor-Critic in PyTorch (Haarnoja et al. 2018b: twin critics with
clipped double-Q targets, Polyak-averaged targets, tanh-squashed Gaussian actor, learned
temperature) that learns on sac_engine's vector env. It shares no code with the engine's learner,
so a good result here says the tasks behave and the engine's numbers have an independent peer.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/torch_sac.py \\
        --env-id InvertedPendulum-v5 --total-steps 30000 --seed 1

Prints one JSON line per evaluation and a summary line at the end. Needs python3-torch (CPU).
"""
import argparse
import dataclasses
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import sac_engine


@dataclasses.dataclass
class Args:
    env_id: str = "InvertedPendulum-v5"  # a sac_engine task id
    seed: int = 1                        # env i uses seed + i; torch and numpy use seed
    total_steps: int = 30000             # env steps, all envs together
    num_envs: int = 1                    # envs stepped together
    learning_starts: int = 1000          # uniform random actions before the first update
    buffer_size: int = 1000000           # replay capacity
    batch_size: int = 256                # minibatch of one update
    hidden: int = 256                    # width of the two hidden layers of every network
    gamma: float = 0.99                  # discount
    tau: float = 0.005                   # Polyak rate of the target critics
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    alpha_lr: float = 3e-4
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    eval_every: int = 5000               # env steps between deterministic evaluations
    eval_episodes: int = 10
    torch_threads: int = 1


def mlp(inputs, outputs, hidden):
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, outputs))


class Critic(nn.Module):
    """Q(s, a)."""

    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp(obs_dim + act_dim, 1, hidden)

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], 1)).squeeze(1)


class Actor(nn.Module):
    """A tanh-squashed Gaussian, scaled to the action bounds."""

    def __init__(self, obs_dim, act_dim, low, high, args):
        super().__init__()
        self.net = mlp(obs_dim, 2 * act_dim, args.hidden)
        self.register_buffer("scale", torch.tensor((high - low) / 2.0, dtype=torch.float32))
        self.register_buffer("center", torch.tensor((high + low) / 2.0, dtype=torch.float32))
        self.log_std_min, self.log_std_max = args.log_std_min, args.log_std_max

    def forward(self, obs):
        mean, log_std = self.net(obs).chunk(2, dim=1)
        # smooth squash of log-std into [min, max]
        span = self.log_std_max - self.log_std_min
        log_std = self.log_std_min + 0.5 * span * (torch.tanh(log_std) + 1.0)
        return mean, log_std

    def sample(self, obs):
        """(action in bounds, its log-density) with the reparameterisation trick."""
        mean, log_std = self(obs)
        pre = mean + log_std.exp() * torch.randn_like(mean)
        logp = torch.distributions.Normal(mean, log_std.exp()).log_prob(pre)
        # log |d tanh(x)/dx| = log(1 - tanh(x)^2), written stably, plus the bounds' scale
        logp = logp - 2.0 * (np.log(2.0) - pre - F.softplus(-2.0 * pre)) - torch.log(self.scale)
        return torch.tanh(pre) * self.scale + self.center, logp.sum(1)

    def deterministic(self, obs):
        return torch.tanh(self(obs)[0]) * self.scale + self.center


class Replay:
    """A ring of transitions in numpy arrays."""

    def __init__(self, capacity, obs_dim, act_dim):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.rew = np.zeros(capacity, np.float32)
        self.term = np.zeros(capacity, np.float32)
        self.capacity, self.size, self.head = capacity, 0, 0

    def add(self, obs, act, rew, next_obs, term):
        idx = (self.head + np.arange(len(obs))) % self.capacity
        self.obs[idx], self.act[idx], self.rew[idx] = obs, act, rew
        self.next_obs[idx], self.term[idx] = next_obs, term
        self.head = (self.head + len(obs)) % self.capacity
        self.size = min(self.size + len(obs), self.capacity)

    def sample(self, n, rng):
        i = rng.integers(0, self.size, n)
        return tuple(torch.from_numpy(x[i]) for x in (self.obs, self.act, self.rew, self.next_obs, self.term))


def evaluate(actor, args):
    """Mean return of eval_episodes deterministic episodes on envs seeded apart from training."""
    envs = sac_engine.make_vec_env(args.env_id, num_envs=args.eval_episodes, threads=1,
                                   seed=args.seed + 1000003)
    obs, _ = envs.reset()
    returns, done = np.zeros(args.eval_episodes), np.zeros(args.eval_episodes, bool)
    while not done.all():
        with torch.no_grad():
            act = actor.deterministic(torch.from_numpy(obs.copy())).numpy()
        obs, rew, term, trunc, _ = envs.step(act)
        returns += np.where(done, 0.0, rew)
        done |= term | trunc
    return float(returns.mean())


def main(args):
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    envs = sac_engine.make_vec_env(args.env_id, num_envs=args.num_envs, threads=1, seed=args.seed)
    space = envs.single_action_space
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    obs_dim, act_dim = envs.single_observation_space.shape[0], space.shape[0]

    actor = Actor(obs_dim, act_dim, low, high, args)
    critics = nn.ModuleList([Critic(obs_dim, act_dim, args.hidden) for _ in range(2)])
    targets = nn.ModuleList([Critic(obs_dim, act_dim, args.hidden) for _ in range(2)])
    targets.load_state_dict(critics.state_dict())
    log_alpha = torch.zeros(1, requires_grad=True)
    target_entropy = -float(act_dim)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=args.actor_lr)
    critic_opt = torch.optim.Adam(critics.parameters(), lr=args.critic_lr)
    alpha_opt = torch.optim.Adam([log_alpha], lr=args.alpha_lr)
    replay = Replay(min(args.buffer_size, args.total_steps), obs_dim, act_dim)

    def update():
        obs_b, act_b, rew_b, next_b, term_b = replay.sample(args.batch_size, rng)
        alpha = log_alpha.exp().detach()
        # critics: clipped double-Q soft target
        with torch.no_grad():
            next_act, next_logp = actor.sample(next_b)
            q_next = torch.min(targets[0](next_b, next_act), targets[1](next_b, next_act))
            y = rew_b + args.gamma * (1.0 - term_b) * (q_next - alpha * next_logp)
        critic_loss = sum(F.mse_loss(q(obs_b, act_b), y) for q in critics)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        # actor: minimise alpha log pi - min Q (critics' gradients are not applied here)
        act_pi, logp = actor.sample(obs_b)
        q_pi = torch.min(critics[0](obs_b, act_pi), critics[1](obs_b, act_pi))
        actor_loss = (alpha * logp - q_pi).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        # temperature: drive the entropy towards -dim(A)
        alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()
        with torch.no_grad():
            for t, o in zip(targets.parameters(), critics.parameters()):
                t.mul_(1.0 - args.tau).add_(o, alpha=args.tau)

    t0, evals = time.time(), []
    obs = envs.reset()[0].copy()
    step, next_eval = 0, args.eval_every
    while step < args.total_steps:
        if step < args.learning_starts:
            act = rng.uniform(low, high, (args.num_envs, act_dim)).astype(np.float32)
        else:
            with torch.no_grad():
                act = actor.sample(torch.from_numpy(obs))[0].numpy()
        next_obs, rew, term, trunc, infos = envs.step(act)
        # the views are refilled by the next step: keep copies; a finished episode's transition
        # ends in its real final observation (same-step autoreset)
        real_next = next_obs.copy()
        done = infos["_final_obs"]
        real_next[done] = infos["final_obs"][done]
        replay.add(obs, act, rew, real_next, term)
        obs = next_obs.copy()
        step += args.num_envs
        if step > args.learning_starts:
            for _ in range(args.num_envs):
                update()
        if step >= next_eval or step >= args.total_steps:
            next_eval += args.eval_every
            evals.append((step, evaluate(actor, args)))
            print(json.dumps({"step": step, "eval_return": evals[-1][1],
                              "wall_seconds": round(time.time() - t0, 1)}), flush=True)
    print(json.dumps({"env_id": args.env_id, "seed": args.seed, "steps": step,
                      "final_eval_return": evals[-1][1], "best_eval_return": max(r for _, r in evals),
                      "wall_seconds": round(time.time() - t0, 1)}), flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for f in dataclasses.fields(Args):
        p.add_argument("--" + f.name.replace("_", "-"), type=f.type,
                       default=f.default)
    return Args(**vars(p.parse_args()))


if __name__ == "__main__":
    main(parse_args())
