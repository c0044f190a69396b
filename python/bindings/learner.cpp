// learner.cpp: `sac_engine._core.Learner`, the C++ half of sac_engine.SAC (python/sac_engine/
// sac.py): the SAC agent (include/sac/agent.h), one replay ring per seed and the backend (CPU
// or CUDA by `device`), for envs that step in Python. Python steps the env; this object acts
// (warm-up actions from the generators `sac train` uses, then the policy's samples), stores each
// batch step's transitions in the rings, owes and runs the updates (the GIL released) with the
// update-to-data arithmetic of the step loop (engine/run/step_loop.cpp), and keeps the trainer
// state. The run directory and the checkpoints are the engine's own: RunDirectory writes
// config.json, metrics.jsonl, eval.csv and tb/; write_checkpoint / restore_checkpoint (without
// an env pool: the env's state is the user's) write and read the checkpoint pair.
// A run of several seeds (train.seeds) holds S blocks of N envs (one block per seed, in seed
// order) in every array it takes or gives, and one run directory per seed, as `sac train` does.
// Tested by python/tests/test_sac.py.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "formats/checkpoint.h"
#include "formats/trainer_state.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "run/step_loop.h"
#include "sac/learner.h"
#include "sac/backend.h"
#include "sac/config.h"
#include "sac/philox.h"
#include "sac/replay_buffer.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"

namespace sac::python {
namespace {

// the HostRng stream of the warm-up actions, the one `sac train`'s step loop draws them from
constexpr uint64_t kStreamWarmup = 7;
// observations one act() call takes per seed (predict() goes in chunks of this)
constexpr int kActChunk = 256;

// a ConfigError for a key of env.*, which SAC's env replaces
[[noreturn]] void refuse_env_key(const std::string& key) {
  throw ConfigError("config key '" + key + "' does not apply to sac_engine.SAC: the env is the " +
                    "one given to SAC(env) (env.* configures `sac train`'s own tasks); leave " +
                    "env.* out");
}

// `text` (a config object as JSON) with `overrides` applied over the defaults, validated, env.*
// refused: the config `sac train` would run, as SAC takes it
Config resolve_config(const std::string& text, const std::vector<std::string>& overrides) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("env")) {
    std::string key = "env";
    if (j["env"].is_object() && !j["env"].empty()) key += "." + j["env"].begin().key();
    refuse_env_key(key);
  }
  Config c = config_from_json_text(text, "config");
  for (const std::string& o : overrides) {
    if (o.rfind("env.", 0) == 0) refuse_env_key(o.substr(0, o.find('=')));
    apply_override(c, o);
  }
  validate(c);
  // settings of `sac train`'s own loop that a Python env's loop has no counterpart for
  if (c.video_every != 0)
    throw ConfigError("config key 'train.video_every' does not apply to sac_engine.SAC (videos "
                      "render the engine's own MuJoCo tasks); leave it 0");
  if (c.pipeline == "overlapped")
    throw ConfigError("config key 'train.pipeline': sac_engine.SAC runs the sequential loop "
                      "(the env steps in Python between updates); use auto or sequential");
  return c;
}

