"""conformance.py: our tasks (sac_engine on MuJoCo 4.0.1's C library) against Gymnasium's own v5
tasks (gymnasium[mujoco] with the same version's `mujoco` wheel), per task:

- spaces: observation and action spaces (shape, dtype, bounds);
- reset: 2,000 resets of each, per coordinate of qpos, qvel and the first observation a
  two-sample Kolmogorov-Smirnov test (scipy); the smallest p-value times the number of
  coordinates (Bonferroni) must exceed 0.001;
- step: 1,000 states reached by random actions in Gymnasium's task (episodes restarted when they
  terminate); ours is set to each state's qpos and qvel (set_state: mj_forward, as Gymnasium's
  set_state) and steps the same action; the largest differences of observation, reward and each
  reward term Gymnasium reports in `info` (reward_forward, reward_ctrl, ..., distance_penalty:
  is_reward_term), and the count of differing `terminated`. Differences are |ours - theirs| / max(1, |theirs|)
  (absolute below 1, relative above). A second Gymnasium env set to the same states the same way
  ("gym set") measures what setting the state alone changes (MuJoCo's solver warm start);
- episodes: random-action episodes of both through gymnasium.make (TimeLimit), the fraction that
  terminate, their lengths (KS test) and that every other episode is truncated at exactly
  max_episode_steps.

    PYTHONPATH=build/python build/pypi-venv/bin/python tests/pypi/conformance.py [--table] [TASK...]

prints one JSON line per task (and the README's markdown table with --table).
tests/pypi/test_conformance.py asserts on the same results.
"""
import json
import sys
import time

import gymnasium
import mujoco
import numpy as np
from scipy import stats

import sac_engine
from sac_engine.gym import TASKS

RESETS, STATES, KS_ALPHA = 2000, 1000, 0.001
# random-action episodes per task: enough for the length statistics, few where they last 1,000 steps
EPISODES = {"InvertedPendulum-v5": 300, "InvertedDoublePendulum-v5": 300, "Hopper-v5": 200,
            "Walker2d-v5": 200, "Ant-v5": 8, "Humanoid-v5": 200, "HalfCheetah-v5": 3,
            "Swimmer-v5": 3, "Reacher-v5": 40, "Pusher-v5": 20}


def is_reward_term(key):
    """The `info` keys of Gymnasium's v5 tasks that are parts of the reward (the others are
    positions and velocities): reward_forward, reward_ctrl, ..., distance_penalty,
    velocity_penalty."""
    return key.startswith("reward_") or key.endswith("_penalty")


def reference(task):
    return gymnasium.make(task).unwrapped


def compare_spaces(task):
    theirs, ours = reference(task), gymnasium.make(f"sac_engine/{task}").unwrapped
    out = {}
    for name in ("observation_space", "action_space"):
        a, b = getattr(ours, name), getattr(theirs, name)
        out[name] = bool(a.shape == b.shape and a.dtype == b.dtype and
                         np.array_equal(a.low, b.low) and np.array_equal(a.high, b.high))
    out["obs_dim"], out["act_dim"] = int(ours.observation_space.shape[0]), int(ours.action_space.shape[0])
    return out


def ks_min_p(a, b):
    """Bonferroni-corrected smallest p-value over the columns, and that column."""
    ps = []
    for k in range(a.shape[1]):
        if np.all(a[:, k] == a[0, k]) and np.all(b[:, k] == a[0, k]):
            ps.append(1.0)  # the same constant in both
        else:
            ps.append(stats.ks_2samp(a[:, k], b[:, k]).pvalue)
    k = int(np.argmin(ps))
    return min(1.0, ps[k] * len(ps)), k


