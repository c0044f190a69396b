// bench_env.cpp: `sac bench env --env ID --num-envs N --threads T --steps K [--warmup W]
// [--seed S] [--engine pool|mjbatch]`. Measures, in one run (DESIGN.md section 10):
//   (a) the env pool: N envs on T threads, uniform random actions (pregenerated, so drawing
//       them is not timed), K batch steps after W warm-up steps -> env_steps_per_second. This
//       is everything a batch step costs: action scaling, physics, observation, reward,
//       termination, auto-resets and the threads' hand-offs. --engine picks what steps the
//       physics: the pool's own threads (`pool`, default) or MuJoCo's batch API (`mjbatch`:
//       mjb_step on one persistent mjBatch with T threads, the task's code through mjb_apply;
//       envs/batch_stepper.h), the same envs, seeds and actions either way.
//   (b) one core's raw physics rate: a single mjData of the task's model, frame_skip mj_step
//       calls (+ mj_rnePostConstraint when the task computes contact forces) per env step with
//       random ctrl from a pregenerated table; no pool, no observation, no reward. To step the
//       same regime as (a), the state goes back to qpos0 (qvel 0, no noise) every
//       `raw_reset_every` env steps: the pool's mean episode length in (a) (legged tasks fall
//       quickly under random actions, and a robot lying on the floor is a different,
//       contact-heavy regime), else the task's max_episode_steps. Those resets
//       (mj_resetData + mj_forward) are NOT timed: the raw rate is physics only, so the
//       pool has to pay its resets, observations and threading out of the gap to it. Their
//       mean cost is reported as raw_reset_microseconds. Tasks without MuJoCo (Pendulum-v1)
//       use env->step, with env->reset likewise untimed. The raw loop runs for the same
//       per-thread work as (a), K * N / T env steps, stopped after kRawMaxSeconds of timed work.
// (a) and (b) alternate in R rounds (--rounds, default 4; each a 1/R share of both), so a
// shared machine's changing load hits both alike; round_efficiency lists each round's ratio.
// Usage: sac bench env --env ID [--num-envs N] [--threads T] [--steps K] [--warmup W] [--seed S]
//        [--rounds R] [--engine pool|mjbatch]. Prints one JSON line: env, engine, num_envs,
// threads, steps, env_steps_per_second,
// raw_steps_per_second_per_core, efficiency = env_steps_per_second / (threads * raw), and the
// details (seconds, mean episode length, raw_reset_every, raw_includes, contact_forces, pinned).
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "mujoco_env.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/env_pool.h"
#include "sac/philox.h"

namespace sac {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kActionTables = 16;       // distinct pregenerated random action batches
constexpr double kRawMaxSeconds = 5.0;  // the raw loop stops after this long
constexpr uint64_t kActionStream = 7;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Whether the env calls mj_rnePostConstraint after its mj_step calls: that is the only call
// that fills cfrc_int (mj_step leaves it at the zero mj_resetData put there; these models have
// no sensors that would call it), and under gravity or any motion cfrc_int is non-zero.
bool probe_contact_forces(const std::string& id) {
  std::unique_ptr<Env> env = make_env(id);
  auto* mj = dynamic_cast<MujocoEnv*>(env.get());
  if (!mj) return false;
  HostRng rng(0, 0);
  std::vector<double> obs(env->spec().obs_dim), action(env->spec().act_dim);
  for (size_t j = 0; j < action.size(); ++j)
    action[j] = 0.5 * (env->spec().action_low[j] + env->spec().action_high[j]);
  env->reset(rng, obs.data());
  env->step(action.data(), obs.data());
  const mjModel* m = mj->model();
  const mjData* d = mj->data();
  for (int i = 0; i < 6 * m->nbody; ++i)
    if (d->cfrc_int[i] != 0.0) return true;
  return false;
}

// (b): one core's raw rate. Env steps run in timed segments of at most reset_every steps; the
// reset between segments is timed separately and not counted. Kept across the rounds, so the
// episode position carries over from one round to the next.
class RawLoop {
 public:
  // `steps(k, n)` does env steps k .. k+n-1; `reset()` puts the state back to the start
  RawLoop(std::function<void(int64_t, int64_t)> steps, std::function<void()> reset)
      : m_steps(std::move(steps)), m_reset(std::move(reset)) {
    m_reset();
  }