class Learner {
 public:
  /// A learner for envs of `obs_dim` observations and actions in [low, high] (act_dim values
  /// each), N = `envs_per_seed` envs per seed; `config_text` as resolve_config takes it.
  Learner(const std::string& config_text, const std::vector<std::string>& overrides,
          int obs_dim, int act_dim, const std::vector<double>& low,
          const std::vector<double>& high, int envs_per_seed)
      : m_c(resolve_config(config_text, overrides)), m_seeds(seed_list(m_c)),
        m_S((int)m_seeds.size()), m_N(envs_per_seed), m_O(obs_dim), m_A(act_dim), m_low(low),
        m_high(high) {
    checked_int("obs_dim", obs_dim, 1, 1 << 20);
    checked_int("act_dim", act_dim, 1, 1 << 16);
    checked_int("envs per seed", envs_per_seed, 1, 65536);
    if ((int)low.size() != act_dim || (int)high.size() != act_dim)
      throw py::value_error("action bounds must hold act_dim values each");
    for (int j = 0; j < act_dim; ++j)
      if (!std::isfinite(low[j]) || !std::isfinite(high[j]) || !(low[j] < high[j]))
        throw py::value_error("action bound " + std::to_string(j) + " is [" +
                              std::to_string(low[j]) + ", " + std::to_string(high[j]) +
                              "]: each must be finite with low < high");
    m_backend = make_backend(resolve_device(m_c.device), m_c.threads);
    m_agent = make_learner(
        *m_backend, AgentSpec::from_config(m_c, obs_dim, act_dim, std::max(m_N, kActChunk)));
    m_rings = std::make_unique<SeedRings>(*m_backend, m_seeds.size(), m_c.buffer_size, obs_dim,
                                          act_dim);
    for (uint64_t seed : m_seeds) m_warmup_rngs.emplace_back(seed, kStreamWarmup);
    m_st.seeds.resize(m_S);
    m_st.next_log = m_c.log_every;
    m_st.next_eval = m_c.eval_every > 0 ? m_c.eval_every : m_c.total_steps;
    const size_t rows = (size_t)m_S * std::max(m_N, kActChunk);
    m_d_obs = DeviceArray<float>(*m_backend, (size_t)m_S * m_N * m_O);
    m_d_actions = DeviceArray<float>(*m_backend, (size_t)m_S * m_N * m_A);
    m_d_act_obs = DeviceArray<float>(*m_backend, rows * m_O);
    m_d_act_actions = DeviceArray<float>(*m_backend, rows * m_A);
    m_d_step = DeviceArray<float>(*m_backend, m_S * StepTransitions::floats(m_N, m_O));
    m_unit.resize((size_t)m_S * m_N * m_A);
    m_step.resize(m_S * StepTransitions::floats(m_N, m_O));
  }

  // ---- the step: explore, then add; an abandoned step leaves no trace

  /// The actions of one batch step for `obs` (S*N rows): uniform during the warm-up (from each
  /// seed's own generator), then the policy's samples; in the env's bounds. add() completes the
  /// step; abandon() forgets it (its draws are not spent).
  py::array_t<float> explore(py::handle obs) {
    py::array_t<float> o = float_rows(obs, "observations", m_S * m_N, m_O, false);
    abandon();
    m_pending_warmup_counter = m_st.warmup_rng_counter;
    m_backend->download(&m_pending_act_draws, m_agent->act_draw_counter(), sizeof(int64_t));
    m_pending = true;
    const size_t na = (size_t)m_S * m_N * m_A;
    m_d_obs.upload(o.data(), (size_t)m_S * m_N * m_O);
    if (m_st.steps < m_c.warmup_steps) {
      float* a = m_unit.data();
      for (HostRng& rng : m_warmup_rngs)
        for (size_t i = 0; i < (size_t)m_N * m_A; ++i) *a++ = (float)rng.uniform(-1.0, 1.0);
      m_st.warmup_rng_counter = m_warmup_rngs[0].counter();
      m_d_actions.upload(m_unit.data(), na);
    } else {
      py::gil_scoped_release release;
      m_agent->act(m_N, m_d_obs.data(), false, m_d_actions.data());
      m_d_actions.download(m_unit.data(), na);
    }
    // a seed that stopped acts with zeros, as in `sac train`; so does one of a run of
    // train.seeds whose actions are not finite (non_finite_actions(): the caller stops it); a
    // run of one seed stops as a whole
    m_non_finite.clear();
    const size_t per_seed = (size_t)m_N * m_A;
    bool zeroed = false;
    for (int s = 0; s < m_S; ++s) {
      float* a = m_unit.data() + s * per_seed;
      bool zero = !m_st.seeds[s].training();
      for (size_t i = 0; i < per_seed && !zero; ++i) zero = !std::isfinite(a[i]);
      if (!zero) continue;
      if (m_st.seeds[s].training()) {
        if (m_c.seeds.empty()) {
          std::string bad = find_non_finite(*m_agent, m_st.updates > 0, true);
          throw std::runtime_error("training diverged at step " + std::to_string(m_st.steps) +
                                   ": " + (bad.empty() ? "the policy's actions" : bad) +
                                   " is not finite");
        }
        m_non_finite.push_back(s);
      }
      std::fill(a, a + per_seed, 0.0f);
      zeroed = true;
    }
    if (zeroed) m_d_actions.upload(m_unit.data(), na);
    return scaled(m_unit.data(), m_S * m_N, false);
  }

