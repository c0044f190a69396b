// trainer.cpp: the loop of DESIGN.md section 7 on any backend, in its sequential and overlapped
// shapes (trainer.h), the run directory, checkpoints on their cadence, resume, stop signals, the
// divergence guard, and the timed loop of `sac bench train`.
#include "sac/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "background_eval.h"
#include "checkpoint.h"
#include "group_tensors.h"
#include "job_thread.h"
#include "run_lock.h"
#include "sac/errors.h"
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
      throw InputError("cannot create run directory '" + path + "': " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InputError("cannot create run directory '" + path + "': " + std::strerror(ENOTDIR));
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

void save_policy(Agent& agent, const Config& config, const std::string& path) {
  SafetensorsFile f;
  f.metadata["format"] = "sac-engine policy";
  f.metadata["config"] = config.to_json().dump();
  std::vector<float> flat(agent.actor().num_params());
  agent.backend().download(flat.data(), agent.actor().params(), flat.size() * sizeof(float));
  put_group_tensors(f, "actor", agent.actor(), flat);
  f.stamp_checksum();
  f.save(path);
}

LoadedPolicy load_policy(const std::string& path, const std::string& device, int act_batch) {
  // policy files written before checksums existed held exactly these metadata keys
  static const std::set<std::string> kUncheckedPolicyKeys = {"config", "format"};
  SafetensorsFile f = SafetensorsFile::load_verified(path, kUncheckedPolicyKeys);
  auto it = f.metadata.find("config");
  if (it == f.metadata.end())
    throw InputError("'" + path + "' holds no config metadata: not a sac-engine policy");
  LoadedPolicy p;
  p.config = config_from_json_text(it->second, path + " (config metadata)");
  validate(p.config);
  std::unique_ptr<Env> env = make_env(p.config.env_id);
  p.backend = make_backend(resolve_device(device), p.config.threads);
  AgentSpec spec = AgentSpec::from_config(p.config, env->spec().obs_dim, env->spec().act_dim,
                                          act_batch);
  spec.batch_size = 1;  // evaluation needs no update workspace
  p.agent = std::make_unique<Agent>(*p.backend, spec);
  MlpGroup& actor = p.agent->actor();
  std::vector<float> flat = group_from_tensors(
      "actor", actor, [&](const std::string& name, const std::vector<int64_t>& shape) {
        std::vector<float> v;
        try {
          v = f.at(name).floats();
        } catch (const InputError& e) {
          throw InputError("'" + path + "': " + e.what());
        }
        size_t want = 1;
        for (int64_t d : shape) want *= (size_t)d;
        if (v.size() != want)
          throw InputError("'" + path + "': tensor '" + name +
                           "' has the wrong size for this network");
        return v;
      });
  p.backend->upload(actor.params(), flat.data(), flat.size() * sizeof(float));
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

// the `steps` of the run's summary.json: the step its last finished segment ended at; -1 when
// there is no readable summary (the run has not finished yet)
int64_t summary_steps(const std::string& run_dir) {
  std::ifstream in(run_dir + "/summary.json");
  if (!in) return -1;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("steps") || !j["steps"].is_number_integer()) return -1;
  return j["steps"].get<int64_t>();
}

}  // namespace

std::string resolve_pipeline(const std::string& pipeline, const std::string& device) {
  if (pipeline == "sequential" || pipeline == "overlapped") return pipeline;
  if (pipeline == "auto") return device == "cuda" ? "overlapped" : "sequential";
  throw ConfigError("config key 'train.pipeline': value '" + pipeline +
                    "' is not one of auto, sequential, overlapped");
}

