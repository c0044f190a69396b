// module.cpp: the `sac_engine._core` extension module (built by cmake/python_module.cmake);
// `import sac_engine` (python/sac_engine/) loads it and adds the Python-side pieces.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "bindings.h"
#include "sac/config.h"
#include "sac/errors.h"

namespace sac::python {

void require_existing_file(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 || errno != ENOENT) return;
  const int err = errno;
  std::string message = "cannot read " + what + " '" + path + "': " + std::strerror(err);
  PyErr_SetObject(PyExc_FileNotFoundError, py::make_tuple(err, message, path).ptr());
  throw py::error_already_set();
}

int64_t checked_int(const char* name, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi)
    throw py::value_error(std::string(name) + " must be an integer in [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "], got " + std::to_string(value));
  return value;
}

}  // namespace sac::python

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "sac-engine's envs, policies and trainer (C++), wrapped by the sac_engine package";
  // pybind11 before 2.12 reads numpy 1's array descriptors only: __init__.py refuses numpy 2 then
  m.attr("_pybind11_version") = py::make_tuple(PYBIND11_VERSION_MAJOR, PYBIND11_VERSION_MINOR);
  // bad input (a corrupt or wrong file, a bad setting) is a ValueError with the message `sac`
  // prints after "sac: error: "; ConfigError is registered last, so its translator runs first
  auto& input_error =
      pybind11::register_exception<sac::InputError>(m, "InputError", PyExc_ValueError);
  pybind11::register_exception<sac::ConfigError>(m, "ConfigError", input_error.ptr());
  sac::python::bind_vec_env(m);
  sac::python::bind_policy(m);
  sac::python::bind_task(m);
  sac::python::bind_train(m);
  sac::python::bind_learner(m);
}