  /// Completes the step explore() began: the transitions of its S*N envs (`rewards`,
  /// `next_obs` (the real final observation where an episode ended), `terminated` (no
  /// bootstrap), `keep` (0 drops the row: a step across an episode boundary)) go to each
  /// seed's ring, the step count advances by N; returns the updates now owed (update()).
  int64_t add(py::handle rewards, py::handle next_obs, py::handle terminated, py::handle keep) {
    if (!m_pending) throw std::logic_error("add() without explore(): each step explores first");
    const int n = m_S * m_N;
    auto r = float_rows(rewards, "rewards", 1, n, true);
    auto x = float_rows(next_obs, "next observations", n, m_O, false);
    auto t = float_rows(terminated, "terminated", 1, n, true);
    auto k = float_rows(keep, "keep", 1, n, true);
    std::vector<int> kept(m_S, 0);
    for (int s = 0; s < m_S; ++s) {
      float* block = m_step.data() + s * StepTransitions::floats(m_N, m_O);
      for (int j = 0; j < m_N; ++j) {
        const int i = s * m_N + j;
        block[j] = r.data()[i];
        block[m_N + j] = t.data()[i] != 0.0f ? 1.0f : 0.0f;
        block[2 * m_N + j] = k.data()[i] != 0.0f ? 1.0f : 0.0f;
        kept[s] += k.data()[i] != 0.0f ? 1 : 0;
      }
      std::copy_n(x.data() + (size_t)s * m_N * m_O, (size_t)m_N * m_O, block + 3 * m_N);
    }
    m_d_step.upload(m_step.data(), m_step.size());
    for (int s = 0; s < m_S; ++s)
      if (kept[s] > 0)
        m_rings->rings()[s]->insert_step(
            m_N, kept[s], m_d_obs.data() + (size_t)s * m_N * m_O,
            m_d_actions.data() + (size_t)s * m_N * m_A,
            m_d_step.data() + s * StepTransitions::floats(m_N, m_O));
    m_backend->synchronize();
    m_pending = false;
    m_st.steps += m_N;
    // the step loop's debt arithmetic (owe_updates)
    if (m_st.steps <= m_c.warmup_steps) return 0;
    m_st.update_debt += m_N * m_c.updates_per_step;
    int64_t count = 0;
    while (m_st.update_debt >= 1.0) {
      ++count;
      m_st.update_debt -= 1.0;
    }
    m_owed += count;
    return count;
  }

  /// Forgets the step explore() began and add() did not complete: its warm-up draws and action
  /// noise are drawn again by the next step, as if it had never been explored.
  void abandon() {
    if (!m_pending) return;
    m_st.warmup_rng_counter = m_pending_warmup_counter;
    for (HostRng& rng : m_warmup_rngs) rng.set_counter(m_pending_warmup_counter);
    m_backend->upload(m_agent->act_draw_counter(), &m_pending_act_draws, sizeof(int64_t));
    m_pending = false;
  }

  /// Runs the `count` updates add() owes (all of them by default), with the GIL released:
  /// blocks of N x ratio updates (the step loop's update_block), each seed on its own ring.
  void update(int64_t count) {
    if (count < 0) count = m_owed;
    if (count > m_owed)
      throw py::value_error("update(" + std::to_string(count) + "): only " +
                            std::to_string(m_owed) + " updates are owed");
    const int block = update_block(m_c, m_N);
    {
      py::gil_scoped_release release;
      const std::vector<const ReplayBuffer*> rings = m_rings->const_rings();
      int64_t left = count;
      for (; left >= block; left -= block) m_agent->update(rings, block);
      for (; left > 0; --left) m_agent->update(rings, 1);
      m_backend->synchronize();
    }
    m_owed -= count;
    m_st.updates += count;
  }

  // ---- acting for predict()

