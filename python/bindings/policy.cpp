// policy.cpp: `sac_engine._core.Policy`, a trained actor loaded from policy.safetensors (or a
// checkpoint) by load_policy(), the loader `sac eval` and `sac rollout --policy` use, so the
// same file gives the same actions here: tanh of the mean (deterministic) or a tanh-Gaussian
// sample, mapped from [-1, 1] to the task's bounds exactly as the env pool maps them. Acting
// releases the GIL. Tested by python/tests/test_policy.py against `sac rollout --policy` and
// `sac eval`.
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "formats/python_env.h"
#include "sac/backend.h"
#include "sac/trainer.h"

namespace sac::python {
namespace {

class Policy {
 public:
  Policy(const std::string& path, const std::string& device, int max_batch)
      : m_path(path), m_max_batch(max_batch) {
    if (max_batch < 1) throw py::value_error("max_batch must be >= 1");
    if (device != "auto" && device != "cpu" && device != "cuda")
      throw py::value_error("device must be auto, cpu or cuda, got '" + device + "'");
    require_existing_file(path, "policy file");
    m_policy = load_policy(path, device, max_batch);
    const EnvSpec& s = m_policy.env_spec;
    m_spec = m_policy.env_spec;
    m_d_obs = DeviceArray<float>(*m_policy.backend, (size_t)max_batch * s.obs_dim);
    m_d_act = DeviceArray<float>(*m_policy.backend, (size_t)max_batch * s.act_dim);
    m_unit.resize((size_t)max_batch * s.act_dim);
  }

  /// Actions in the task's bounds for `obs` (n x obs_dim, or one observation of obs_dim).
  py::array_t<float> act(py::handle obs, bool deterministic) {
    const int O = m_spec.obs_dim, A = m_spec.act_dim;
    py::array_t<float> o = float_rows(obs, "obs", -1, O, true);
    const bool single = o.ndim() == 1;
    const int n = single ? 1 : (int)o.shape(0);
    if (n > m_max_batch)
      throw py::value_error("obs holds " + std::to_string(n) + " rows, more than this policy's " +
                            "max_batch of " + std::to_string(m_max_batch) +
                            " (Policy.load(path, max_batch=...))");
    py::array_t<float> out = single ? py::array_t<float>({(py::ssize_t)A})
                                    : py::array_t<float>({(py::ssize_t)n, (py::ssize_t)A});
    if (n == 0) return out;
    const float* src = o.data();
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(m_mutex);
      m_d_obs.upload(src, (size_t)n * O);
      m_policy.policy->act(n, m_d_obs.data(), deterministic, m_d_act.data());
      m_d_act.download(m_unit.data(), (size_t)n * A);
      // [-1, 1] -> [low, high], as the env pool and `sac rollout` map them
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < A; ++j) {
          double lo = m_spec.action_low[j], hi = m_spec.action_high[j];
          dst[(size_t)i * A + j] =
              (float)(lo + 0.5 * ((double)m_unit[(size_t)i * A + j] + 1.0) * (hi - lo));
        }
    }
    return out;
  }

  const std::string& path() const { return m_path; }
  const EnvSpec& spec() const { return m_spec; }
  int max_batch() const { return m_max_batch; }
  std::string device() const { return m_policy.backend->name(); }
  std::string config_json() const {
    return m_policy.python_env.empty()
               ? m_policy.config.to_json().dump()
               : config_text_with_python_env(m_policy.config, m_policy.python_env);
  }

 private:
  std::string m_path;
  int m_max_batch;
  LoadedPolicy m_policy;
  EnvSpec m_spec;
  DeviceArray<float> m_d_obs, m_d_act;
  std::vector<float> m_unit;
  std::mutex m_mutex;
};

}  // namespace

void bind_policy(py::module_& m) {
  py::class_<Policy>(m, "Policy", "A trained actor loaded from policy.safetensors or a checkpoint.")
      .def_static(
          "load",
          [](const std::string& path, const std::string& device, int max_batch) {
            return std::make_unique<Policy>(path, device, max_batch);
          },
          py::arg("path"), py::arg("device") = "cpu", py::arg("max_batch") = 1024,
          "Loads a policy file (or checkpoint) with the loader `sac eval` uses; act() takes up to "
          "max_batch observations at once.")
      .def("act", &Policy::act, py::arg("obs"), py::arg("deterministic") = true,
           "Actions in the task's bounds, float32: (n, act_dim) for obs of (n, obs_dim), "
           "(act_dim,) for one observation. deterministic: tanh of the mean, else a sample.")
      .def_property_readonly("path", &Policy::path)
      .def_property_readonly("env_id", [](const Policy& p) { return p.spec().id; })
      .def_property_readonly("obs_dim", [](const Policy& p) { return p.spec().obs_dim; })
      .def_property_readonly("act_dim", [](const Policy& p) { return p.spec().act_dim; })
      .def_property_readonly("action_low", [](const Policy& p) { return p.spec().action_low; })
      .def_property_readonly("action_high", [](const Policy& p) { return p.spec().action_high; })
      .def_property_readonly("max_batch", &Policy::max_batch)
      .def_property_readonly("device", &Policy::device)
      .def_property_readonly("config_json", &Policy::config_json,
                             "The resolved config the policy was trained with, as JSON text.");
}

}  // namespace sac::python
