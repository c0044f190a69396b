// trainer.cpp: the loop of DESIGN.md section 7 on any backend, the run directory, checkpoints on
// their cadence, resume, stop signals and the divergence guard.
#include "sac/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "checkpoint.h"
#include "sac/replay_buffer.h"
#include "sac/safetensors.h"
#include "signals.h"

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

namespace {

// MemAvailable of /proc/meminfo in bytes; 0 when unknown
uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "MemAvailable:" && in >> kib) return kib * 1024;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

// a run never holds more than total_steps transitions: the ring is sized accordingly
int64_t replay_capacity(const Config& c) {
  return std::min<int64_t>(c.buffer_size, c.total_steps + c.num_envs);
}

// refuses a replay buffer that cannot fit in host memory (CPU backend), with the figures; the
// CUDA backend reports a failed allocation with the figure itself
void check_replay_fits(const Config& c, const std::string& device) {
  if (device != "cpu") return;
  EnvSpec spec = make_env(c.env_id)->spec();
  int64_t capacity = replay_capacity(c);
  uint64_t need = ReplayBuffer::bytes_needed(capacity, spec.obs_dim, spec.act_dim);
  uint64_t avail = available_memory();
  if (avail > 0 && need > avail)
    throw ConfigError("sac.buffer_size: a replay buffer of " + std::to_string(capacity) +
                      " transitions of " + c.env_id + " needs " + std::to_string(need >> 20) +
                      " MiB, but only " + std::to_string(avail >> 20) +
                      " MiB of memory are available (MemAvailable); lower sac.buffer_size");
}

// keeps the lines of a log written up to `step`: a run that crashed after its checkpoint left
// lines the resumed run writes again. `csv`: a header line, then the step in the first field.
void truncate_log(const std::string& path, int64_t step, bool csv) {
  std::ifstream in(path);
  if (!in) return;
  std::string out, line;
  bool first = true;
  while (std::getline(in, line)) {
    if (csv && first) {
      out += line + "\n";
      first = false;
      continue;
    }
    int64_t s = -1;
    if (csv) {
      char* end = nullptr;
      long long v = std::strtoll(line.c_str(), &end, 10);
      if (end != line.c_str() && *end == ',') s = v;
    } else {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("step") && j["step"].is_number_integer())
        s = j["step"].get<int64_t>();
    }
    if (s >= 0 && s <= step) out += line + "\n";
  }
  in.close();
  write_file_atomic(path, out);
}