  /// Actions in the env's bounds for `obs` (n x obs_dim, or one row) from seed number
  /// `seed_index`'s actor: tanh of the mean (`deterministic`) or a sample (which spends action
  /// noise of the training stream).
  py::array_t<float> act(py::handle obs, bool deterministic, int seed_index) {
    checked_int("seed_index", seed_index, 0, m_S - 1);
    py::array_t<float> o = float_rows(obs, "obs", -1, m_O, true);
    const bool single = o.ndim() == 1;
    const int n = single ? 1 : (int)o.shape(0);
    std::vector<float> unit((size_t)n * m_A);
    const int chunk = std::max(m_N, kActChunk);
    {
      py::gil_scoped_release release;
      std::vector<float> block((size_t)m_S * chunk * m_O), out((size_t)m_S * chunk * m_A);
      for (int at = 0; at < n; at += chunk) {
        const int rows = std::min(chunk, n - at);
        // every seed's block holds the rows (act() runs all seeds); seed_index's is read
        for (int s = 0; s < m_S; ++s)
          std::copy_n(o.data() + (size_t)at * m_O, (size_t)rows * m_O,
                      block.data() + (size_t)s * rows * m_O);
        m_d_act_obs.upload(block.data(), (size_t)m_S * rows * m_O);
        m_agent->act(rows, m_d_act_obs.data(), deterministic, m_d_act_actions.data());
        m_d_act_actions.download(out.data(), (size_t)m_S * rows * m_A);
        std::copy_n(out.data() + (size_t)seed_index * rows * m_A, (size_t)rows * m_A,
                    unit.data() + (size_t)at * m_A);
      }
    }
    return scaled(unit.data(), n, single);
  }

  // ---- metrics and the divergence check

  /// The latest update's scalars of seed number k.
  py::dict metrics(int k) const {
    checked_int("seed_index", k, 0, m_S - 1);
    UpdateMetrics m = m_agent->read_metrics(k);
    py::dict d;
    d["critic_loss"] = m.critic_loss, d["actor_loss"] = m.actor_loss;
    d["alpha_loss"] = m.alpha_loss, d["alpha"] = m.alpha, d["entropy"] = m.entropy;
    return d;
  }

  /// The first non-finite value of the agent ("" when all are finite), as `sac train` checks;
  /// of seed number k's members alone when k >= 0.
  std::string non_finite(int k) {
    if (k >= 0) checked_int("seed_index", k, 0, m_S - 1);
    return find_non_finite(*m_agent, m_st.updates > 0, false, k);
  }

  /// Stops seed number k at the current step (its numbers went non-finite): from the next
  /// step it acts with zeros and its checkpointed numbers are no longer checked, as a seed of
  /// `sac train` that diverged; the other seeds go on.
  void stop_seed(int k) {
    checked_int("seed_index", k, 0, m_S - 1);
    m_st.seeds[k].stopped_step = m_st.steps;
  }
  /// The step seed k stopped at (-1: it is training).
  int64_t stopped_step(int k) const {
    checked_int("seed_index", k, 0, m_S - 1);
    return m_st.seeds[k].stopped_step;
  }
  /// The seeds whose actions of the latest explore() were not finite (replaced by zeros).
  const std::vector<int>& non_finite_actions() const { return m_non_finite; }

  // ---- the run directory

  /// Opens the run directory `path` (one folder per seed inside it with train.seeds): fresh
  /// (`resumed_step` < 0; refused when it holds a run) or resumed at `resumed_step`. The
  /// config.json of each folder is the resolved config with its "env" object replaced by
  /// `env_json` (the Python env's description). The folder stays locked until close_run().
  void open_run(const std::string& path, const std::string& env_json, int64_t resumed_step) {
    close_run();
    nlohmann::json env = nlohmann::json::parse(env_json);
    const bool per_seed = !m_c.seeds.empty();
    // a resumed run holds the folder's lock itself (as `sac train --resume` does): a
    // RunDirectory that takes its own refuses a folder holding a run
    if (resumed_step >= 0) m_lock = std::make_unique<RunLock>(path);
    m_dir = std::make_unique<RunDirectory>(path, m_c, resumed_step, resumed_step, m_lock.get(),
                                           !per_seed);
    write_config(path, m_c, env);
    for (int k = 0; per_seed && k < m_S; ++k) {
      const std::string dir = seed_dir(path, m_seeds[k]);
      m_seed_dirs.push_back(std::make_unique<RunDirectory>(dir, seed_config(m_c, k), resumed_step,
                                                           resumed_step, &m_dir->lock()));
      write_config(dir, seed_config(m_c, k), env);
    }
  }

  /// Closes the run directory (its lock released); the files stay.
  void close_run() {
    m_seed_dirs.clear();
    m_dir.reset();
    m_lock.reset();
  }