def compare_resets(task, n=RESETS):
    g = reference(task)
    t = sac_engine._core.Task(task)
    gq, gv, go, oq, ov, oo = [], [], [], [], [], []
    for i in range(n):
        o, _ = g.reset(seed=i)
        gq.append(g.data.qpos.copy()), gv.append(g.data.qvel.copy()), go.append(o)
        oo.append(t.reset(i))
        q, v = t.get_state()
        oq.append(q), ov.append(v)
    gq, gv, go, oq, ov, oo = map(np.array, (gq, gv, go, oq, ov, oo))
    out = {}
    for name, a, b in (("qpos", oq, gq), ("qvel", ov, gv), ("obs", oo, go)):
        p, k = ks_min_p(a, b)
        out[f"{name}_p"], out[f"{name}_worst"] = p, k
    out["p"] = min(out["qpos_p"], out["qvel_p"], out["obs_p"])
    return out


def rel(a, b):
    return np.abs(np.asarray(a, np.float64) - b) / np.maximum(1.0, np.abs(b))


def collect_states(task, n=STATES, seed=0):
    """n states (qpos, qvel) reached by random actions in Gymnasium's task, each with the random
    action stepped from it (episodes restarted when they terminate)."""
    g = reference(task)
    rng = np.random.default_rng(seed)
    g.reset(seed=seed)
    qpos, qvel, actions = [], [], []
    for _ in range(n):
        qpos.append(g.data.qpos.copy()), qvel.append(g.data.qvel.copy())
        actions.append(rng.uniform(g.action_space.low, g.action_space.high).astype(np.float32))
        _, _, terminated, _, _ = g.step(actions[-1])
        if terminated:
            g.reset()
    return {"qpos": np.array(qpos), "qvel": np.array(qvel), "action": np.array(actions)}


def step_from_states(env, states):
    """obs, reward, terminated and the reward terms of `info` (as "term/<key>") of `env` (ours or
    Gymnasium's, unwrapped) set to each state (set_state: qpos, qvel, then mj_forward) and stepped
    with its action."""
    obs, rewards, terminated, terms = [], [], [], {}
    for q, v, a in zip(states["qpos"], states["qvel"], states["action"]):
        env.set_state(q, v)
        o, r, term, _, info = env.step(a)
        obs.append(o), rewards.append(r), terminated.append(bool(term))
        for key, value in info.items():
            if is_reward_term(key):
                terms.setdefault(f"term/{key}", []).append(float(value))
    out = {"obs": np.array(obs), "reward": np.array(rewards), "terminated": np.array(terminated)}
    out.update({k: np.array(v) for k, v in terms.items()})
    return out


def term_names(steps):
    """The reward terms of step_from_states' results, in their order."""
    return [k[len("term/"):] for k in steps if k.startswith("term/")]


def differences(a, b):
    """The largest differences of a from b (b the reference), per reward term of b as well
    (a term of b that a lacks counts as NaN, so no tolerance passes it)."""
    d = rel(a["obs"], b["obs"])
    k = np.unravel_index(np.argmax(d), d.shape)
    terms = {t: float(rel(a[f"term/{t}"], b[f"term/{t}"]).max()) if f"term/{t}" in a
             else float("nan") for t in term_names(b)}
    return {"obs": float(d.max()), "obs_worst_index": int(k[1]),
            "reward": float(rel(a["reward"], b["reward"]).max()), "terms": terms,
            "terminated_differ": int(np.sum(a["terminated"] != b["terminated"]))}


def compare_steps(task, n=STATES, seed=0):
    """Ours against Gymnasium's task, both set to the same states the same way; and Gymnasium's
    task set to a state against the trajectory that reached it ("along"), which differs only in
    what set_state recomputes (the solver's warm start; the body positions a task reads before
    stepping, which mj_step leaves one substep behind)."""
    states = collect_states(task, n, seed)
    theirs = step_from_states(gymnasium.make(task).unwrapped, states)
    ours = step_from_states(gymnasium.make(f"sac_engine/{task}").unwrapped, states)
    out = differences(ours, theirs)
    # along the trajectory: Gymnasium's own results without set_state
    g = reference(task)
    rng = np.random.default_rng(seed)
    g.reset(seed=seed)
    along = {"obs": [], "reward": [], "terminated": []}
    for a in states["action"]:
        rng.uniform(g.action_space.low, g.action_space.high)  # the draw collect_states made
        o, r, term, _, info = g.step(a)
        along["obs"].append(o), along["reward"].append(r), along["terminated"].append(term)
        for key, value in info.items():
            if is_reward_term(key):
                along.setdefault(f"term/{key}", []).append(float(value))
        if term:
            g.reset()
    along = {k: np.array(v) for k, v in along.items()}
    d = differences(theirs, along)
    out.update(obs_set_vs_along=d["obs"], reward_set_vs_along=d["reward"],
               terms_set_vs_along=d["terms"])
    return out


