// vec_env.cpp: `sac_engine._core.VecEnv`, the env pool (include/sac/env_pool.h) behind
// Gymnasium's vector-env calls. What step() and reset() return are numpy views of buffers that
// live as long as any view of them: made once, refilled in place by every step, read-only, so a
// step copies nothing into Python. Actions come in the task's bounds (Gymnasium's action space)
// and are mapped to the pool's [-1, 1] here; for power-of-two bounds such as [-1, 1] and [-2, 2]
// the pool applies exactly the float32 value given. Stepping releases the GIL. Episodes end with
// a same-step autoreset: obs holds the next episode's first observation and infos["final_obs"]
// the finished episode's last one (where infos["_final_obs"] is set); infos also holds the step's
// reward terms under Gymnasium's keys (float64, every env's). python/sac_engine/vec_env.py
// adds the spaces; python/tests/test_vec_env.py tests it.
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bindings.h"
#include "sac/env_pool.h"

namespace sac::python {
namespace {

// the pool and the module's own per-step buffers; every view handed out keeps it alive
struct PoolBuffers {
  std::unique_ptr<EnvPool> pool;
  std::vector<float> unit_actions;     // the step's actions mapped to [-1, 1]
  std::vector<uint8_t> done;           // terminated or truncated in the last step
  std::vector<double> episode_return;  // of the episode that ended in the last step, where done
  std::vector<int32_t> episode_length;
  std::vector<uint8_t> every_env;  // all 1: the mask of infos' reward terms (every env stepped)
  std::mutex mutex;  // one step or reset at a time
};

// seeds as `sac` takes them (--seed, train.seed): 0 to 2^53, exact in a double
constexpr int64_t kMaxSeed = (int64_t)1 << 53;

class VecEnv {
 public:
  VecEnv(const std::string& id, int64_t num_envs, int64_t threads, int64_t seed,
         const std::string& kwargs_json)
      : m_b(std::make_shared<PoolBuffers>()),
        m_seed((uint64_t)checked_int("seed", seed, 0, kMaxSeed)) {
    checked_int("num_envs", num_envs, 1, 65536);
    checked_int("threads", threads, 0, 1024);  // 0 = one per core
    m_b->pool = std::make_unique<EnvPool>(id, parse_kwargs(kwargs_json),
                                          seeded_envs({m_seed}, (int)num_envs), (int)threads);
    const int N = m_b->pool->size(), O = obs_dim(), A = act_dim();
    m_b->unit_actions.assign((size_t)N * A, 0.0f);
    m_b->done.assign(N, 0);
    m_b->episode_return.assign(N, 0.0);
    m_b->episode_length.assign(N, 0);
    m_b->every_env.assign(N, 1);

    EnvPool& p = *m_b->pool;
    m_obs = view(py::dtype::of<float>(), {N, O}, p.obs());
    m_final_obs = view(py::dtype::of<float>(), {N, O}, p.final_obs());
    m_reward = view(py::dtype::of<float>(), {N}, p.reward());
    m_terminated = view(py::dtype("bool"), {N}, p.terminated());  // uint8 0/1 read as bool
    m_truncated = view(py::dtype("bool"), {N}, p.truncated());
    m_done = view(py::dtype("bool"), {N}, m_b->done.data());
    m_episode_return = view(py::dtype::of<double>(), {N}, m_b->episode_return.data());
    m_episode_length = view(py::dtype::of<int32_t>(), {N}, m_b->episode_length.data());
    // term k of every env: column k of the pool's size() x max_reward_terms array
    m_every_env = view(py::dtype("bool"), {N}, m_b->every_env.data());
    const std::vector<std::string>& names = p.spec().reward_terms;
    for (size_t k = 0; k < names.size(); ++k)
      m_reward_terms.emplace_back(
          names[k], view(py::dtype::of<double>(), {N}, p.reward_terms() + k,
                         {(py::ssize_t)(StepResult::max_reward_terms * sizeof(double))}));
    // info values likewise: a scalar entry a column, an array entry N x length
    const auto row = (py::ssize_t)(StepResult::max_info_terms * sizeof(double));
    for (const InfoEntry& e : info_entries(p.spec().info_terms))
      m_info.emplace_back(
          e.name, e.array ? view(py::dtype::of<double>(), {N, e.length}, p.info() + e.first,
                                 {row, (py::ssize_t)sizeof(double)})
                          : view(py::dtype::of<double>(), {N}, p.info() + e.first, {row}));
  }

  /// Resets every env (reseeding env i with seed + i when `seed` is given) and returns (obs, {}).
  py::tuple reset(std::optional<int64_t> seed) {
    if (seed) checked_int("seed", *seed, 0, kMaxSeed);
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_b->mutex);
      EnvPool& p = *m_b->pool;
      if (seed) {
        m_seed = *seed;
        for (int i = 0; i < p.size(); ++i) p.rng(i) = HostRng(*seed + (uint64_t)i, 0);
      }
      p.reset();
      std::fill(m_b->done.begin(), m_b->done.end(), 0);
      m_reset = true;
    }
    return py::make_tuple(m_obs, py::dict());
  }