// trains from scratch (`from` null) or from a verified checkpoint, whose tensors are released
// once restored (the replay copy can be large)
TrainSummary run_training(const Config& c, const std::string& run_dir, LoadedCheckpoint* from,
                          const TrainOptions& o) {
  const bool progress = o.progress;
  std::unique_ptr<StopSignals> signals;
  if (o.handle_signals) signals = std::make_unique<StopSignals>();

  // ---- components, all memory sized here; nothing is written before they all exist
  const std::string device = resolve_device(c.device);
  check_replay_fits(c, device);
  std::unique_ptr<Backend> backend = make_backend(device, c.threads);
  EnvPool pool(c.env_id, c.num_envs, c.seed, c.env_threads);
  const int N = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  std::unique_ptr<EnvPool> eval_pool;
  if (c.eval_episodes > 0)
    eval_pool = std::make_unique<EnvPool>(c.env_id, c.eval_episodes, c.seed + kEvalSeedOffset);
  Agent agent(*backend, AgentSpec::from_config(c, O, A, std::max(N, c.eval_episodes)));
  ReplayBuffer replay(*backend, replay_capacity(c), O, A);
  int act_rows = std::max(N, c.eval_episodes);
  DeviceArray<float> d_obs(*backend, (size_t)act_rows * O), d_actions(*backend, (size_t)act_rows * A);
  std::vector<float> actions((size_t)N * A), prev_obs((size_t)N * O), next_obs((size_t)N * O);
  std::vector<float> terminated(N), rewards(N);
  HostRng warmup_rng(c.seed, kStreamWarmup);

  // ---- loop state: fresh, or the checkpoint's
  TrainerState st;
  st.next_log = c.log_every;
  st.next_eval = c.eval_every > 0 ? c.eval_every : c.total_steps;
  if (from) {
    restore_checkpoint(*from, agent, replay, pool, eval_pool.get(), st);
    from->main = SafetensorsFile();
    from->replay = SafetensorsFile();
    warmup_rng.set_counter(st.warmup_rng_counter);
    // schedules follow the settings a resumed run may change
    if (c.log_every != from->config.log_every)
      st.next_log = (st.steps / c.log_every + 1) * c.log_every;
    if (c.eval_every == 0) st.next_eval = c.total_steps;
    else if (c.eval_every != from->config.eval_every)
      st.next_eval = (st.steps / c.eval_every + 1) * c.eval_every;
  } else {
    pool.reset();
  }
  const int64_t start_steps = st.steps, start_updates = st.updates;
  const double prior_seconds = st.wall_seconds;

  // ---- run directory
  const std::string ckpt_dir = run_dir + "/checkpoints";
  if (!from) {
    make_dirs(run_dir);
    write_file_atomic(run_dir + "/config.json", c.to_json().dump(2) + "\n");
  } else {
    write_file_atomic(run_dir + "/config.json", c.to_json().dump(2) + "\n");  // a longer run
    truncate_log(run_dir + "/metrics.jsonl", st.steps, false);
    truncate_log(run_dir + "/eval.csv", st.steps, true);
  }
  std::ofstream metrics(run_dir + "/metrics.jsonl", from ? std::ios::app : std::ios::trunc);
  bool eval_header = !from || !file_exists(run_dir + "/eval.csv");
  std::ofstream eval_csv(run_dir + "/eval.csv", from ? std::ios::app : std::ios::trunc);
  if (eval_header) eval_csv << "step,wall_seconds,mean_return,min_return,max_return,episodes\n";

  TrainSummary s;
  s.run_dir = run_dir;
  s.resumed_from = from ? from->files.step : -1;
  auto t0 = Clock::now();
  auto last_log_time = t0;
  int64_t last_log_steps = st.steps, last_log_updates = st.updates;
  int64_t next_checkpoint =
      c.checkpoint_every > 0 ? (st.steps / c.checkpoint_every + 1) * c.checkpoint_every : 0;
  CheckpointFiles last_checkpoint = from ? from->files : CheckpointFiles{};

  // a non-finite value stops the run; the last good checkpoint stays
  auto diverged = [&](const std::string& what) {
    if (progress) std::fprintf(stderr, "\n");
    throw std::runtime_error(
        "training diverged at step " + std::to_string(st.steps) + " (update " +
        std::to_string(st.updates) + "): " + what + " is not finite; stopped. " +
        (last_checkpoint.step >= 0 ? "The last good checkpoint is '" + last_checkpoint.main + "'"
                                   : std::string("No checkpoint was written before")));
  };
  auto checkpoint = [&]() {
    std::string bad = find_non_finite(agent, st.updates > 0, true);
    if (!bad.empty()) diverged(bad);
    st.warmup_rng_counter = warmup_rng.counter();
    st.wall_seconds = prior_seconds + seconds_since(t0);
    last_checkpoint = write_checkpoint(ckpt_dir, c, agent, replay, pool, eval_pool.get(), st);
    s.checkpoint = last_checkpoint.main;
  };
  auto run_eval = [&]() {
    if (!eval_pool) return;
    EvalResult r = evaluate(agent, *backend, *eval_pool, d_obs.data(), d_actions.data());
    st.last_eval = r.mean;
    st.best_eval = std::max(st.best_eval, r.mean);
    st.final_eval = r.mean;
    eval_csv << st.steps << "," << prior_seconds + seconds_since(t0) << "," << r.mean << ","
             << r.min << "," << r.max << "," << r.episodes << "\n";
    eval_csv.flush();
  };

  bool interrupted = false;
  while (st.steps < c.total_steps) {
    // ---- act: uniform random during warm-up, then the stochastic policy
    std::copy(pool.obs(), pool.obs() + (size_t)N * O, prev_obs.begin());
    if (st.steps < c.warmup_steps) {
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
    for (const FinishedEpisode& ep : pool.finished())
      st.recent_return_sum += ep.ret, ++st.recent_episodes;
    st.steps += N;

    // ---- updates at the configured ratio once the warm-up is over
    if (st.steps > c.warmup_steps) {
      st.update_debt += N * c.updates_per_step;
      while (st.update_debt >= 1.0) {
        agent.update(replay);
        ++st.updates;
        st.update_debt -= 1.0;
      }
    }

    // ---- metrics (and the divergence check on them), progress, evaluation
    if (st.steps >= st.next_log || st.steps >= c.total_steps) {
      st.next_log += c.log_every;
      double dt = std::max(1e-9, seconds_since(last_log_time));
      double sps = (st.steps - last_log_steps) / dt, ups = (st.updates - last_log_updates) / dt;
      last_log_time = Clock::now();
      last_log_steps = st.steps;
      last_log_updates = st.updates;
      UpdateMetrics m = agent.read_metrics();
      nlohmann::json line = {{"step", st.steps}, {"updates", st.updates},
                             {"wall_seconds", prior_seconds + seconds_since(t0)}, {"sps", sps},
                             {"ups", ups}, {"unstable_episodes", pool.unstable_episodes()}};
      if (st.updates > 0) {
        line["critic_loss"] = m.critic_loss;
        line["actor_loss"] = m.actor_loss;
        line["alpha_loss"] = m.alpha_loss;
        line["alpha"] = m.alpha;
        line["entropy"] = m.entropy;
      }
      if (st.recent_episodes > 0)
        line["episode_return"] = st.recent_return_sum / st.recent_episodes;
      st.recent_return_sum = 0.0;
      st.recent_episodes = 0;
      metrics << line.dump() << "\n";
      metrics.flush();
      std::string bad = find_non_finite(agent, st.updates > 0, false);
      if (!bad.empty()) diverged(bad);
      if (progress) {
        double rate = (st.steps - start_steps) / std::max(1e-9, seconds_since(t0));
        double eta = (c.total_steps - st.steps) / std::max(1e-9, rate);
        std::fprintf(stderr, "\r[%s] step %lld/%lld | sps %.0f | ups %.0f | eval %s | eta %s   ",
                     c.env_id.c_str(), (long long)st.steps, (long long)c.total_steps, sps, ups,
                     std::isnan(st.last_eval)
                         ? "-"
                         : std::to_string((long long)std::lround(st.last_eval)).c_str(),
                     format_eta(eta).c_str());
      }
    }
    if (st.steps >= st.next_eval && st.steps < c.total_steps) {
      st.next_eval += c.eval_every;
      run_eval();
    }

    // ---- checkpoints on their cadence; a stop signal ends the run after this step
    bool stop = signals && StopSignals::requested();
    if (c.checkpoint_every > 0 && st.steps >= next_checkpoint && st.steps < c.total_steps &&
        !stop) {
      checkpoint();
      next_checkpoint = (st.steps / c.checkpoint_every + 1) * c.checkpoint_every;
    }
    if (stop && st.steps < c.total_steps) {
      interrupted = true;
      break;
    }
  }

  auto fill = [&]() {
    s.steps = st.steps;
    s.updates = st.updates;
    s.wall_seconds = prior_seconds + seconds_since(t0);
    double segment = std::max(1e-9, seconds_since(t0));
    s.env_steps_per_second = (st.steps - start_steps) / segment;
    s.updates_per_second = (st.updates - start_updates) / segment;
    s.final_eval_return = eval_pool ? st.final_eval : NAN;
    s.best_eval_return = eval_pool ? st.best_eval : NAN;
  };

  if (interrupted) {
    checkpoint();
    save_policy(agent, c, run_dir + "/policy.safetensors");
    if (progress) std::fprintf(stderr, "\n");
    std::fprintf(stderr,
                 "sac: stopped by signal %d at step %lld; checkpoint '%s' written; continue with: "
                 "sac train --resume %s\n",
                 StopSignals::signal_number(), (long long)st.steps, last_checkpoint.main.c_str(),
                 run_dir.c_str());
    fill();
    s.interrupted = true;
    return s;
  }

  run_eval();  // the final evaluation
  if (progress) std::fprintf(stderr, "\n");
  checkpoint();  // the final checkpoint, so the run can be extended later
  fill();
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

}  // namespace

TrainSummary train(const Config& c, const std::string& run_dir, bool progress) {
  TrainOptions o;
  o.progress = progress;
  return train(c, run_dir, o);
}

TrainSummary train(const Config& c, const std::string& run_dir_arg, const TrainOptions& o) {
  // refuse to overwrite an existing run
  std::string run_dir = run_dir_arg.empty() ? default_run_dir(c) : run_dir_arg;
  if (file_exists(run_dir + "/config.json"))
    throw std::runtime_error("run directory '" + run_dir +
                             "' already holds a run; choose another --run-dir, or continue it "
                             "with --resume " + run_dir);
  return run_training(c, run_dir, nullptr, o);
}

Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides) {
  const auto& allowed = resumable_keys();
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos) continue;  // load_config reports the malformed override
    std::string key = o.substr(0, eq);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError("cannot change '" + key + "' when resuming (the run would not continue " +
                        "the same training); settings a resumed run may change: " + list);
    }
  }
  struct stat st;
  if (::stat(run_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ConfigError("cannot resume: '" + run_dir + "' is not a readable directory");
  if (!file_exists(run_dir + "/config.json"))
    throw ConfigError("cannot resume: '" + run_dir +
                      "' holds no config.json (not a run directory)");
  return load_config(run_dir + "/config.json", overrides);
}

TrainSummary resume(const Config& c, const std::string& run_dir, const TrainOptions& o) {
  CheckpointFiles files = latest_checkpoint(run_dir + "/checkpoints");
  if (files.step < 0)
    throw std::runtime_error("cannot resume '" + run_dir + "': no complete checkpoint in '" +
                             run_dir + "/checkpoints' (the run stopped before its first one; " +
                             "start it again in a new directory)");
  if (files.step >= c.total_steps)
    throw ConfigError("the run in '" + run_dir + "' is already at step " +
                      std::to_string(files.step) + " (train.total_steps = " +
                      std::to_string(c.total_steps) +
                      "); to train longer pass --set train.total_steps=N with N > " +
                      std::to_string(files.step));
  check_replay_fits(c, resolve_device(c.device));
  LoadedCheckpoint ckpt = read_checkpoint(files);
  try {
    check_resumable(ckpt.config, c);
  } catch (const CheckpointError& e) {
    throw CheckpointError("cannot resume from '" + files.main + "': " + e.what());
  }
  return run_training(c, run_dir, &ckpt, o);
}

}  // namespace sac