  /// The folder seed number k logs in (the run's own with one seed).
  RunDirectory& seed_logs(int k) {
    if (!m_dir) throw std::logic_error("no run directory is open");
    checked_int("seed_index", k, 0, m_S - 1);
    return m_seed_dirs.empty() ? *m_dir : *m_seed_dirs[k];
  }

  /// Appends `line_json` to seed k's metrics.jsonl (and its TensorBoard events).
  void append_metrics(int k, const std::string& line_json) {
    seed_logs(k).append_metrics(nlohmann::json::parse(line_json));
  }

  /// Records seed k's evaluation at `step` in its progress and its eval.csv (and events).
  void append_eval(int k, int64_t step, double wall_seconds, double mean, double lo, double hi,
                   int episodes) {
    EvalResult r;
    r.mean = mean, r.min = lo, r.max = hi, r.episodes = episodes;
    SeedProgress& p = m_st.seeds.at(k);
    p.last_eval = mean, p.final_eval = mean, p.best_eval = std::max(p.best_eval, mean);
    seed_logs(k).append_eval(step, wall_seconds, r);
  }

  /// Writes summary.json of seed k's folder (k < 0: the run's own folder).
  void write_summary(int k, const std::string& summary_json) {
    RunDirectory& d = k < 0 ? *m_dir : seed_logs(k);
    d.write_summary(nlohmann::json::parse(summary_json));
  }

  // ---- checkpoints

  /// Writes the checkpoint of the current step into `dir` (networks, optimiser state, replay
  /// rings, counters, trainer state; an explored step not added is abandoned first), its config
  /// naming the Python env `env_json` describes, not a built-in task. Refused
  /// (RuntimeError, nothing written) when a value is not finite. Returns the main file's path.
  std::string checkpoint(const std::string& dir, const std::string& env_json) {
    abandon();
    if (m_owed != 0)
      throw std::logic_error("checkpoint with " + std::to_string(m_owed) + " updates owed");
    std::vector<const ReplayBuffer*> rings = m_rings->const_rings();
    return write_checkpoint(dir, m_c, *m_agent, rings, nullptr, nullptr, m_st, env_json).main;
  }

  /// Writes seed number k's actor as the policy file `path` (sac_engine.Policy.load reads it
  /// without the env): `env_json`, the Python env's description, completed with what rebuilding
  /// the actor needs (network widths, log-std range) and the MuJoCo version, is its
  /// "python_env" metadata.
  void write_policy(const std::string& path, const std::string& env_json, int k) {
    checked_int("seed_index", k, 0, m_S - 1);
    nlohmann::json env = nlohmann::json::parse(env_json);
    env["hidden"] = m_c.hidden;
    env["log_std_min"] = m_c.log_std_min, env["log_std_max"] = m_c.log_std_max;
    env["mujoco_version"] = mujoco_version();
    save_policy(*m_agent, seed_config(m_c, k), path, k, env.dump());
  }

  /// Restores the latest checkpoint in `dir` (checked against this learner's config as a
  /// resume is: only the keys resumable_keys() names may differ); returns its step. Raises
  /// ValueError when there is none or it does not fit.
  int64_t restore(const std::string& dir) {
    CheckpointFiles files = latest_checkpoint(dir);
    if (files.step < 0) throw InputError("no checkpoint in '" + dir + "'");
    LoadedCheckpoint ckpt = read_checkpoint(files);
    check_resumable(ckpt.config, m_c);
    abandon();
    TrainerState st;
    restore_checkpoint(ckpt, *m_agent, m_rings->rings(), nullptr, nullptr, st);
    if ((int)st.seeds.size() != m_S)
      throw CheckpointError("checkpoint '" + files.main + "' holds " +
                            std::to_string(st.seeds.size()) + " seeds, this learner has " +
                            std::to_string(m_S));
    m_st = st;
    for (HostRng& rng : m_warmup_rngs) rng.set_counter(st.warmup_rng_counter);
    m_owed = 0;
    return st.steps;
  }

  // ---- state for the Python loop

