// module.cpp: the `sac_engine._core` extension module (built by cmake/python_module.cmake);
// `import sac_engine` (python/sac_engine/) loads it and adds the Python-side pieces.
#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "sac-engine's envs, policies and trainer (C++), wrapped by the sac_engine package";
  sac::python::bind_vec_env(m);
  sac::python::bind_policy(m);
  sac::python::bind_train(m);
}
