// bench_env.cpp: `sac bench env --env ID --num-envs N --threads T --steps K [--warmup W]
// [--seed S]`. Measures, in one run (DESIGN.md section 10):
//   (a) the env pool: N envs on T threads, uniform random actions (pregenerated, so drawing
//       them is not timed), K batch steps after W warm-up steps -> env_steps_per_second;
//   (b) one core's raw rate: a single mjData of the task's model, frame_skip mj_step calls
//       (+ mj_rnePostConstraint when the task computes contact forces) per env step with random
//       ctrl; no pool, no observation, no reward. To compare like with like, the raw loop
//       resets to qpos0 every `raw_reset_every` env steps: the pool's mean episode length in
//       (a) (legged tasks fall quickly under random actions, and a robot lying on the floor is a
//       different, contact-heavy regime), else the task's max_episode_steps. Tasks without
//       MuJoCo (Pendulum-v1) use env->step directly. It runs for the same per-thread work as
//       (a), K * N / T env steps, stopped after kRawMaxSeconds.
// Prints one JSON line: env, num_envs, threads, steps, env_steps_per_second,
// raw_steps_per_second_per_core, efficiency = env_steps_per_second / (threads * raw), and the
// details (seconds, mean episode length, raw_reset_every, contact_forces, pinned).
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
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

std::string option_value(const std::vector<std::string>& args, size_t& i) {
  if (i + 1 >= args.size()) throw ConfigError("option " + args[i] + " needs a value");
  return args[++i];
}

int64_t parse_int(const std::string& what, const std::string& text, int64_t lo, int64_t hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (text.empty() || used != text.size() || v < lo || v > hi)
    throw ConfigError(what + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + text + "'");
  return v;
}

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

struct RawResult {
  double steps_per_second = 0;
  int64_t steps = 0;
};

// (b) for a MuJoCo task: frame_skip mj_step calls per env step on one mjData, random ctrl
RawResult raw_mujoco(const MujocoEnv& env, bool contact_forces, int64_t target, int reset_every,
                     uint64_t seed) {
  const mjModel* m = env.model();
  const int nu = m->nu, fs = env.frame_skip();
  mjData* d = mj_makeData(m);
  if (!d) throw std::runtime_error("mj_makeData failed");
  // a table of random ctrl vectors U(ctrlrange), drawn before timing
  constexpr int kCtrlRows = 1024;
  std::vector<double> ctrl((size_t)kCtrlRows * nu);
  HostRng rng(seed, kActionStream + 1);
  for (int r = 0; r < kCtrlRows; ++r)
    for (int j = 0; j < nu; ++j)
      ctrl[(size_t)r * nu + j] = rng.uniform(m->actuator_ctrlrange[2 * j], m->actuator_ctrlrange[2 * j + 1]);

  mj_resetData(m, d);
  mj_forward(m, d);
  RawResult res;
  auto t0 = Clock::now();
  int ep = 0;
  for (int64_t k = 0; k < target; ++k) {
    const double* c = ctrl.data() + (size_t)(k % kCtrlRows) * nu;
    for (int j = 0; j < nu; ++j) d->ctrl[j] = c[j];
    for (int s = 0; s < fs; ++s) mj_step(m, d);
    if (contact_forces) mj_rnePostConstraint(m, d);
    if (++ep >= reset_every) {
      mj_resetData(m, d);
      mj_forward(m, d);
      ep = 0;
    }
    res.steps = k + 1;
    if ((k & 31) == 31 && seconds_since(t0) > kRawMaxSeconds) break;
  }
  double secs = seconds_since(t0);
  mj_deleteData(d);
  res.steps_per_second = res.steps / secs;
  return res;
}

