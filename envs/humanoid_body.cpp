// humanoid_body.cpp: the observation, costs and tendon info both humanoid tasks share
// (humanoid_body.h).
#include "humanoid_body.h"

#include <algorithm>

#include "tasks.h"

namespace sac {

HumanoidObservation::HumanoidObservation(const TaskKwargs& k)
    : skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 2 : 0),
      cinert(k.boolean("include_cinert_in_observation")),
      cvel(k.boolean("include_cvel_in_observation")),
      qfrc_actuator(k.boolean("include_qfrc_actuator_in_observation")),
      cfrc_ext(k.boolean("include_cfrc_ext_in_observation")) {}

int HumanoidObservation::size(const mjModel* m) const {
  const int bodies = m->nbody - 1;
  return m->nq - skipped_qpos + m->nv + (cinert ? 10 * bodies : 0) + (cvel ? 6 * bodies : 0) +
         (qfrc_actuator ? m->nv - 6 : 0) + (cfrc_ext ? 6 * bodies : 0);
}

void HumanoidObservation::write(const mjModel* m, const mjData* d, double* obs) const {
  int k = 0;
  for (int i = skipped_qpos; i < m->nq; ++i) obs[k++] = d->qpos[i];
  for (int i = 0; i < m->nv; ++i) obs[k++] = d->qvel[i];
  if (cinert)
    for (int i = 10; i < 10 * m->nbody; ++i) obs[k++] = d->cinert[i];
  if (cvel)
    for (int i = 6; i < 6 * m->nbody; ++i) obs[k++] = d->cvel[i];
  if (qfrc_actuator)
    for (int i = 6; i < m->nv; ++i) obs[k++] = d->qfrc_actuator[i];
  if (cfrc_ext)
    for (int i = 6; i < 6 * m->nbody; ++i) obs[k++] = d->cfrc_ext[i];
}

std::vector<TaskKwarg> humanoid_observation_kwargs() {
  return {exclude_positions_kwarg(2),
          flag_kwarg("include_cinert_in_observation", true,
                     "append the bodies' com-based inertias (cinert, world excluded)"),
          flag_kwarg("include_cvel_in_observation", true,
                     "append the bodies' com-based velocities (cvel, world excluded)"),
          flag_kwarg("include_qfrc_actuator_in_observation", true,
                     "append the actuator forces (qfrc_actuator, free joint excluded)"),
          flag_kwarg("include_cfrc_ext_in_observation", true,
                     "append the external contact forces (cfrc_ext, world excluded)")};
}

double clipped_contact_cost(const mjModel* m, const mjData* d, double weight,
                            const std::pair<double, double>& range) {
  double contact_sq = 0.0;
  for (int i = 0; i < 6 * m->nbody; ++i) contact_sq += d->cfrc_ext[i] * d->cfrc_ext[i];
  return std::min(std::max(weight * contact_sq, range.first), range.second);
}

double squared_control(const mjModel* m, const mjData* d) {
  double ctrl_sq = 0.0;
  for (int i = 0; i < m->nu; ++i) ctrl_sq += d->ctrl[i] * d->ctrl[i];
  return ctrl_sq;
}

void add_tendon_info_terms(const mjModel* m, std::vector<std::string>& names) {
  for (const char* name : {"tendon_length", "tendon_velocity"})
    for (int t = 0; t < m->ntendon; ++t)
      names.push_back(std::string(name) + "[" + std::to_string(t) + "]");
}

int write_tendon_info(const mjModel* m, const mjData* d, double* info) {
  int k = 0;
  for (int t = 0; t < m->ntendon; ++t) info[k++] = d->ten_length[t];
  for (int t = 0; t < m->ntendon; ++t) info[k++] = d->ten_velocity[t];
  return k;
}

}  // namespace sac
