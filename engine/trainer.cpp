// trainer.cpp: the loop of DESIGN.md section 7 on any backend, and the run directory.
#include "sac/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sac/replay_buffer.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kStreamWarmup = 7;       // HostRng stream of warm-up actions
constexpr uint64_t kEvalSeedOffset = 1000003;  // eval envs are seeded apart from training envs

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string default_run_dir(const Config& c) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + c.env_id + "-s" + std::to_string(c.seed) + "-" + stamp;
}

void make_dirs(const std::string& path) {
  std::string partial;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    partial += part + "/";
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      throw std::runtime_error("cannot create run directory '" + path + "'");
  }
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string format_eta(double seconds) {
  int s = (int)std::max(0.0, seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace

EvalResult evaluate(Agent& agent, Backend& backend, EnvPool& pool, float* d_obs,
                    float* d_actions) {
  const int n = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  std::vector<float> actions((size_t)n * A);
  std::vector<double> returns(n, 0.0);
  std::vector<char> done(n, 0);
  pool.reset();
  int remaining = n;
  while (remaining > 0) {
    backend.upload(d_obs, pool.obs(), (size_t)n * O * sizeof(float));
    agent.act(n, d_obs, true, d_actions);
    backend.download(actions.data(), d_actions, actions.size() * sizeof(float));
    pool.step(actions.data());
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      returns[i] += pool.reward()[i];
      if (pool.terminated()[i] || pool.truncated()[i]) done[i] = 1, --remaining;
    }
  }
  EvalResult r;
  r.episodes = n;
  r.min = *std::min_element(returns.begin(), returns.end());
  r.max = *std::max_element(returns.begin(), returns.end());
  for (double x : returns) r.mean += x / n;
  return r;
}

namespace {

// tensors of a group, one weight and one bias per layer and member: "<name>.<e>.<l>.weight"
void add_group_tensors(SafetensorsFile& f, const std::string& name, MlpGroup& group,
                       Backend& backend) {
  std::vector<float> flat(group.num_params());
  backend.download(flat.data(), group.params(), flat.size() * sizeof(float));
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    for (int e = 0; e < group.members(); ++e) {
      const float* w = flat.data() + lo.weight + (size_t)e * lo.out * lo.in;
      const float* b = flat.data() + lo.bias + (size_t)e * lo.out;
      std::string prefix = name + "." + std::to_string(e) + "." + std::to_string(l);
      f.tensors[prefix + ".weight"] =
          Tensor::from_floats(std::vector<float>(w, w + (size_t)lo.out * lo.in), {lo.out, lo.in});
      f.tensors[prefix + ".bias"] = Tensor::from_floats(std::vector<float>(b, b + lo.out), {lo.out});
    }
  }
}

void load_group_tensors(const SafetensorsFile& f, const std::string& name, MlpGroup& group,
                        Backend& backend) {
  std::vector<float> flat(group.num_params());
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    for (int e = 0; e < group.members(); ++e) {
      std::string prefix = name + "." + std::to_string(e) + "." + std::to_string(l);
      std::vector<float> w = f.at(prefix + ".weight").floats();
      std::vector<float> b = f.at(prefix + ".bias").floats();
      if (w.size() != (size_t)lo.out * lo.in || b.size() != (size_t)lo.out)
        throw std::runtime_error("tensor '" + prefix + "' has the wrong size for this network");
      std::copy(w.begin(), w.end(), flat.begin() + lo.weight + (size_t)e * lo.out * lo.in);
      std::copy(b.begin(), b.end(), flat.begin() + lo.bias + (size_t)e * lo.out);
    }
  }
  backend.upload(group.params(), flat.data(), flat.size() * sizeof(float));
}

}  // namespace

void save_policy(Agent& agent, const Config& config, const std::string& path) {
  SafetensorsFile f;
  f.metadata["format"] = "sac-engine policy";
  f.metadata["config"] = config.to_json().dump();
  add_group_tensors(f, "actor", agent.actor(), agent.backend());
  f.save(path);
}