namespace {

// adds the seconds of its lifetime to *slot (nothing when slot is null)
class StageTimer {
 public:
  explicit StageTimer(double* slot)
      : m_slot(slot), m_t0(slot ? Clock::now() : Clock::time_point()) {}
  ~StageTimer() {
    if (m_slot) *m_slot += seconds_since(m_t0);
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double* m_slot;
  Clock::time_point m_t0;
};

// updates owed after `steps` env steps in batch steps of `num_envs`: the loop's debt arithmetic
// (the same operations in the same order) replayed from the start
int64_t updates_owed(const Config& c, int num_envs, int64_t steps) {
  double debt = 0.0;
  int64_t owed = 0;
  for (int64_t s = 0; s < steps;) {
    s += num_envs;
    if (s > c.warmup_steps) {
      debt += num_envs * c.updates_per_step;
      while (debt >= 1.0) {
        ++owed;
        debt -= 1.0;
      }
    }
  }
  return owed;
}

// Updates per Agent::update call in the loop: as few calls as keep ONE recorded sequence. One
// call of N * ratio updates when that is a whole number (the count then never changes), else
// calls of 1 (the count alternates between floor and ceil, and re-recording a CUDA graph at
// every change would cost far more than the extra launches).
int update_block(const Config& c, int num_envs) {
  const double per_step = num_envs * c.updates_per_step;
  return per_step >= 1.0 && per_step <= 65536.0 && per_step == std::floor(per_step)
             ? (int)per_step
             : 1;
}

// One batch step of the loop (trainer.h), sequential or overlapped, with its host buffers. The
// overlapped loop carries the update block owed for the latest step's data (pending()) into
// the next step; it is not part of TrainerState: on resume it follows from steps and updates.
class StepLoop {
 public:
  StepLoop(const Config& c, bool overlapped, Backend& backend, EnvPool& pool, Agent& agent,
           ReplayBuffer& replay, float* d_obs, float* d_actions, HostRng& warmup_rng,
           TrainerState& st, StageTimes* times)
      : m_c(c), m_overlapped(overlapped), m_backend(backend), m_pool(pool), m_agent(agent),
        m_replay(replay), m_d_obs(d_obs), m_d_actions(d_actions), m_warmup_rng(warmup_rng),
        m_st(st), m_times(times), m_N(pool.size()), m_O(pool.spec().obs_dim),
        m_A(pool.spec().act_dim), m_actions(backend, (size_t)m_N * m_A),
        m_prev_obs(backend, (size_t)m_N * m_O), m_next_obs(backend, (size_t)m_N * m_O),
        m_terminated(backend, m_N), m_rewards(backend, m_N) {
    m_block = update_block(c, m_N);
    if (overlapped && backend.name() == "cpu") m_worker = std::make_unique<JobThread>();
  }

  int64_t pending() const { return m_pending; }
  /// The updates owed for the data of the step before a resumed run's first step.
  void set_pending(int64_t n) { m_pending = n; }

  void step() { m_overlapped ? step_overlapped() : step_sequential(); }

  /// Runs the pending update block now and waits for it (the end of an overlapped run).
  void drain() {
    if (m_pending == 0) return;
    {
      StageTimer t(slot(&StageTimes::update));
      issue(m_pending);
    }
    {
      StageTimer t(slot(&StageTimes::update_wait));
      m_backend.synchronize();
    }
    m_st.updates += m_pending;
    m_pending = 0;
  }

 private:
  double* slot(double StageTimes::*stage) { return m_times ? &(m_times->*stage) : nullptr; }

  // `count` updates (see m_block)
  void issue(int64_t count) {
    for (; count >= m_block; count -= m_block) m_agent.update(m_replay, m_block);
    for (; count > 0; --count) m_agent.update(m_replay, 1);
  }

  // uniform random actions during warm-up, then the stochastic policy for all N envs at once
  void act() {
    std::copy(m_pool.obs(), m_pool.obs() + (size_t)m_N * m_O, m_prev_obs.begin());
    if (m_st.steps < m_c.warmup_steps) {
      for (float& a : m_actions) a = (float)m_warmup_rng.uniform(-1.0, 1.0);
    } else {
      {
        StageTimer t(slot(&StageTimes::copy));
        m_backend.upload(m_d_obs, m_prev_obs.data(), m_prev_obs.size() * sizeof(float));
      }
      {
        StageTimer t(slot(&StageTimes::inference));
        m_agent.act(m_N, m_d_obs, false, m_d_actions);
      }
      StageTimer t(slot(&StageTimes::copy));
      m_backend.download(m_actions.data(), m_d_actions, m_actions.size() * sizeof(float));
    }
  }