// (b) for a task without MuJoCo: env->step on one env, random actions, reset every reset_every
RawResult raw_env(const std::string& id, int64_t target, int reset_every, uint64_t seed) {
  std::unique_ptr<Env> env = make_env(id);
  const EnvSpec& spec = env->spec();
  const int A = spec.act_dim;
  constexpr int kRows = 1024;
  std::vector<double> actions((size_t)kRows * A), obs(spec.obs_dim);
  HostRng rng(seed, kActionStream + 1), reset_rng(seed, 0);
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < A; ++j)
      actions[(size_t)r * A + j] = rng.uniform(spec.action_low[j], spec.action_high[j]);
  env->reset(reset_rng, obs.data());
  RawResult res;
  auto t0 = Clock::now();
  int ep = 0;
  for (int64_t k = 0; k < target; ++k) {
    env->step(actions.data() + (size_t)(k % kRows) * A, obs.data());
    if (++ep >= reset_every) {
      env->reset(reset_rng, obs.data());
      ep = 0;
    }
    res.steps = k + 1;
    if ((k & 31) == 31 && seconds_since(t0) > kRawMaxSeconds) break;
  }
  res.steps_per_second = res.steps / seconds_since(t0);
  return res;
}

}  // namespace

int bench_env_main(const std::vector<std::string>& args) {
  std::string env_id;
  int num_envs = 64, threads = 1;
  int64_t steps = 2000, warmup = 50;
  uint64_t seed = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--env") env_id = option_value(args, i);
    else if (args[i] == "--num-envs") num_envs = (int)parse_int("--num-envs", option_value(args, i), 1, 65536);
    else if (args[i] == "--threads") threads = (int)parse_int("--threads", option_value(args, i), 0, 1024);
    else if (args[i] == "--steps") steps = parse_int("--steps", option_value(args, i), 1, 100000000);
    else if (args[i] == "--warmup") warmup = parse_int("--warmup", option_value(args, i), 0, 100000000);
    else if (args[i] == "--seed") seed = (uint64_t)parse_int("--seed", option_value(args, i), 0, (int64_t)1 << 53);
    else throw ConfigError("unknown argument '" + args[i] + "' for 'sac bench env'");
  }
  if (env_id.empty()) throw ConfigError("sac bench env needs --env ID (see 'sac envs')");
  std::unique_ptr<Env> probe;
  try {
    probe = make_env(env_id);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }

  // ---- (a) the pool
  EnvPool pool(env_id, num_envs, seed, threads);
  const int N = pool.size(), A = pool.spec().act_dim;
  std::vector<float> actions((size_t)kActionTables * N * A);
  HostRng rng(seed, kActionStream);
  for (float& a : actions) a = (float)rng.uniform(-1.0, 1.0);
  auto batch = [&](int64_t k) { return actions.data() + (size_t)(k % kActionTables) * N * A; };

  pool.reset();
  for (int64_t k = 0; k < warmup; ++k) pool.step(batch(k));
  int64_t episodes = 0, episode_steps = 0;
  auto t0 = Clock::now();
  for (int64_t k = 0; k < steps; ++k) {
    pool.step(batch(k));
    for (const FinishedEpisode& ep : pool.finished()) ++episodes, episode_steps += ep.length;
  }
  double pool_seconds = seconds_since(t0);
  double pool_sps = (double)steps * N / pool_seconds;
  const int T = pool.threads();

  // ---- (b) one core, raw
  const int max_steps = pool.spec().max_episode_steps;
  int reset_every = episodes > 0 ? (int)std::lround((double)episode_steps / episodes) : max_steps;
  reset_every = std::clamp(reset_every, 1, max_steps);
  int64_t raw_target = std::max<int64_t>(1000, steps * N / T);
  bool contact_forces = false;
  RawResult raw;
  if (auto* mj = dynamic_cast<MujocoEnv*>(probe.get())) {
    contact_forces = probe_contact_forces(env_id);
    raw = raw_mujoco(*mj, contact_forces, raw_target, reset_every, seed);
  } else {
    raw = raw_env(env_id, raw_target, reset_every, seed);
  }

  const char* pin = std::getenv("SAC_PIN_THREADS");
  nlohmann::json out = {
      {"env", env_id},
      {"num_envs", N},
      {"threads", T},
      {"steps", steps},
      {"env_steps_per_second", pool_sps},
      {"raw_steps_per_second_per_core", raw.steps_per_second},
      {"efficiency", pool_sps / (T * raw.steps_per_second)},
      {"seconds", pool_seconds},
      {"warmup_steps", warmup},
      {"mean_episode_length", episodes > 0 ? (double)episode_steps / episodes : 0.0},
      {"raw_steps", raw.steps},
      {"raw_reset_every", reset_every},
      {"contact_forces", contact_forces},
      {"pinned", pin != nullptr && std::strcmp(pin, "1") == 0}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace sac
