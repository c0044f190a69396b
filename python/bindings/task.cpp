// task.cpp: `sac_engine._core.Task`, one instance of a task (make_env, include/sac/env.h) stepped
// directly in double precision, without the pool's time limit, autoreset or float32 buffers: the
// body of the Gymnasium env sac_engine/<Task>-v5 (python/sac_engine/gym.py), whose observations
// are float64 like Gymnasium's own tasks. get_state/set_state reach MuJoCo's qpos and qvel
// (set_state runs mj_forward, as Gymnasium's MujocoEnv.set_state does), so tests can step ours
// and Gymnasium's from the same state (tests/pypi/test_conformance.py). Reset noise for seed S is
// what the pool's env seeded S draws. step() also returns the reward's terms by name (Gymnasium's
// v5 `info` keys), as the task computed them. Keyword arguments (Gymnasium's v5 names) come as
// JSON object text (gym.py encodes them).
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "mujoco_env.h"
#include "sac/env.h"
#include "sac/plugin.h"

namespace sac::python {
namespace {

// `value` as `n` finite doubles (any numeric array of n elements); ValueError naming `what`
std::vector<double> doubles(py::handle value, const char* what, int n) {
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(value);
  if (!a) {
    PyErr_Clear();
    throw py::value_error(std::string(what) + " must be an array of numbers");
  }
  if (a.size() != n || a.ndim() != 1)
    throw py::value_error(std::string(what) + " must have shape (" + std::to_string(n) + ",)");
  std::vector<double> out(a.data(), a.data() + n);
  for (int k = 0; k < n; ++k)
    if (!std::isfinite(out[k]))
      throw py::value_error(std::string(what) + "[" + std::to_string(k) +
                            "] is not finite: every value must be finite");
  return out;
}

}  // namespace

std::vector<InfoEntry> info_entries(const std::vector<std::string>& info_terms) {
  std::vector<InfoEntry> entries;
  for (int k = 0; k < (int)info_terms.size(); ++k) {
    const std::string& term = info_terms[k];
    size_t bracket = term.find('[');
    std::string name = term.substr(0, bracket);
    if (bracket != std::string::npos && !entries.empty() && entries.back().array &&
        entries.back().name == name) {
      ++entries.back().length;
      continue;
    }
    entries.push_back({name, k, 1, bracket != std::string::npos});
  }
  return entries;
}

nlohmann::json parse_kwargs(const std::string& kwargs_json) {
  nlohmann::json kwargs = nlohmann::json::parse(kwargs_json, nullptr, false);
  if (kwargs.is_discarded() || !kwargs.is_object())
    throw py::value_error("keyword arguments must be a JSON object, got " + kwargs_json);
  return kwargs;
}

namespace {

class Task {
 public:
  Task(const std::string& id, const std::string& kwargs_json)
      : m_env(make_env(id, parse_kwargs(kwargs_json))), m_rng(0, 0) {
    m_mujoco = dynamic_cast<MujocoEnv*>(m_env.get());
  }

  /// Resets with the noise of a fresh generator seeded `seed` (when given), else the next draws
  /// of the current one; returns the first observation.
  py::array_t<double> reset(std::optional<uint64_t> seed) {
    if (seed) m_rng = HostRng(*seed, 0);
    py::array_t<double> obs(spec().obs_dim);
    m_env->reset(m_rng, obs.mutable_data());
    m_reset = true;
    return obs;
  }

  /// One step with `action` (act_dim values in the task's bounds, not clipped): returns
  /// (obs, reward, terminated, unstable, terms), terms a dict of the reward's terms by name.
  py::tuple step(py::handle action) {
    if (!m_reset) throw std::runtime_error("Task.step() called before reset()");
    std::vector<double> a = doubles(action, "action", spec().act_dim);
    py::array_t<double> obs(spec().obs_dim);
    StepResult r = m_env->step(a.data(), obs.mutable_data());
    py::dict terms;
    const std::vector<std::string>& names = spec().reward_terms;
    for (size_t k = 0; k < names.size(); ++k) terms[py::str(names[k])] = r.reward_terms[k];
    m_info = r.info;
    return py::make_tuple(obs, r.reward, r.terminated, r.unstable, terms);
  }