  // n more env steps, with a reset whenever reset_every steps have passed since the last;
  // stops early once this call has timed max_seconds
  void run(int64_t n, int reset_every, double max_seconds) {
    double timed = 0;
    while (n > 0 && timed <= max_seconds) {
      if (m_since_reset >= reset_every) {
        auto r0 = Clock::now();
        m_reset();
        reset_seconds += seconds_since(r0);
        ++resets;
        m_since_reset = 0;
      }
      int64_t segment = std::min<int64_t>(n, reset_every - m_since_reset);
      auto t0 = Clock::now();
      m_steps(steps, segment);
      double secs = seconds_since(t0);
      timed += secs;
      seconds += secs;
      steps += segment;
      m_since_reset += (int)segment;
      n -= segment;
    }
  }

  int64_t steps = 0;          // env steps done (timed)
  double seconds = 0;         // their time
  int64_t resets = 0;         // untimed resets
  double reset_seconds = 0;   // the resets' time

 private:
  std::function<void(int64_t, int64_t)> m_steps;
  std::function<void()> m_reset;
  int m_since_reset = 0;
};

// (b) for a MuJoCo task: frame_skip mj_step calls per env step on one mjData, random ctrl from a
// table U(ctrlrange) drawn before timing; reset = the env's reset without noise
class RawMujoco {
 public:
  RawMujoco(const MujocoEnv& env, bool contact_forces, uint64_t seed)
      : m_model(env.model()), m_frame_skip(env.frame_skip()), m_contact_forces(contact_forces) {
    const mjModel* m = m_model;
    m_data = mj_makeData(m);
    if (!m_data) throw std::runtime_error("mj_makeData failed");
    HostRng rng(seed, kActionStream + 1);
    m_ctrl.resize((size_t)kRows * m->nu);
    for (int r = 0; r < kRows; ++r)
      for (int j = 0; j < m->nu; ++j)
        m_ctrl[(size_t)r * m->nu + j] =
            rng.uniform(m->actuator_ctrlrange[2 * j], m->actuator_ctrlrange[2 * j + 1]);
  }
  ~RawMujoco() { mj_deleteData(m_data); }
  RawMujoco(const RawMujoco&) = delete;
  RawMujoco& operator=(const RawMujoco&) = delete;

  void steps(int64_t k, int64_t n) {
    const mjModel* m = m_model;
    const int nu = m->nu;
    for (int64_t end = k + n; k < end; ++k) {
      const double* c = m_ctrl.data() + (size_t)(k % kRows) * nu;
      for (int j = 0; j < nu; ++j) m_data->ctrl[j] = c[j];
      for (int s = 0; s < m_frame_skip; ++s) mj_step(m, m_data);
      if (m_contact_forces) mj_rnePostConstraint(m, m_data);
    }
  }

  void reset() {
    mj_resetData(m_model, m_data);  // qpos = qpos0
    mj_forward(m_model, m_data);
  }

 private:
  static constexpr int kRows = 1024;
  const mjModel* m_model;
  mjData* m_data = nullptr;
  int m_frame_skip;
  bool m_contact_forces;
  std::vector<double> m_ctrl;
};

// (b) for a task without MuJoCo: env->step on one env with random actions; env->reset
class RawEnv {
 public:
  RawEnv(const std::string& id, uint64_t seed)
      : m_env(make_env(id)), m_reset_rng(seed, 0) {
    const EnvSpec& spec = m_env->spec();
    HostRng rng(seed, kActionStream + 1);
    m_actions.resize((size_t)kRows * spec.act_dim);
    for (int r = 0; r < kRows; ++r)
      for (int j = 0; j < spec.act_dim; ++j)
        m_actions[(size_t)r * spec.act_dim + j] = rng.uniform(spec.action_low[j], spec.action_high[j]);
    m_obs.resize(spec.obs_dim);
  }

  void steps(int64_t k, int64_t n) {
    const int A = m_env->spec().act_dim;
    for (int64_t end = k + n; k < end; ++k)
      m_env->step(m_actions.data() + (size_t)(k % kRows) * A, m_obs.data());
  }

  void reset() { m_env->reset(m_reset_rng, m_obs.data()); }

