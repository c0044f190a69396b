// bindings.h: the pieces of the `sac_engine._core` extension module (module.cpp puts them
// together) and the array checks they share. Each bind_* adds one concept's classes and
// functions to the module.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sac::python {

namespace py = pybind11;

/// VecEnv: the env pool as a Gymnasium-style vector env (vec_env.cpp).
void bind_vec_env(py::module_& m);
/// Policy: a policy file loaded with the loader `sac eval` uses, acting on numpy arrays
/// (policy.cpp).
void bind_policy(py::module_& m);
/// Task: one task instance stepped in double precision, with state access (task.cpp); env_ids().
void bind_task(py::module_& m);
/// train(): exactly what `sac train` runs, returning its summary (train.cpp).
void bind_train(py::module_& m);
/// Learner: the agent, replay rings and trainer state behind sac_engine.SAC, for envs that
/// step in Python (learner.cpp); resolve_config(), config_key_names().
void bind_learner(py::module_& m);

/// Raises FileNotFoundError (errno ENOENT, filename `path`) naming `what` when `path` does not
/// exist, as open() would; other problems with the file are left to the loader (ValueError).
void require_existing_file(const std::string& path, const std::string& what);

/// One entry of Gymnasium's `info` (EnvSpec::info_terms): a scalar, or an array whose elements
/// the spec names "name[0]", "name[1]", ...: `length` values from index `first`.
struct InfoEntry {
  std::string name;
  int first = 0, length = 1;
  bool array = false;
};

/// The info_terms of a spec grouped into entries, in order (task.cpp).
std::vector<InfoEntry> info_entries(const std::vector<std::string>& info_terms);

/// A task's keyword arguments from JSON object text (task.cpp); ValueError when it is not one.
nlohmann::json parse_kwargs(const std::string& kwargs_json);

/// `value` checked to lie in [lo, hi]; raises ValueError "NAME must be an integer in [lo, hi],
/// got VALUE" (one line, the form `sac` gives its options) otherwise.
int64_t checked_int(const char* name, int64_t value, int64_t lo, int64_t hi);

/// `value` as a C-contiguous float32 array of shape (rows, cols), or of shape (cols,) when
/// `allow_single` (a single row). Raises ValueError naming `what` when it is not an array of
/// numbers, has another shape, or holds a NaN or an infinity. `rows` < 0 accepts any row count.
/// Converts other numeric dtypes (a copy); a float32 C-contiguous array is used as it is.
py::array_t<float> float_rows(py::handle value, const char* what, int rows, int cols,
                              bool allow_single);

}  // namespace sac::python