  /// Gymnasium's other `info` values of the last step (positions, velocities, tendons) by name:
  /// floats, and numpy arrays for array entries.
  py::dict info() const {
    py::dict out;
    for (const InfoEntry& e : info_entries(spec().info_terms)) {
      if (!e.array) {
        out[py::str(e.name)] = m_info[e.first];
        continue;
      }
      py::array_t<double> values(e.length);
      for (int j = 0; j < e.length; ++j) values.mutable_data()[j] = m_info[e.first + j];
      out[py::str(e.name)] = values;
    }
    return out;
  }

  /// (qpos, qvel) of the physics, copies.
  py::tuple get_state() const {
    py::array_t<double> qpos(m_env->nq()), qvel(m_env->nv());
    m_env->get_state(qpos.mutable_data(), qvel.mutable_data());
    return py::make_tuple(qpos, qvel);
  }

  /// Sets qpos and qvel and runs mj_forward (MuJoCo tasks only).
  void set_state(py::handle qpos, py::handle qvel) {
    if (!m_mujoco) throw py::value_error(spec().id + " has no MuJoCo state to set");
    std::vector<double> q = doubles(qpos, "qpos", m_env->nq());
    std::vector<double> v = doubles(qvel, "qvel", m_env->nv());
    m_mujoco->set_state(q.data(), v.data());
    m_reset = true;
  }

  const EnvSpec& spec() const { return m_env->spec(); }
  int nq() const { return m_env->nq(); }
  int nv() const { return m_env->nv(); }
  double dt() const { return m_mujoco ? m_mujoco->dt() : 0.0; }

 private:
  std::unique_ptr<Env> m_env;
  MujocoEnv* m_mujoco = nullptr;  // null for tasks without MuJoCo (Pendulum-v1)
  HostRng m_rng;
  bool m_reset = false;
  std::array<double, StepResult::max_info_terms> m_info{};
};

}  // namespace

void bind_task(py::module_& m) {
  py::class_<Task>(m, "Task", "One instance of a task, stepped in double precision.")
      .def(py::init<const std::string&, const std::string&>(), py::arg("env_id"),
           py::arg("kwargs_json") = "{}")
      .def("reset", &Task::reset, py::arg("seed") = py::none(),
           "Resets (a fresh noise generator seeded `seed` when given); returns the observation.")
      .def("step", &Task::step, py::arg("action"),
           "One step; returns (obs, reward, terminated, unstable, terms): terms maps each "
           "reward term's name (Gymnasium's info key) to its value; reward is their sum.")
      .def("info", &Task::info,
           "Gymnasium's other info values of the last step (x_position, x_velocity, ...).")
      .def_property_readonly("info_terms", [](const Task& t) { return t.spec().info_terms; })
      .def("get_state", &Task::get_state, "(qpos, qvel) copies.")
      .def("set_state", &Task::set_state, py::arg("qpos"), py::arg("qvel"),
           "Sets qpos and qvel, then mj_forward (as Gymnasium's set_state).")
      .def_property_readonly("env_id", [](const Task& t) { return t.spec().id; })
      .def_property_readonly("obs_dim", [](const Task& t) { return t.spec().obs_dim; })
      .def_property_readonly("act_dim", [](const Task& t) { return t.spec().act_dim; })
      .def_property_readonly("action_low", [](const Task& t) { return t.spec().action_low; })
      .def_property_readonly("action_high", [](const Task& t) { return t.spec().action_high; })
      .def_property_readonly("max_episode_steps",
                             [](const Task& t) { return t.spec().max_episode_steps; })
      .def_property_readonly(
          "reward_terms", [](const Task& t) { return t.spec().reward_terms; },
          "Names of the reward terms step() reports, in summation order.")
      .def_property_readonly("nq", &Task::nq)
      .def_property_readonly("nv", &Task::nv)
      .def_property_readonly("dt", &Task::dt);
  m.def("env_ids", &env_ids, "Every task id, in a stable order.");
  m.def("load_plugin", &load_plugin, py::arg("path"),
        "Loads the task plugin (a shared library, sac/plugin.h) at `path` and returns the ids "
        "it registered; a library loaded before returns its ids again. InputError (a ValueError) "
        "naming the path and the reason when it is refused.");
  m.def("mujoco_version", &mujoco_version,
        "The version of the MuJoCo library the tasks step on (e.g. '4.0.1').");
}

}  // namespace sac::python