 private:
  static constexpr int kRows = 1024;
  std::unique_ptr<Env> m_env;
  HostRng m_reset_rng;
  std::vector<double> m_actions, m_obs;
};

struct BenchEnvOptions {
  std::string env_id;
  int num_envs = 64, threads = 1, rounds = 4;
  int64_t steps = 2000, warmup = 50;
  uint64_t seed = 1;
  std::string engine = "pool";
};

// (b) for any task: the raw loop and what it steps, with what it times in words
struct RawSide {
  std::unique_ptr<RawMujoco> mujoco;
  std::unique_ptr<RawEnv> env;
  std::unique_ptr<RawLoop> loop;
  std::string includes;
  bool contact_forces = false;
};

RawSide make_raw_side(const Env& probe, const std::string& env_id, uint64_t seed) {
  RawSide raw;
  if (auto* mj = dynamic_cast<const MujocoEnv*>(&probe)) {
    raw.contact_forces = probe_contact_forces(env_id);
    raw.mujoco = std::make_unique<RawMujoco>(*mj, raw.contact_forces, seed);
    RawMujoco* m = raw.mujoco.get();
    raw.loop = std::make_unique<RawLoop>([m](int64_t k, int64_t n) { m->steps(k, n); },
                                         [m] { m->reset(); });
    raw.includes = "one mjData on one core; timed: per env step, random ctrl written, " +
                   std::to_string(mj->frame_skip()) + " x mj_step" +
                   (raw.contact_forces ? " + mj_rnePostConstraint" : "") +
                   "; not timed: the reset to qpos0 (mj_resetData + mj_forward) every "
                   "raw_reset_every env steps";
    return raw;
  }
  raw.env = std::make_unique<RawEnv>(env_id, seed);
  RawEnv* e = raw.env.get();
  raw.loop = std::make_unique<RawLoop>([e](int64_t k, int64_t n) { e->steps(k, n); },
                                       [e] { e->reset(); });
  raw.includes = "one env on one core; timed: env step (physics, observation, reward); not "
                 "timed: env reset every raw_reset_every env steps";
  return raw;
}

// what the alternating rounds measured
struct RoundTotals {
  double pool_seconds = 0;
  int64_t timed_episodes = 0, timed_episode_steps = 0;
  int reset_every = 0;
  nlohmann::json round_efficiency = nlohmann::json::array();
};

// (a) and (b) in alternating rounds, (a) then (b), so that both see the same load on a shared
// machine. (b) does K * N / T env steps in all (the per-thread work of (a)), resetting at the
// pool's mean episode length so far, else at max_episode_steps.
RoundTotals run_rounds(EnvPool& pool, RawLoop& raw, const BenchEnvOptions& o, int rounds,
                       const std::function<const float*(int64_t)>& batch) {
  const int N = pool.size(), T = pool.threads();
  const int64_t steps = o.steps;
  pool.reset();
  int64_t episodes = 0, episode_steps = 0;  // finished during warm-up
  for (int64_t k = 0; k < o.warmup; ++k) {
    pool.step(batch(k));
    for (const FinishedEpisode& ep : pool.finished()) ++episodes, episode_steps += ep.length;
  }
  const int max_steps = pool.spec().max_episode_steps;
  const int64_t raw_target = std::max<int64_t>(1000, steps * N / T);
  RoundTotals t;
  t.reset_every = max_steps;
  for (int64_t r = 0, k = 0; r < rounds; ++r) {
    const int64_t pool_end = steps * (r + 1) / rounds;
    auto t0 = Clock::now();
    for (; k < pool_end; ++k) {
      pool.step(batch(k));
      for (const FinishedEpisode& ep : pool.finished())
        ++t.timed_episodes, t.timed_episode_steps += ep.length;
    }
    double secs = seconds_since(t0);
    t.pool_seconds += secs;
    const int64_t pool_round_steps = pool_end - steps * r / rounds;

    int64_t eps = episodes + t.timed_episodes, eps_steps = episode_steps + t.timed_episode_steps;
    t.reset_every = eps > 0 ? (int)std::lround((double)eps_steps / eps) : max_steps;
    t.reset_every = std::clamp(t.reset_every, 1, max_steps);
    const int64_t raw_steps_before = raw.steps;
    const double raw_seconds_before = raw.seconds;
    raw.run(raw_target * (r + 1) / rounds - raw_target * r / rounds, t.reset_every,
            kRawMaxSeconds / rounds);
    double raw_sps = (raw.steps - raw_steps_before) / (raw.seconds - raw_seconds_before);
    t.round_efficiency.push_back((double)pool_round_steps * N / secs / (T * raw_sps));
  }
  return t;
}

void print_result(const BenchEnvOptions& o, const EnvPool& pool, const RawSide& raw,
                  const RoundTotals& t, int rounds) {
  const int N = pool.size(), T = pool.threads();
  const double pool_sps = (double)o.steps * N / t.pool_seconds;
  const double raw_sps = raw.loop->steps / raw.loop->seconds;
  // the pool engine's workers only: MuJoCo's batch threads are never pinned
  const char* pin = std::getenv("SAC_PIN_THREADS");
  const bool pinned =
      pool.engine() == StepEngine::pool && pin != nullptr && std::strcmp(pin, "1") == 0;
  nlohmann::json out = {
      {"env", o.env_id},
      {"engine", step_engine_name(pool.engine())},
      {"num_envs", N},
      {"threads", T},
      {"steps", o.steps},
      {"env_steps_per_second", pool_sps},
      {"raw_steps_per_second_per_core", raw_sps},
      {"efficiency", pool_sps / (T * raw_sps)},
      {"rounds", rounds},
      {"round_efficiency", t.round_efficiency},
      {"seconds", t.pool_seconds},
      {"warmup_steps", o.warmup},
      {"mean_episode_length",
       t.timed_episodes > 0 ? (double)t.timed_episode_steps / t.timed_episodes : 0.0},
      {"raw_steps", raw.loop->steps},
      {"raw_seconds", raw.loop->seconds},
      {"raw_reset_every", t.reset_every},
      {"raw_resets_timed", false},
      {"raw_reset_microseconds",
       raw.loop->resets > 0 ? 1e6 * raw.loop->reset_seconds / raw.loop->resets : 0.0},
      {"raw_includes", raw.includes},
      {"contact_forces", raw.contact_forces},
      {"pinned", pinned}};
  std::printf("%s\n", out.dump().c_str());
}

int bench_env_run(const BenchEnvOptions& o) {
  // bad input first, before any work: the task, then the engine and whether the task fits it
  std::unique_ptr<Env> probe;
  try {
    probe = make_env(o.env_id);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  const StepEngine engine = step_engine_from_name(o.engine);
  const int rounds = (int)std::min<int64_t>(o.rounds, o.steps);

  // ---- (a) the pool, on the engine asked for
  EnvPool pool(o.env_id, nlohmann::json::object(), seeded_envs({o.seed}, o.num_envs),
               o.threads, engine);
  const int N = pool.size(), A = pool.spec().act_dim;
  std::vector<float> actions((size_t)kActionTables * N * A);
  HostRng rng(o.seed, kActionStream);
  for (float& a : actions) a = (float)rng.uniform(-1.0, 1.0);
  auto batch = [&](int64_t k) { return actions.data() + (size_t)(k % kActionTables) * N * A; };

  // ---- (b) one core, raw
  RawSide raw = make_raw_side(*probe, o.env_id, o.seed);
  RoundTotals totals = run_rounds(pool, *raw.loop, o, rounds, batch);
  print_result(o, pool, raw, totals, rounds);
  return 0;
}

}  // namespace

void add_bench_env_command(CLI::App& bench, CommandRunner& run) {
  auto o = std::make_shared<BenchEnvOptions>();
  CLI::App* sub = add_command(bench, "env",
                              "env pool throughput (env_steps_per_second) against one core's raw "
                              "mj_step rate",
                              run, [o] { return bench_env_run(*o); });
  sub->add_option("--env", o->env_id, "task id (see 'sac envs')")->required();
  add_int_option(sub, "--num-envs", o->num_envs, 1, 65536, "envs stepped per batch step");
  add_int_option(sub, "--threads", o->threads, 0, 1024, "threads stepping the pool (0: one per core)");
  add_int_option(sub, "--steps", o->steps, 1, 100000000, "timed batch steps");
  add_int_option(sub, "--warmup", o->warmup, 0, 100000000, "untimed batch steps first");
  add_int_option(sub, "--seed", o->seed, 0, (int64_t)1 << 53, "seed of the envs and actions");
  add_int_option(sub, "--rounds", o->rounds, 1, 1000, "rounds alternating pool and raw loop");
  sub->add_option("--engine", o->engine,
                  "what steps the pool's physics: pool (its own threads) or mjbatch (MuJoCo's "
                  "batch API, mjbatch.h; MuJoCo tasks that split their step)")
      ->capture_default_str();
}

}  // namespace sac
