// batch_stepper.cpp: MjBatchStepper (see batch_stepper.h): the persistent mjBatch of a pool's
// envs, controls written into its state rows, mjb_step, and the task's code run through mjb_apply.
#include "batch_stepper.h"

#include <stdexcept>
#include <string>

#include "sac/errors.h"

namespace sac {

MjBatchStepper::MjBatchStepper(const std::vector<MujocoEnv*>& envs, int threads) : m_envs(envs) {
  if (m_envs.empty()) throw std::invalid_argument("a MuJoCo batch needs at least one env");
  const MujocoEnv& first = *m_envs[0];
  const std::string& id = first.spec().id;
  // the task's code runs around the batch's physics only when it is written in parts
  if (!first.splits_step())
    throw InputError("task " + id +
                     " does not split its step into before_physics() and "
                     "after_physics() (sac/mujoco_env.h), which the mjbatch engine needs");
  for (const MujocoEnv* env : m_envs)
    if (env->model() != first.model() || env->frame_skip() != first.frame_skip())
      throw std::invalid_argument("the envs of a MuJoCo batch must share one model and frame skip");
  m_frame_skip = first.frame_skip();
  m_nu = first.model()->nu;

  // persistent: every simulation keeps its own mjData, derived fields included
  mjBatchConfig config;
  mjb_defaultConfig(&config);
  config.nthread = threads;
  config.persistent = 1;
  char error[1000] = "";
  m_batch = mjb_makeBatch(first.model(), (int)m_envs.size(), &config, error, sizeof(error));
  if (!m_batch) throw std::runtime_error("MuJoCo refuses a batch of " + id + ": " + error);
  m_nstate = mjb_nstate(m_batch);
  int ctrl_size = 0;
  m_ctrl = mjb_stateComponent(m_batch, mjSTATE_CTRL, &ctrl_size);
  if (ctrl_size != m_nu) {
    mjb_deleteBatch(m_batch);
    throw std::runtime_error("MuJoCo batch of " + id + ": a ctrl of " + std::to_string(ctrl_size) +
                             " values in its state rows, the model has " + std::to_string(m_nu));
  }
  m_errors.resize(m_envs.size());
}

MjBatchStepper::~MjBatchStepper() { mjb_deleteBatch(m_batch); }

int MjBatchStepper::threads() const { return mjb_nthread(m_batch); }

void MjBatchStepper::apply_task(const mjModel*, mjData* d, int sim, void* arg) {
  auto* self = static_cast<MjBatchStepper*>(arg);
  MujocoEnv* env = self->m_envs[sim];
  // the env reads and writes the simulation's mjData; no exception may leave into the batch
  env->bind_data(d);
  try {
    (*self->m_task)(sim);
    env->begin_step();
  } catch (...) {
    self->m_errors[sim] = std::current_exception();
  }
  env->bind_data(nullptr);
}

void MjBatchStepper::apply(TaskRef task) {
  m_task = &task;
  int failed = mjb_apply(m_batch, nullptr, 0, apply_task, this, /*save=*/1);
  m_task = nullptr;
  if (failed > 0) throw_failure("mjb_apply", failed);
  // the first exception in env order, as the pool's threads report theirs
  for (std::exception_ptr& e : m_errors)
    if (e) {
      std::exception_ptr first = e;
      for (std::exception_ptr& other : m_errors) other = nullptr;
      std::rethrow_exception(first);
    }
}

void MjBatchStepper::throw_failure(const char* call, int failed) {
  // a MuJoCo error unwinds past apply_task's bind_data(nullptr): give every env its data back
  for (MujocoEnv* env : m_envs) env->bind_data(nullptr);
  const int* status = mjb_status(m_batch);
  for (int i = 0; i < (int)m_envs.size(); ++i)
    if (status[i])
      throw std::runtime_error(std::string(call) + " failed in " + std::to_string(failed) +
                               " simulation(s) of " + m_envs[i]->spec().id + "; env " +
                               std::to_string(i) + ": MuJoCo error: " + mjb_error(m_batch, i));
  throw std::runtime_error(std::string(call) + " failed in " + std::to_string(failed) +
                           " simulation(s) of " + m_envs[0]->spec().id);
}

void MjBatchStepper::reset(TaskRef reset_env) { apply(reset_env); }

void MjBatchStepper::step(const double* ctrl, TaskRef finish_env) {
  // the controls go into the state rows, unclipped, as MujocoEnv::step writes them to ctrl
  for (size_t i = 0; i < m_envs.size(); ++i) {
    double* row = m_ctrl + i * (size_t)m_nstate;
    for (int j = 0; j < m_nu; ++j) row[j] = ctrl[i * (size_t)m_nu + j];
  }
  // the derived fields stay as the last mj_step leaves them (mjSTAGE_NONE), as the tasks read them
  int failed = mjb_step(m_batch, nullptr, 0, m_frame_skip, mjSTAGE_NONE);
  if (failed > 0) throw_failure("mjb_step", failed);
  apply(finish_env);
}

}  // namespace sac
