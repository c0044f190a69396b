// arrays.cpp: float_rows(), the check every array handed to the module goes through (actions
// for VecEnv.step, observations for Policy.act), so a bad input is one clear ValueError and
// never reaches the engine.
#include <cmath>
#include <stdexcept>
#include <string>

#include "bindings.h"

namespace sac::python {
namespace {

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

}  // namespace

py::array_t<float> float_rows(py::handle value, const char* what, int rows, int cols,
                              bool allow_single) {
  // any array-like, as numpy sees it; only integer and floating dtypes hold meaningful values
  py::array a = py::array::ensure(value);
  if (!a) {
    PyErr_Clear();
    throw py::value_error(std::string(what) + " must be an array of numbers, got " +
                          std::string(py::str(py::type::of(value).attr("__name__"))));
  }
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::value_error(std::string(what) + " must hold numbers (float or int), got dtype " +
                          std::string(py::str(a.dtype())));
  const std::string want = rows >= 0
                               ? "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"
                               : "(n, " + std::to_string(cols) + ")";
  bool ok = a.ndim() == 2 && a.shape(1) == cols && (rows < 0 || a.shape(0) == rows);
  if (allow_single && a.ndim() == 1 && a.shape(0) == cols) ok = true;
  if (!ok)
    throw py::value_error(std::string(what) + " must have shape " + want +
                          (allow_single ? " or (" + std::to_string(cols) + ",)" : std::string()) +
                          ", got " + shape_text(a));
  auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!f) throw py::error_already_set();
  const float* p = f.data();
  const py::ssize_t n = f.size();
  for (py::ssize_t k = 0; k < n; ++k)
    if (!std::isfinite(p[k])) {
      std::string where =
          f.ndim() == 2 ? "[" + std::to_string(k / cols) + ", " + std::to_string(k % cols) + "]"
                        : "[" + std::to_string(k) + "]";
      throw py::value_error(std::string(what) + where + " is " + std::to_string(p[k]) +
                            " as float32: every value must be finite");
    }
  return f;
}

}  // namespace sac::python