LoadedPolicy load_policy(const std::string& path, const std::string& device, int act_batch) {
  SafetensorsFile f = SafetensorsFile::load(path);
  auto it = f.metadata.find("config");
  if (it == f.metadata.end())
    throw std::runtime_error("'" + path + "' holds no config metadata: not a sac-engine policy");
  LoadedPolicy p;
  p.config = config_from_json_text(it->second, path + " (config metadata)");
  validate(p.config);
  std::unique_ptr<Env> env = make_env(p.config.env_id);
  p.backend = make_backend(resolve_device(device), p.config.threads);
  AgentSpec spec = AgentSpec::from_config(p.config, env->spec().obs_dim, env->spec().act_dim,
                                          act_batch);
  spec.batch_size = 1;  // evaluation needs no update workspace
  p.agent = std::make_unique<Agent>(*p.backend, spec);
  load_group_tensors(f, "actor", p.agent->actor(), *p.backend);
  return p;
}

TrainSummary train(const Config& c, const std::string& run_dir_arg, bool progress) {
  // ---- run directory: refuse to overwrite an existing run
  std::string run_dir = run_dir_arg.empty() ? default_run_dir(c) : run_dir_arg;
  if (file_exists(run_dir + "/config.json"))
    throw std::runtime_error("run directory '" + run_dir +
                             "' already holds a run; choose another --run-dir");
  make_dirs(run_dir);
  write_file_atomic(run_dir + "/config.json", c.to_json().dump(2) + "\n");

  // ---- components, all memory sized here
  std::unique_ptr<Backend> backend = make_backend(resolve_device(c.device), c.threads);
  EnvPool pool(c.env_id, c.num_envs, c.seed, c.env_threads);
  const int N = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  std::unique_ptr<EnvPool> eval_pool;
  if (c.eval_episodes > 0)
    eval_pool = std::make_unique<EnvPool>(c.env_id, c.eval_episodes, c.seed + kEvalSeedOffset);
  Agent agent(*backend, AgentSpec::from_config(c, O, A, std::max(N, c.eval_episodes)));
  // a run never holds more than total_steps transitions: size the ring accordingly
  ReplayBuffer replay(*backend, std::min<int64_t>(c.buffer_size, c.total_steps + N), O, A);
  int act_rows = std::max(N, c.eval_episodes);
  DeviceArray<float> d_obs(*backend, (size_t)act_rows * O), d_actions(*backend, (size_t)act_rows * A);
  std::vector<float> actions((size_t)N * A), prev_obs((size_t)N * O), next_obs((size_t)N * O);
  std::vector<float> terminated(N), rewards(N);
  HostRng warmup_rng(c.seed, kStreamWarmup);

  std::ofstream metrics(run_dir + "/metrics.jsonl");
  std::ofstream eval_csv(run_dir + "/eval.csv");
  eval_csv << "step,wall_seconds,mean_return,min_return,max_return,episodes\n";

  TrainSummary s;
  s.run_dir = run_dir;
  s.best_eval_return = -INFINITY;
  double last_eval = NAN, update_debt = 0.0;
  double recent_return_sum = 0.0;
  int recent_episodes = 0;
  int64_t steps = 0, updates = 0, next_log = c.log_every;
  int64_t next_eval = c.eval_every > 0 ? c.eval_every : c.total_steps;
  auto t0 = Clock::now();
  auto last_log_time = t0;
  int64_t last_log_steps = 0, last_log_updates = 0;

  auto run_eval = [&]() {
    if (!eval_pool) return;
    EvalResult r = evaluate(agent, *backend, *eval_pool, d_obs.data(), d_actions.data());
    last_eval = r.mean;
    s.best_eval_return = std::max(s.best_eval_return, r.mean);
    s.final_eval_return = r.mean;
    eval_csv << steps << "," << seconds_since(t0) << "," << r.mean << "," << r.min << "," << r.max
             << "," << r.episodes << "\n";
    eval_csv.flush();
  };

  pool.reset();
  while (steps < c.total_steps) {
    // ---- act: uniform random during warm-up, then the stochastic policy
    std::copy(pool.obs(), pool.obs() + (size_t)N * O, prev_obs.begin());
    if (steps < c.warmup_steps) {
      for (float& a : actions) a = (float)warmup_rng.uniform(-1.0, 1.0);
    } else {
      backend->upload(d_obs.data(), prev_obs.data(), prev_obs.size() * sizeof(float));
      agent.act(N, d_obs.data(), false, d_actions.data());
      backend->download(actions.data(), d_actions.data(), actions.size() * sizeof(float));
    }

    // ---- step the envs; a finished episode's transition keeps its real last observation
    pool.step(actions.data());
    for (int i = 0; i < N; ++i) {
      bool done = pool.terminated()[i] || pool.truncated()[i];
      const float* src = (done ? pool.final_obs() : pool.obs()) + (size_t)i * O;
      std::copy(src, src + O, next_obs.begin() + (size_t)i * O);
      terminated[i] = pool.terminated()[i] ? 1.0f : 0.0f;
    }
    // transitions whose physics blew up are dropped (ring rows stay contiguous per step)
    int keep = 0;
    for (int i = 0; i < N; ++i) {
      if (pool.unstable()[i]) continue;
      if (keep != i) {
        std::copy_n(prev_obs.begin() + (size_t)i * O, O, prev_obs.begin() + (size_t)keep * O);
        std::copy_n(next_obs.begin() + (size_t)i * O, O, next_obs.begin() + (size_t)keep * O);
        std::copy_n(actions.begin() + (size_t)i * A, A, actions.begin() + (size_t)keep * A);
        terminated[keep] = terminated[i];
      }
      rewards[keep++] = pool.reward()[i];
    }
    if (keep > 0)
      replay.insert_host(keep, prev_obs.data(), actions.data(), rewards.data(), next_obs.data(),
                         terminated.data());
    for (const FinishedEpisode& ep : pool.finished()) recent_return_sum += ep.ret, ++recent_episodes;
    steps += N;

    // ---- updates at the configured ratio once the warm-up is over
    if (steps > c.warmup_steps) {
      update_debt += N * c.updates_per_step;
      while (update_debt >= 1.0) {
        agent.update(replay);
        ++updates;
        update_debt -= 1.0;
      }
    }

    // ---- metrics, progress, evaluation
    if (steps >= next_log || steps >= c.total_steps) {
      next_log += c.log_every;
      double dt = std::max(1e-9, seconds_since(last_log_time));
      double sps = (steps - last_log_steps) / dt, ups = (updates - last_log_updates) / dt;
      last_log_time = Clock::now();
      last_log_steps = steps;
      last_log_updates = updates;
      UpdateMetrics m = agent.read_metrics();
      nlohmann::json line = {{"step", steps}, {"updates", updates}, {"wall_seconds", seconds_since(t0)},
                             {"sps", sps}, {"ups", ups}, {"unstable_episodes", pool.unstable_episodes()}};
      if (updates > 0) {
        line["critic_loss"] = m.critic_loss;
        line["actor_loss"] = m.actor_loss;
        line["alpha_loss"] = m.alpha_loss;
        line["alpha"] = m.alpha;
        line["entropy"] = m.entropy;
      }
      if (recent_episodes > 0) line["episode_return"] = recent_return_sum / recent_episodes;
      recent_return_sum = 0.0;
      recent_episodes = 0;
      metrics << line.dump() << "\n";
      metrics.flush();
      if (progress) {
        double eta = (c.total_steps - steps) / std::max(1e-9, steps / seconds_since(t0));
        std::fprintf(stderr, "\r[%s] step %lld/%lld | sps %.0f | ups %.0f | eval %s | eta %s   ",
                     c.env_id.c_str(), (long long)steps, (long long)c.total_steps, sps, ups,
                     std::isnan(last_eval) ? "-" : std::to_string((long long)std::lround(last_eval)).c_str(),
                     format_eta(eta).c_str());
      }
    }
    if (steps >= next_eval && steps < c.total_steps) {
      next_eval += c.eval_every;
      run_eval();
    }
  }
  run_eval();  // the final evaluation
  if (progress) std::fprintf(stderr, "\n");

  s.steps = steps;
  s.updates = updates;
  s.wall_seconds = seconds_since(t0);
  s.env_steps_per_second = steps / s.wall_seconds;
  s.updates_per_second = updates / s.wall_seconds;
  if (!eval_pool) s.best_eval_return = s.final_eval_return = NAN;
  save_policy(agent, c, run_dir + "/policy.safetensors");
  nlohmann::json summary = {
      {"task", c.env_id}, {"seed", c.seed}, {"device", backend->name()}, {"steps", s.steps},
      {"updates", s.updates}, {"wall_seconds", s.wall_seconds},
      {"final_eval_return", eval_pool ? nlohmann::json(s.final_eval_return) : nlohmann::json()},
      {"best_eval_return", eval_pool ? nlohmann::json(s.best_eval_return) : nlohmann::json()},
      {"env_steps_per_second", s.env_steps_per_second},
      {"updates_per_second", s.updates_per_second},
      {"unstable_episodes", pool.unstable_episodes()}, {"run_dir", run_dir}};
  write_file_atomic(run_dir + "/summary.json", summary.dump(2) + "\n");
  return s;
}

}  // namespace sac
