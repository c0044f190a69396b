// mujoco_env.h: the MuJoCo side of the tasks that is not public API: the per-process model
// cache and MuJoCo's error and warning handlers. MujocoEnv, the base of the MuJoCo tasks, is
// public (include/sac/mujoco_env.h).
// Tested by tests/test_mujoco_envs.cpp (`sac_tests --gtest_filter='Mujoco*'`).
#pragma once
#include <mujoco/mujoco.h>

#include <memory>
#include <string>

#include "sac/mujoco_env.h"

namespace sac {

/// Loads `file` (a path) once per process and returns the shared read-only model; later calls
/// with the same path return the same model. Thread-safe. Throws std::runtime_error naming the
/// path and MuJoCo's error text when the file does not load.
std::shared_ptr<const mjModel> load_mujoco_model(const std::string& file);

/// The model of task file `name` (e.g. "hopper.xml"), once per process: read from
/// $SAC_MODEL_DIR when that is set (edited models without a rebuild), else the copy compiled into
/// the library (embedded_models.h), so an installed library needs no model files at run time.
std::shared_ptr<const mjModel> load_task_model(const std::string& name);

/// Installs the process-wide MuJoCo error and warning handlers (once; later calls do nothing).
/// Errors then throw std::runtime_error instead of exiting the process; warnings are printed to
/// stderr (the first few only).
void install_mujoco_handlers();

}  // namespace sac