def episodes(env, n, rng):
    lengths, terminated = [], []
    for i in range(n):
        env.reset(seed=int(rng.integers(2**31)))
        env.action_space.seed(int(rng.integers(2**31)))
        steps = 0
        while True:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            steps += 1
            if term or trunc:
                break
        lengths.append(steps), terminated.append(bool(term))
    return np.array(lengths), np.array(terminated)


def compare_episodes(task, seed=0):
    n = EPISODES[task]
    theirs, ours = gymnasium.make(task), gymnasium.make(f"sac_engine/{task}")
    limit = theirs.spec.max_episode_steps
    out = {"episodes": n, "max_episode_steps": limit}
    for name, env in (("gym", theirs), ("ours", ours)):
        lengths, term = episodes(env, n, np.random.default_rng(seed))
        out[f"{name}_terminated"] = float(term.mean())
        out[f"{name}_mean_length"] = float(lengths.mean())
        # an episode that did not terminate was truncated at exactly the limit
        out[f"{name}_truncation_ok"] = bool(np.all(lengths[~term] == limit) and
                                            np.all(lengths <= limit))
        out[f"_{name}_lengths"] = lengths
    a, b = out.pop("_gym_lengths"), out.pop("_ours_lengths")
    out["length_p"] = 1.0 if np.all(a == a[0]) and np.all(b == a[0]) else float(stats.ks_2samp(a, b).pvalue)
    return out


def conformance(task):
    t0 = time.time()
    out = {"task": task, "spaces": compare_spaces(task), "reset": compare_resets(task),
           "step": compare_steps(task), "episodes": compare_episodes(task)}
    out["seconds"] = round(time.time() - t0, 1)
    return out


def short(term):
    return term[len("reward_"):] if term.startswith("reward_") else term


def table(results):
    v = mujoco.__version__
    head = (f"| task | spaces | reset KS p | step vs Gymnasium on mujoco {v}: obs / reward |"
            " reward terms | terminated differ | episodes terminated: gym / ours |"
            " mean length: gym / ours | length KS p |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        s, re, st, ep = r["spaces"], r["reset"], r["step"], r["episodes"]
        row = (f"| {r['task']} | {'same' if s['observation_space'] and s['action_space'] else 'DIFFER'} "
               f"| {re['p']:.2g} | {st['obs']:.1e} / {st['reward']:.1e} |")
        # one line per term Gymnasium reports, with its largest difference
        row += " " + "<br>".join(f"{short(t)} {d:.1e}" for t, d in st["terms"].items()) + " |"
        row += (f" {st['terminated_differ']} | {ep['gym_terminated']:.2f} / {ep['ours_terminated']:.2f} "
                f"| {ep['gym_mean_length']:.1f} / {ep['ours_mean_length']:.1f} | {ep['length_p']:.2g} |")
        lines.append(row)
    return "\n".join(lines)


def main(argv):
    want_table = "--table" in argv
    tasks = [a for a in argv if not a.startswith("--")] or list(TASKS)
    print(f"# gymnasium {gymnasium.__version__}, mujoco wheel {mujoco.__version__}", file=sys.stderr)
    results = []
    for task in tasks:
        r = conformance(task)
        results.append(r)
        print(json.dumps(r), flush=True)
    if want_table:
        print(table(results))


if __name__ == "__main__":
    main(sys.argv[1:])