  void step_envs() {
    StageTimer t(slot(&StageTimes::env_step));
    m_pool.step(m_actions.data());
  }

  // the step's transitions in the host buffers, compacted; returns how many to keep. A finished
  // episode's transition keeps its real last observation.
  int assemble() {
    const int N = m_N, O = m_O, A = m_A;
    for (int i = 0; i < N; ++i) {
      bool done = m_pool.terminated()[i] || m_pool.truncated()[i];
      const float* src = (done ? m_pool.final_obs() : m_pool.obs()) + (size_t)i * O;
      std::copy(src, src + O, m_next_obs.begin() + (size_t)i * O);
      m_terminated[i] = m_pool.terminated()[i] ? 1.0f : 0.0f;
    }
    // transitions whose physics blew up are dropped (ring rows stay contiguous per step)
    int keep = 0;
    for (int i = 0; i < N; ++i) {
      if (m_pool.unstable()[i]) continue;
      if (keep != i) {
        std::copy_n(m_prev_obs.begin() + (size_t)i * O, O, m_prev_obs.begin() + (size_t)keep * O);
        std::copy_n(m_next_obs.begin() + (size_t)i * O, O, m_next_obs.begin() + (size_t)keep * O);
        std::copy_n(m_actions.begin() + (size_t)i * A, A, m_actions.begin() + (size_t)keep * A);
        m_terminated[keep] = m_terminated[i];
      }
      m_rewards[keep++] = m_pool.reward()[i];
    }
    return keep;
  }

  void insert(int keep) {
    if (keep > 0)
      m_replay.insert_host(keep, m_prev_obs.data(), m_actions.data(), m_rewards.data(),
                           m_next_obs.data(), m_terminated.data());
    for (const FinishedEpisode& ep : m_pool.finished())
      m_st.recent_return_sum += ep.ret, ++m_st.recent_episodes;
    m_st.steps += m_N;
  }

  // act, step, insert, then the updates owed at the ratio (today's loop, operation for operation)
  void step_sequential() {
    if (m_pending > 0) drain();  // a checkpoint of an overlapped run, resumed sequentially
    act();
    step_envs();
    {
      StageTimer t(slot(&StageTimes::insert));
      insert(assemble());
    }
    if (m_st.steps > m_c.warmup_steps) {
      m_st.update_debt += m_N * m_c.updates_per_step;
      StageTimer t(slot(&StageTimes::update));
      while (m_st.update_debt >= 1.0) {
        m_agent.update(m_replay);
        ++m_st.updates;
        m_st.update_debt -= 1.0;
      }
    }
  }

  // act; launch the block owed for the previous step's data; step the envs while it runs; wait;
  // insert this step's data (never while the block may still read the ring); owe its updates
  void step_overlapped() {
    act();
    const int64_t count = m_pending;
    m_pending = 0;
    if (count > 0) {
      if (m_worker) {
        double* update_slot = slot(&StageTimes::update);  // written by the worker only
        m_worker->start([this, count, update_slot] {
          StageTimer t(update_slot);
          issue(count);
        });
      } else {
        StageTimer t(slot(&StageTimes::update));
        issue(count);  // asynchronous graph launches; no host read of device memory follows
      }
    }
    int keep = 0;
    try {
      step_envs();
      StageTimer t(slot(&StageTimes::insert));
      keep = assemble();  // host memory only
    } catch (...) {
      if (count > 0 && m_worker) {
        try {
          m_worker->wait();
        } catch (...) {
        }
      }
      throw;
    }
    if (count > 0) {
      StageTimer t(slot(&StageTimes::update_wait));
      if (m_worker) m_worker->wait();
      else m_backend.synchronize();
      m_st.updates += count;
    }
    {
      StageTimer t(slot(&StageTimes::insert));
      insert(keep);
    }
    if (m_st.steps > m_c.warmup_steps) {
      m_st.update_debt += m_N * m_c.updates_per_step;
      while (m_st.update_debt >= 1.0) {
        ++m_pending;
        m_st.update_debt -= 1.0;
      }
    }
  }