  /// Steps every env with `actions` (num_envs x act_dim, in the task's bounds).
  py::tuple step(py::handle actions) {
    if (!m_reset) throw std::runtime_error("VecEnv.step() called before reset()");
    const int N = num_envs(), A = act_dim();
    py::array_t<float> a = float_rows(actions, "actions", N, A, false);
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_b->mutex);
      EnvPool& p = *m_b->pool;
      const EnvSpec& s = p.spec();
      const float* x = a.data();
      // [low, high] -> [-1, 1]; the pool maps back (env_pool.h)
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < A; ++j) {
          double lo = s.action_low[j], hi = s.action_high[j];
          m_b->unit_actions[(size_t)i * A + j] =
              (float)(2.0 * ((double)x[(size_t)i * A + j] - lo) / (hi - lo) - 1.0);
        }
      p.step(m_b->unit_actions.data());
      // the finished episodes' totals, in env order as the pool lists them
      const std::vector<FinishedEpisode>& finished = p.finished();
      size_t k = 0;
      for (int i = 0; i < N; ++i) {
        bool d = p.terminated()[i] || p.truncated()[i];
        m_b->done[i] = d;
        m_b->episode_return[i] = d ? finished[k].ret : 0.0;
        m_b->episode_length[i] = d ? finished[k].length : 0;
        k += d;
      }
    }
    py::dict episode;
    episode["r"] = m_episode_return;
    episode["l"] = m_episode_length;
    py::dict infos;
    infos["final_obs"] = m_final_obs;
    infos["_final_obs"] = m_done;
    infos["episode"] = episode;
    infos["_episode"] = m_done;
    for (const auto& [name, values] : m_reward_terms) {
      infos[py::str(name)] = values;
      infos[py::str("_" + name)] = m_every_env;
    }
    for (const auto& [name, values] : m_info) {
      infos[py::str(name)] = values;
      infos[py::str("_" + name)] = m_every_env;
    }
    return py::make_tuple(m_obs, m_reward, m_terminated, m_truncated, infos);
  }

  int num_envs() const { return m_b->pool->size(); }
  int obs_dim() const { return m_b->pool->spec().obs_dim; }
  int act_dim() const { return m_b->pool->spec().act_dim; }
  const EnvSpec& spec() const { return m_b->pool->spec(); }
  int threads() const { return m_b->pool->threads(); }
  uint64_t seed() const { return m_seed; }
  int64_t unstable_episodes() const { return m_b->pool->unstable_episodes(); }

 private:
  // a read-only numpy view of `data` that keeps the buffers alive
  // (`strides` in bytes; empty: contiguous)
  py::array view(const py::dtype& dtype, std::vector<py::ssize_t> shape, const void* data,
                 std::vector<py::ssize_t> strides = {}) {
    auto* owner = new std::shared_ptr<PoolBuffers>(m_b);
    py::capsule base(owner, [](void* p) { delete static_cast<std::shared_ptr<PoolBuffers>*>(p); });
    py::array a(dtype, shape, strides, data, base);
    a.attr("setflags")(py::arg("write") = false);
    return a;
  }

  std::shared_ptr<PoolBuffers> m_b;
  uint64_t m_seed;
  bool m_reset = false;
  py::array m_obs, m_final_obs, m_reward, m_terminated, m_truncated, m_done;
  py::array m_episode_return, m_episode_length;
  py::array m_every_env;
  std::vector<std::pair<std::string, py::array>> m_reward_terms;  // name, view (every env's)
  std::vector<std::pair<std::string, py::array>> m_info;          // name, view (every env's)
};

}  // namespace

void bind_vec_env(py::module_& m) {
  py::class_<VecEnv>(m, "VecEnv", "The env pool as a vector env; see sac_engine.make_vec_env.")
      .def(py::init<const std::string&, int64_t, int64_t, int64_t, const std::string&>(),
           py::arg("env_id"), py::arg("num_envs"), py::arg("threads"), py::arg("seed"),
           py::arg("kwargs_json") = "{}")
      .def("reset", &VecEnv::reset, py::arg("seed") = py::none(),
           "Resets every env (env i reseeded with seed + i when seed is given); returns (obs, {}).")
      .def("step", &VecEnv::step, py::arg("actions"),
           "Steps every env; returns (obs, rewards, terminations, truncations, infos).")
      .def_property_readonly("num_envs", &VecEnv::num_envs)
      .def_property_readonly("obs_dim", &VecEnv::obs_dim)
      .def_property_readonly("act_dim", &VecEnv::act_dim)
      .def_property_readonly("env_id", [](const VecEnv& e) { return e.spec().id; })
      .def_property_readonly("action_low", [](const VecEnv& e) { return e.spec().action_low; })
      .def_property_readonly("action_high", [](const VecEnv& e) { return e.spec().action_high; })
      .def_property_readonly("max_episode_steps",
                             [](const VecEnv& e) { return e.spec().max_episode_steps; })
      .def_property_readonly("threads", &VecEnv::threads)
      .def_property_readonly("seed", &VecEnv::seed)
      .def_property_readonly("unstable_episodes", &VecEnv::unstable_episodes);
}

}  // namespace sac::python
