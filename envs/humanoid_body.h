// humanoid_body.h: what Gymnasium's two humanoid tasks, Humanoid-v5 and HumanoidStandup-v5,
// share: the observation (qpos without x and y, qvel, then the bodies' cinert, cvel, the actuator
// forces and cfrc_ext, each switchable by a keyword argument, world body and free joint left
// out), the clipped cost of the external contact forces, the squared control, and the tendons'
// info values. Each task keeps its own reward, termination and the rest of its info.
// Tested through both tasks' conformance with Gymnasium (tests/pypi/test_gymnasium.py) and
// `sac_tests --gtest_filter='Mujoco*'`.
#pragma once
#include <mujoco/mujoco.h>

#include <string>
#include <utility>
#include <vector>

#include "sac/task.h"

namespace sac {

/// The observation both humanoid tasks build, as their keyword arguments set it.
struct HumanoidObservation {
  /// From exclude_current_positions_from_observation and the four include_*_in_observation.
  explicit HumanoidObservation(const TaskKwargs& k);

  /// Its size for model `m`.
  int size(const mjModel* m) const;

  /// Writes it from `d` to `obs` (size() doubles).
  void write(const mjModel* m, const mjData* d, double* obs) const;

  int skipped_qpos;  // 2 without x and y, else 0
  bool cinert, cvel, qfrc_actuator, cfrc_ext;
};

/// The keyword arguments HumanoidObservation reads, in the order both tasks list them.
std::vector<TaskKwarg> humanoid_observation_kwargs();

/// weight * sum of the squared external contact forces (cfrc_ext), clipped to `range`.
double clipped_contact_cost(const mjModel* m, const mjData* d, double weight,
                            const std::pair<double, double>& range);

/// Sum of the squared controls as written (ctrl, the unclipped action).
double squared_control(const mjModel* m, const mjData* d);

/// Appends the info names of the tendons' lengths, then velocities ("tendon_length[0]", ...).
void add_tendon_info_terms(const mjModel* m, std::vector<std::string>& names);

/// Writes the tendons' lengths, then velocities, to `info`; returns how many it wrote.
int write_tendon_info(const mjModel* m, const mjData* d, double* info);

}  // namespace sac