  TrainerState& state() { return m_st; }
  const Config& config() const { return m_c; }
  /// train.total_steps of the run (what learn() trains to; written with each checkpoint).
  void set_total_steps(int64_t steps) {
    m_c.total_steps = checked_int("total_timesteps", steps, 1, (int64_t)9e15);
  }
  std::string config_json() const { return m_c.to_json().dump(); }
  std::string device() const { return m_backend->name(); }
  int num_seeds() const { return m_S; }
  int envs_per_seed() const { return m_N; }
  int64_t owed() const { return m_owed; }
  std::vector<int64_t> replay_sizes() const {
    std::vector<int64_t> v;
    for (const ReplayBuffer* r : m_rings->rings()) v.push_back(r->size());
    return v;
  }

 private:
  // n rows of actions in [-1, 1] mapped to [low, high], as the env pool maps them
  py::array_t<float> scaled(const float* unit, int n, bool single) const {
    py::array_t<float> out = single ? py::array_t<float>({(py::ssize_t)m_A})
                                    : py::array_t<float>({(py::ssize_t)n, (py::ssize_t)m_A});
    float* dst = out.mutable_data();
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < m_A; ++j)
        dst[(size_t)i * m_A + j] = (float)(m_low[j] + 0.5 * ((double)unit[(size_t)i * m_A + j] +
                                                             1.0) * (m_high[j] - m_low[j]));
    return out;
  }

  // config.json of a folder: the config with the Python env's description as its "env"
 public:
  static void write_config(const std::string& dir, const Config& c, const nlohmann::json& env) {
    nlohmann::json j = c.to_json();
    j["env"] = env;
    write_file_atomic(dir + "/config.json", j.dump(2) + "\n");
  }

 private:

  Config m_c;
  const std::vector<uint64_t> m_seeds;
  const int m_S, m_N, m_O, m_A;
  const std::vector<double> m_low, m_high;
  std::unique_ptr<Backend> m_backend;
  std::unique_ptr<sac::Learner> m_agent;  // the engine's learner (this class wraps it)
  std::unique_ptr<SeedRings> m_rings;
  std::vector<HostRng> m_warmup_rngs;  // per seed
  TrainerState m_st;
  DeviceArray<float> m_d_obs, m_d_actions, m_d_step;  // the explored step's, for the rings
  DeviceArray<float> m_d_act_obs, m_d_act_actions;    // act()'s (predict), apart from them
  std::vector<float> m_unit, m_step;
  int64_t m_owed = 0;  // updates owed by add(), not yet run
  bool m_pending = false;  // explore() ran, add() not yet
  std::vector<int> m_non_finite;  // seeds whose latest explored actions were not finite
  uint64_t m_pending_warmup_counter = 0;
  int64_t m_pending_act_draws = 0;
  std::unique_ptr<RunLock> m_lock;  // a resumed run's (a fresh run's folder holds its own)
  std::unique_ptr<RunDirectory> m_dir;
  std::vector<std::unique_ptr<RunDirectory>> m_seed_dirs;
};

}  // namespace

