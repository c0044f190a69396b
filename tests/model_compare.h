// model_compare.h: test helpers shared by the MuJoCo test files (test_mujoco_envs.cpp,
// test_mujoco_tasks.cpp): where the reference (Gymnasium) model files live, owning pointers for
// test-loaded models and data, a tolerance check, and compare_models, which visits every mjModel
// size, option and array (mjxmacro.h) and lists the mismatches between two compiled models.
// The reference folder is $SAC_REFERENCE_MODELS, else SAC_SOURCE_DIR/../shared/mujoco/models;
// equivalence tests skip when it does not exist.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <type_traits>
#include <vector>

#include <mujoco/mjxmacro.h>
#include <mujoco/mujoco.h>

namespace sac {
namespace mjtest {

// folder of the reference (Gymnasium) model files.
inline std::string reference_model_dir() {
  if (const char* dir = std::getenv("SAC_REFERENCE_MODELS")) return dir;
  return std::string(SAC_SOURCE_DIR) + "/../shared/mujoco/models";
}

inline bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// a model owned by the test, loaded independently of the env's cache.
struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

inline ModelPtr load_model_or_fail(const std::string& path) {
  char error[1000] = "";
  ModelPtr m(mj_loadXML(path.c_str(), nullptr, error, sizeof(error)));
  EXPECT_TRUE(m) << "cannot load " << path << ": " << error;
  return m;
}

// |a - b| <= atol + rtol * max(|a|, |b|); exact for non-finite values.
inline bool close(double a, double b, double rtol = 1e-9, double atol = 1e-12) {
  if (!std::isfinite(a) || !std::isfinite(b)) return a == b || (std::isnan(a) && std::isnan(b));
  return std::fabs(a - b) <= atol + rtol * std::max(std::fabs(a), std::fabs(b));
}

// every mjModel size, option and array (mjxmacro.h), compared element by element. Returns one
// line per mismatch; an empty result means equivalent.
inline std::vector<std::string> compare_models(const mjModel* a, const mjModel* b, int* fields_compared) {
  std::vector<std::string> diffs;
  int fields = 0;
  auto report = [&diffs](const std::string& what, double x, double y) {
    std::ostringstream s;
    s.precision(17);
    s << what << ": ours " << x << " vs reference " << y;
    diffs.push_back(s.str());
  };

  // sizes
#define X(name)                                                  \
  ++fields;                                                      \
  if (a->name != b->name) report(#name, a->name, b->name);
  MJMODEL_SIZES
#undef X
  // arrays are only comparable when every size agrees
  if (!diffs.empty()) {
    if (fields_compared) *fields_compared = fields;
    return diffs;
  }

  // physics options (scalars and vectors)
#define X(type, name, n)                                                              \
  ++fields;                                                                           \
  if (!close((double)a->opt.name, (double)b->opt.name))                               \
    report("opt." #name, (double)a->opt.name, (double)b->opt.name);
#define XVEC(type, name, n)                                                    \
  ++fields;                                                                    \
  for (int i = 0; i < n; ++i)                                                  \
    if (!close(a->opt.name[i], b->opt.name[i]))                                \
      report("opt." #name "[" + std::to_string(i) + "]", a->opt.name[i], b->opt.name[i]);
  MJOPTION_FIELDS
#undef X
#undef XVEC

  // model statistics, and the visual settings that carry values from the files
#define X(name, n)                                                                        \
  ++fields;                                                                               \
  if (!close(a->stat.name, b->stat.name)) report("stat." #name, a->stat.name, b->stat.name);
#define XVEC(name, n)                                                          \
  ++fields;                                                                    \
  for (int i = 0; i < n; ++i)                                                  \
    if (!close(a->stat.name[i], b->stat.name[i]))                              \
      report("stat." #name "[" + std::to_string(i) + "]", a->stat.name[i], b->stat.name[i]);
  MJSTATISTIC_FIELDS
#undef X
#undef XVEC
  fields += 2;
  if (!close(a->vis.map.znear, b->vis.map.znear))
    report("vis.map.znear", a->vis.map.znear, b->vis.map.znear);
  if (!close(a->vis.map.zfar, b->vis.map.zfar))
    report("vis.map.zfar", a->vis.map.zfar, b->vis.map.zfar);

  // arrays: exact for integers, bytes and names; relative tolerance for reals
  {
    MJMODEL_POINTERS_PREAMBLE(a)
    (void)nuser_body; (void)nuser_jnt; (void)nuser_geom; (void)nuser_site; (void)nuser_cam;
    (void)nuser_tendon; (void)nuser_actuator; (void)nuser_sensor; (void)nq; (void)nv; (void)na;
    (void)nu; (void)nmocap; (void)nplastic;
#define XNV X
#define X(type, name, rows, cols)                                                          \
  {                                                                                        \
    ++fields;                                                                              \
    long n = (long)a->rows * (long)(cols);                                                 \
    long nb = (long)b->rows * (long)(cols);                                                \
    if (n != nb) {                                                                         \
      report(#name " (size)", (double)n, (double)nb);                                      \
    } else {                                                                               \
      int shown = 0;                                                                       \
      for (long i = 0; i < n; ++i) {                                                       \
        double x = (double)a->name[i], y = (double)b->name[i];                             \
        bool same = std::is_floating_point<type>::value ? close(x, y) : x == y;            \
        if (!same && shown++ < 3) report(#name "[" + std::to_string(i) + "]", x, y);       \
      }                                                                                    \
    }                                                                                      \
  }
    MJMODEL_POINTERS
#undef X
#undef XNV
  }
  if (fields_compared) *fields_compared = fields;
  return diffs;
}

}  // namespace mjtest
}  // namespace sac
