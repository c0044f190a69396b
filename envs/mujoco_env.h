// mujoco_env.h: the MuJoCo side of the tasks that is not public API: the per-process model
// cache, MuJoCo's error and warning handlers and reset_mujoco_data(), mj_resetData without
// clearing the 3 MB that need no clearing (tests/test_mujoco_reset.cpp). MujocoEnv, the base of
// the MuJoCo tasks, is public (include/sac/mujoco_env.h).
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

/// Puts `d` in the state mj_resetData(m, d) (MuJoCo 2.2.2) leaves it in, without mj_resetData's
/// cost: mj_resetData clears the whole mjData buffer (about 3.2 MB here, 3 MB of it the
/// njmax x njmax arrays efc_AR and efc_AR_colind), which for a short episode costs more than the
/// physics. This sets the header fields as mj_resetData does (stack pointer, memory statistics,
/// warning/timer/solver statistics, ne/nf/nefc/ncon, time, energy), zeroes every buffer array
/// except those two, zeroes the part of those two the constraints used since the last reset
/// (the leading maxuse_efc^2 entries: MuJoCo stores them nefc x nefc, row stride nefc), and sets
/// qpos = qpos0 and the mocap poses. The buffer then equals mj_resetData's byte for byte, so every
/// trajectory is unchanged (tests/test_mujoco_reset.cpp checks both for every task). Like
/// mj_resetData in 2.2.2 it leaves the scratch stack as it is.
void reset_mujoco_data(const mjModel* m, mjData* d);

}  // namespace sac
