// module.cpp: the `sac_engine._core` extension module (built by cmake/python_module.cmake);
// `import sac_engine` (python/sac_engine/) loads it and adds the Python-side pieces.
#include "bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "sac-engine's envs, policies and trainer (C++), wrapped by the sac_engine package";
  // pybind11 before 2.12 reads numpy 1's array descriptors only: __init__.py refuses numpy 2 then
  m.attr("_pybind11_version") = py::make_tuple(PYBIND11_VERSION_MAJOR, PYBIND11_VERSION_MINOR);
  sac::python::bind_vec_env(m);
  sac::python::bind_policy(m);
  sac::python::bind_task(m);
  sac::python::bind_train(m);
}