void bind_learner(py::module_& m) {
  m.def(
      "resolve_config",
      [](const std::string& text, const std::vector<std::string>& overrides) {
        return resolve_config(text, overrides).to_json().dump();
      },
      py::arg("text"), py::arg("overrides"),
      "The config `sac train` would run for JSON `text` and `key=value` overrides (validated, "
      "env.* refused), as resolved JSON text. Raises ConfigError.");
  m.def(
      "config_key_names",
      [] {
        std::vector<std::string> names;
        for (const ConfigKey& k : config_keys()) names.push_back(k.key);
        return names;
      },
      "Every config key's dotted name, in the order of the config table.");
  py::class_<Learner>(m, "Learner",
                      "The agent, replay rings and trainer state behind sac_engine.SAC.")
      .def(py::init<const std::string&, const std::vector<std::string>&, int, int,
                    const std::vector<double>&, const std::vector<double>&, int>(),
           py::arg("config_text"), py::arg("overrides"), py::arg("obs_dim"), py::arg("act_dim"),
           py::arg("low"), py::arg("high"), py::arg("envs_per_seed"))
      .def("explore", &Learner::explore, py::arg("obs"))
      .def("add", &Learner::add, py::arg("rewards"), py::arg("next_obs"), py::arg("terminated"),
           py::arg("keep"))
      .def("abandon", &Learner::abandon)
      .def("update", &Learner::update, py::arg("count") = -1)
      .def("act", &Learner::act, py::arg("obs"), py::arg("deterministic") = true,
           py::arg("seed_index") = 0)
      .def("metrics", &Learner::metrics, py::arg("seed_index") = 0)
      .def("non_finite", &Learner::non_finite, py::arg("seed_index") = -1)
      .def("stop_seed", &Learner::stop_seed, py::arg("seed_index"))
      .def("stopped_step", &Learner::stopped_step, py::arg("seed_index"))
      .def_property_readonly("non_finite_actions", &Learner::non_finite_actions)
      .def("open_run", &Learner::open_run, py::arg("path"), py::arg("env_json"),
           py::arg("resumed_step"))
      .def("close_run", &Learner::close_run)
      .def("append_metrics", &Learner::append_metrics, py::arg("seed_index"), py::arg("line"))
      .def("append_eval", &Learner::append_eval, py::arg("seed_index"), py::arg("step"),
           py::arg("wall_seconds"), py::arg("mean"), py::arg("min"), py::arg("max"),
           py::arg("episodes"))
      .def("write_summary", &Learner::write_summary, py::arg("seed_index"), py::arg("summary"))
      .def("write_config",
           [](Learner& l, const std::string& dir, const std::string& env_json) {
             Learner::write_config(dir, l.config(), nlohmann::json::parse(env_json));
           },
           py::arg("dir"), py::arg("env_json"),
           "Writes dir/config.json: the config with `env_json` as its \"env\".")
      .def("checkpoint", &Learner::checkpoint, py::arg("dir"), py::arg("env_json"))
      .def("restore", &Learner::restore, py::arg("dir"))
      .def("write_policy", &Learner::write_policy, py::arg("path"), py::arg("env_json"),
           py::arg("seed_index") = 0)
      .def(
          "run_policy_path", [](Learner& l, int k) { return l.seed_logs(k).policy(); },
          py::arg("seed_index"), "Where seed k's policy.safetensors goes in the open run directory.")
      .def("set_total_steps", &Learner::set_total_steps, py::arg("steps"))
      .def_property_readonly("steps", [](Learner& l) { return l.state().steps; })
      .def_property_readonly("updates", [](Learner& l) { return l.state().updates; })
      .def_property(
          "next_log", [](Learner& l) { return l.state().next_log; },
          [](Learner& l, int64_t v) { l.state().next_log = v; })
      .def_property(
          "next_eval", [](Learner& l) { return l.state().next_eval; },
          [](Learner& l, int64_t v) { l.state().next_eval = v; })
      .def_property(
          "wall_seconds", [](Learner& l) { return l.state().wall_seconds; },
          [](Learner& l, double v) { l.state().wall_seconds = v; })
      .def("record_episode",
           [](Learner& l, int k, double ret) {
             SeedProgress& p = l.state().seeds.at(k);
             p.recent_return_sum += ret, ++p.recent_episodes;
           },
           py::arg("seed_index"), py::arg("episode_return"),
           "Counts a finished training episode of seed k in the next metrics line.")
      .def("take_recent_returns",
           [](Learner& l, int k) {
             SeedProgress& p = l.state().seeds.at(k);
             auto r = py::make_tuple(p.recent_return_sum, p.recent_episodes);
             p.recent_return_sum = 0.0, p.recent_episodes = 0;
             return r;
           },
           py::arg("seed_index"),
           "(sum, count) of seed k's finished episodes since the last call, then zeroed.")
      .def("eval_returns",
           [](Learner& l, int k) {
             const SeedProgress& p = l.state().seeds.at(k);
             // one tuple type on both sides (pybind11 3 types make_tuple by its arguments)
             if (p.evaluated()) return py::tuple(py::make_tuple(p.final_eval, p.best_eval));
             return py::tuple(py::make_tuple(py::none(), py::none()));
           },
           py::arg("seed_index"), "(final, best) evaluation return of seed k, or Nones.")
      .def_property_readonly("config_json", &Learner::config_json)
      .def_property_readonly("device", &Learner::device)
      .def_property_readonly("num_seeds", &Learner::num_seeds)
      .def_property_readonly("envs_per_seed", &Learner::envs_per_seed)
      .def_property_readonly("owed", &Learner::owed)
      .def_property_readonly("replay_sizes", &Learner::replay_sizes);
}

}  // namespace sac::python