  const Config& m_c;
  const bool m_overlapped;
  Backend& m_backend;
  EnvPool& m_pool;
  Agent& m_agent;
  ReplayBuffer& m_replay;
  float* m_d_obs;
  float* m_d_actions;
  HostRng& m_warmup_rng;
  TrainerState& m_st;
  StageTimes* m_times;
  const int m_N, m_O, m_A;
  // the step's transfers (page-locked on CUDA): actions down, obs and transitions up
  HostArray<float> m_actions, m_prev_obs, m_next_obs, m_terminated, m_rewards;
  int m_block = 1;
  int64_t m_pending = 0;  // updates owed for the latest step's data, not yet launched
  std::unique_ptr<JobThread> m_worker;  // CPU backend, overlapped loop
};

// refuses to train over a run: `run_dir` holds one once its config.json is there
void refuse_existing_run(const std::string& run_dir) {
  if (file_exists(run_dir + "/config.json"))
    throw InputError("run directory '" + run_dir +
                     "' already holds a run; choose another --run-dir, or continue it "
                     "with --resume " + run_dir);
}

// trains from scratch (`from` null) or from a verified checkpoint, whose tensors are released
// once restored (the replay copy can be large). `lock`: the run directory's lock when the caller
// holds it already (resume); null: a fresh run, locked here before anything is written.
TrainSummary run_training(const Config& c, const std::string& run_dir, LoadedCheckpoint* from,
                          const TrainOptions& o, const RunLock* lock) {
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
  // eval envs are stepped by as many threads as the training envs (the results do not depend
  // on it); the sequential loop waits for an evaluation, the overlapped loop runs it beside
  // training (run_eval below)
  if (c.eval_episodes > 0)
    eval_pool = std::make_unique<EnvPool>(c.env_id, c.eval_episodes, c.seed + kEvalSeedOffset,
                                          c.env_threads);
  Agent agent(*backend, AgentSpec::from_config(c, O, A, std::max(N, c.eval_episodes)));
  ReplayBuffer replay(*backend, replay_capacity(c), O, A);
  int act_rows = std::max(N, c.eval_episodes);
  DeviceArray<float> d_obs(*backend, (size_t)act_rows * O), d_actions(*backend, (size_t)act_rows * A);
  HostRng warmup_rng(c.seed, kStreamWarmup);
  const bool overlapped = resolve_pipeline(c.pipeline, backend->name()) == "overlapped";

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
  // declared after the agent and the ring: its update thread (if any) ends before they go
  StepLoop loop(c, overlapped, *backend, pool, agent, replay, d_obs.data(), d_actions.data(),
                warmup_rng, st, nullptr);
  if (from) {
    // an overlapped run's checkpoint leaves the latest step's update block pending
    int64_t pending = updates_owed(c, N, st.steps) - st.updates;
    if (pending < 0 || pending > (int64_t)std::ceil(N * c.updates_per_step) + 1)
      throw CheckpointError("cannot resume from '" + from->files.main + "': its " +
                            std::to_string(st.updates) + " updates at step " +
                            std::to_string(st.steps) + " do not fit the update schedule");
    loop.set_pending(pending);
  }
  const int64_t start_steps = st.steps, start_updates = st.updates;
  const double prior_seconds = st.wall_seconds;
  // resumed from the final checkpoint of a run stopped before it wrote its policy and summary:
  // a sequential run's final checkpoint follows its final evaluation, so only the files remain
  const bool finishing = from && st.steps >= c.total_steps;

  // ---- run directory, locked first: one process at a time writes a run
  std::unique_ptr<RunLock> own_lock;
  if (!lock) {
    make_dirs(run_dir);
    own_lock = std::make_unique<RunLock>(run_dir);
    refuse_existing_run(run_dir);  // one begun there while this process was starting
  }
  const std::string ckpt_dir = run_dir + "/checkpoints";
  if (!from) {
    write_file_atomic(run_dir + "/config.json", c.to_json().dump(2) + "\n");
  } else {
    write_file_atomic(run_dir + "/config.json", c.to_json().dump(2) + "\n");  // a longer run
    truncate_log(run_dir + "/metrics.jsonl", st.steps, false);
    // an overlapped run's final evaluation comes after its final checkpoint: finishing it
    // evaluates again (the same episodes), so a row the stopped run wrote then goes
    truncate_log(run_dir + "/eval.csv", finishing && overlapped ? st.steps - 1 : st.steps, true);
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

  // a failed write (disk full, I/O error) stops the run; it continues from its latest complete
  // checkpoint once the cause is fixed
  auto write_failed = [&](const std::string& what) {
    if (progress) std::fprintf(stderr, "\n");
    throw std::runtime_error(
        what + "; stopped at step " + std::to_string(st.steps) + ". " +
        (last_checkpoint.step >= 0
             ? "The latest complete checkpoint is '" + last_checkpoint.main + "' (step " +
                   std::to_string(last_checkpoint.step) + ")"
             : std::string("No checkpoint was written (it starts again from step 0)")) +
        "; once the cause is fixed, continue with: sac train --resume " + run_dir);
  };
  auto check_written = [&](std::ofstream& log, const std::string& name) {
    if (!log.flush()) write_failed("cannot write '" + run_dir + "/" + name + "'");
  };
  auto write_or_stop = [&](const std::function<void()>& write) {
    try {
      write();
    } catch (const std::runtime_error& e) {
      write_failed(e.what());
    }
  };
  // a non-finite value stops the run; the last good checkpoint stays
  auto diverged = [&](const std::string& what) {
    if (progress) std::fprintf(stderr, "\n");
    throw std::runtime_error(
        "training diverged at step " + std::to_string(st.steps) + " (update " +
        std::to_string(st.updates) + "): " + what + " is not finite; stopped. " +
        (last_checkpoint.step >= 0 ? "The last good checkpoint is '" + last_checkpoint.main + "'"
                                   : std::string("No checkpoint was written before")));
  };
  // ---- evaluation: inline in the sequential loop; in the overlapped loop on a thread of its
  // own (background_eval.h) with a snapshot of the actor, joined before the next evaluation,
  // every checkpoint and the end, so checkpoints always hold a finished evaluation
  std::unique_ptr<BackgroundEval> background_eval;
  if (overlapped && eval_pool)
    background_eval = std::make_unique<BackgroundEval>(
        AgentSpec::from_config(c, O, A, c.eval_episodes), *eval_pool);
  auto record_eval = [&](int64_t step, double wall_seconds, const EvalResult& r) {
    st.last_eval = r.mean;
    st.best_eval = std::max(st.best_eval, r.mean);
    st.final_eval = r.mean;
    eval_csv << step << "," << wall_seconds << "," << r.mean << "," << r.min << "," << r.max
             << "," << r.episodes << "\n";
    check_written(eval_csv, "eval.csv");
  };
  auto finish_eval = [&]() {
    if (!background_eval || !background_eval->running()) return;
    BackgroundEval::Done done = background_eval->wait();
    record_eval(done.step, done.wall_seconds, done.result);
  };
  auto run_eval = [&]() {
    if (!eval_pool) return;
    const double wall_seconds = prior_seconds + seconds_since(t0);  // the policy's training time
    if (background_eval) {
      finish_eval();
      std::vector<float> actor(agent.actor().num_params());
      backend->download(actor.data(), agent.actor().params(), actor.size() * sizeof(float));
      background_eval->start(st.steps, wall_seconds, actor);
      return;
    }
    record_eval(st.steps, wall_seconds,
                evaluate(agent, *backend, *eval_pool, d_obs.data(), d_actions.data()));
  };
  auto checkpoint = [&]() {
    finish_eval();
    std::string bad = find_non_finite(agent, st.updates > 0, true);
    if (!bad.empty()) diverged(bad);
    st.warmup_rng_counter = warmup_rng.counter();
    st.wall_seconds = prior_seconds + seconds_since(t0);
    try {
      last_checkpoint = write_checkpoint(ckpt_dir, c, agent, replay, pool, eval_pool.get(), st);
    } catch (const CheckpointWriteError& e) {
      write_failed(e.what());
    }
    s.checkpoint = last_checkpoint.main;
  };

  bool interrupted = false;
  while (st.steps < c.total_steps) {
    loop.step();  // act, step the envs, insert, updates (trainer.h: sequential or overlapped)

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
      check_written(metrics, "metrics.jsonl");
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
    // the rates are this process's alone: earlier segments of a resumed run ran at their own
    // speed (maybe elsewhere); one that only finished a stopped run stepped no env and has none
    s.segment_from_step = start_steps;
    s.segment_steps = st.steps - start_steps;
    s.segment_updates = st.updates - start_updates;
    s.segment_seconds = std::max(1e-9, seconds_since(t0));
    s.wall_seconds = prior_seconds + s.segment_seconds;
    s.env_steps_per_second = s.segment_steps > 0 ? s.segment_steps / s.segment_seconds : NAN;
    s.updates_per_second = s.segment_steps > 0 ? s.segment_updates / s.segment_seconds : NAN;
    s.final_eval_return = eval_pool ? st.final_eval : NAN;
    s.best_eval_return = eval_pool ? st.best_eval : NAN;
  };

  if (interrupted) {
    checkpoint();
    write_or_stop([&] { save_policy(agent, c, run_dir + "/policy.safetensors"); });
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

  if (overlapped) {
    // the final checkpoint keeps the last step's update block pending, as a mid-run one does,
    // so an extended run continues exactly; the block then runs before the final evaluation
    checkpoint();
    loop.drain();
    std::string bad = find_non_finite(agent, st.updates > 0, false);
    if (!bad.empty()) diverged(bad);
    run_eval();
    finish_eval();
    if (progress) std::fprintf(stderr, "\n");
  } else if (!finishing) {
    run_eval();  // the final evaluation
    if (progress) std::fprintf(stderr, "\n");
    checkpoint();  // the final checkpoint, so the run can be extended later
  }
  fill();
  write_or_stop([&] { save_policy(agent, c, run_dir + "/policy.safetensors"); });
  nlohmann::json summary = {
      {"task", c.env_id}, {"seed", c.seed}, {"device", backend->name()}, {"steps", s.steps},
      {"updates", s.updates}, {"wall_seconds", s.wall_seconds},
      {"final_eval_return", eval_pool ? nlohmann::json(s.final_eval_return) : nlohmann::json()},
      {"best_eval_return", eval_pool ? nlohmann::json(s.best_eval_return) : nlohmann::json()},
      {"env_steps_per_second", s.env_steps_per_second},
      {"updates_per_second", s.updates_per_second},
      {"segment", {{"from_step", s.segment_from_step}, {"steps", s.segment_steps},
                   {"updates", s.segment_updates}, {"wall_seconds", s.segment_seconds}}},
      {"unstable_episodes", pool.unstable_episodes()}, {"run_dir", run_dir}};
  write_or_stop([&] { write_file_atomic(run_dir + "/summary.json", summary.dump(2) + "\n"); });
  return s;
}

}  // namespace

BenchTrainResult bench_train(const Config& c) {
  const std::string device = resolve_device(c.device);
  check_replay_fits(c, device);
  std::unique_ptr<Backend> backend = make_backend(device, c.threads);
  EnvPool pool(c.env_id, c.num_envs, c.seed, c.env_threads);
  const int N = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  Agent agent(*backend, AgentSpec::from_config(c, O, A, N));
  ReplayBuffer replay(*backend, replay_capacity(c), O, A);
  DeviceArray<float> d_obs(*backend, (size_t)N * O), d_actions(*backend, (size_t)N * A);
  HostRng warmup_rng(c.seed, kStreamWarmup);
  BenchTrainResult r;
  r.device = backend->name();
  r.pipeline = resolve_pipeline(c.pipeline, backend->name());
  r.warmup_steps = c.warmup_steps;
  TrainerState st;
  pool.reset();
  StepLoop loop(c, r.pipeline == "overlapped", *backend, pool, agent, replay, d_obs.data(),
                d_actions.data(), warmup_rng, st, &r.stages);
  backend->synchronize();
  auto t0 = Clock::now();
  while (st.steps < c.total_steps) loop.step();
  loop.drain();
  backend->synchronize();
  r.wall_seconds = std::max(1e-9, seconds_since(t0));
  r.steps = st.steps;
  r.updates = st.updates;
  r.env_steps_per_second = r.steps / r.wall_seconds;
  r.updates_per_second = r.updates / r.wall_seconds;
  r.env_busy_fraction = r.stages.env_step / r.wall_seconds;
  if (r.device != "cpu" && r.updates > 0) {
    // GPU time of one update: blocks replayed back to back between two synchronisations
    const int block = update_block(c, N);
    const int reps = std::max(1, 200 / block);
    agent.update(replay, block);  // the recording in use, warm
    backend->synchronize();
    auto t1 = Clock::now();
    for (int i = 0; i < reps; ++i) agent.update(replay, block);
    backend->synchronize();
    double per_update = seconds_since(t1) / ((double)reps * block);
    r.gpu_busy_fraction = std::min(1.0, per_update * r.updates / r.wall_seconds);
  }
  return r;
}

TrainSummary train(const Config& c, const std::string& run_dir, bool progress) {
  TrainOptions o;
  o.progress = progress;
  return train(c, run_dir, o);
}

TrainSummary train(const Config& c, const std::string& run_dir_arg, const TrainOptions& o) {
  // refuse to overwrite an existing run
  std::string run_dir = run_dir_arg.empty() ? default_run_dir(c) : run_dir_arg;
  refuse_existing_run(run_dir);  // early, before the components are built; again once locked
  return run_training(c, run_dir, nullptr, o, nullptr);
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
  RunLock lock(run_dir);  // before reading anything: the run there may still be going
  CheckpointFiles files = latest_checkpoint(run_dir + "/checkpoints");
  if (files.step < 0) {
    // A finished run whose checkpoints are gone has results that a restart would overwrite.
    if (file_exists(run_dir + "/summary.json") || file_exists(run_dir + "/policy.safetensors"))
      throw InputError("cannot resume '" + run_dir + "': no complete checkpoint in '" + run_dir +
                       "/checkpoints', and the run has already finished " +
                       "(summary.json or policy.safetensors is there)");
    // Stopped before its first checkpoint: nothing was saved, so starting again from step 0
    // with the same config loses nothing and (on the CPU) reproduces the same run.
    std::fprintf(stderr,
                 "sac: no complete checkpoint in '%s/checkpoints' (the run stopped before its "
                 "first one): starting it again from step 0\n",
                 run_dir.c_str());
    return run_training(c, run_dir, nullptr, o, &lock);
  }
  if (files.step > c.total_steps ||
      (files.step == c.total_steps && summary_steps(run_dir) >= files.step))
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
  if (files.step == c.total_steps)
    std::fprintf(stderr,
                 "sac: the run in '%s' stopped after its final checkpoint (step %lld): finishing "
                 "it (policy.safetensors, summary.json)\n",
                 run_dir.c_str(), (long long)files.step);
  return run_training(c, run_dir, &ckpt, o, &lock);
}

}  // namespace sac
