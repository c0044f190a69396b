// mujoco_env.cpp: MujocoEnv (see mujoco_env.h): the per-process model cache, MuJoCo's error and
// warning handlers, frame-skipped stepping with instability detection, and noisy reset.
#include "mujoco_env.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "embedded_models.h"
#include "formats/quoted.h"

namespace sac {
namespace {

// mujoco errors become exceptions, so the library never calls exit().
void throw_mujoco_error(const char* msg) {
  throw std::runtime_error(std::string("MuJoCo error: ") + (msg ? msg : "(no message)"));
}

// warnings are printed, but only the first few per process (an unstable task can raise many).
void print_mujoco_warning(const char* msg) {
  static std::atomic<int> printed{0};
  constexpr int max_printed = 20;
  int n = printed.fetch_add(1);
  if (n < max_printed)
    std::fprintf(stderr, "MuJoCo warning: %s\n", msg ? msg : "(no message)");
  if (n == max_printed - 1) std::fprintf(stderr, "MuJoCo warning: further warnings not printed\n");
}

}  // namespace

void install_mujoco_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_error = throw_mujoco_error;
    mju_user_warning = print_mujoco_warning;
  });
}

namespace {

// one model per key for the whole process, loaded under a lock by `load` on first use
std::shared_ptr<const mjModel> cached_model(const std::string& key,
                                            mjModel* (*load)(const std::string&, char*, int)) {
  install_mujoco_handlers();
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const mjModel>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  char error[1000] = "";
  mjModel* m = load(key, error, sizeof(error));
  // the name and MuJoCo's message (which quotes the file's text) shown escaped, line breaks kept
  if (!m)
    throw std::runtime_error("cannot load MuJoCo model " + quoted_text(key) + ": " +
                             escaped_lines(error));
  std::shared_ptr<const mjModel> model(m, [](const mjModel* p) { mj_deleteModel(const_cast<mjModel*>(p)); });
  cache.emplace(key, model);
  return model;
}

mjModel* load_file(const std::string& path, char* error, int error_size) {
  return mj_loadXML(path.c_str(), nullptr, error, error_size);
}

// the text compiled into the library (embedded_models.h), handed to MuJoCo as a one-file VFS
mjModel* load_embedded(const std::string& name, char* error, int error_size) {
  const char* text = embedded_model(name);
  if (!text) {
    std::snprintf(error, error_size, "no model file of that name is compiled into the library");
    return nullptr;
  }
  // the VFS's file is freed also when MuJoCo's error handler throws
  struct FreeVfs {
    void operator()(mjVFS* v) const {
      mj_deleteVFS(v);
      delete v;
    }
  };
  std::unique_ptr<mjVFS, FreeVfs> vfs(new mjVFS());
  mj_defaultVFS(vfs.get());
  if (mj_addBufferVFS(vfs.get(), name.c_str(), text, (int)std::strlen(text)) != 0) {
    std::snprintf(error, error_size, "cannot make a MuJoCo VFS file");
    return nullptr;
  }
  return mj_loadXML(name.c_str(), vfs.get(), error, error_size);
}

}  // namespace

std::string mujoco_version() { return mj_versionString(); }

std::shared_ptr<const mjModel> load_mujoco_model(const std::string& file) {
  return cached_model(file, load_file);
}

std::shared_ptr<const mjModel> load_task_model(const std::string& name) {
  if (std::getenv("SAC_MODEL_DIR")) return load_mujoco_model(model_dir() + "/" + name);
  return cached_model(name, load_embedded);
}

MujocoEnv::MujocoEnv(const std::string& model_file, int frame_skip, bool contact_forces)
    : m_frame_skip(frame_skip), m_contact_forces(contact_forces) {
  if (frame_skip < 1) throw std::invalid_argument("MujocoEnv: frame_skip must be >= 1");
  m_model = load_task_model(model_file);
  m_data = m_own_data = mj_makeData(m_model.get());
  if (!m_data) throw std::runtime_error("MujocoEnv: mj_makeData failed for '" + model_file + "'");
  mj_forward(m_model.get(), m_data);
}

MujocoEnv::~MujocoEnv() {
  if (m_own_data) mj_deleteData(m_own_data);
}

void MujocoEnv::init_spec(const std::string& id, int obs_dim, std::vector<std::string> reward_terms,
                          int max_episode_steps) {
  const mjModel* m = m_model.get();
  m_spec.id = id;
  m_spec.obs_dim = obs_dim;
  m_spec.act_dim = m->nu;
  m_spec.action_low.resize(m->nu);
  m_spec.action_high.resize(m->nu);
  // the Box bounds are the actuators' ctrlrange
  for (int i = 0; i < m->nu; ++i) {
    m_spec.action_low[i] = m->actuator_ctrlrange[2 * i];
    m_spec.action_high[i] = m->actuator_ctrlrange[2 * i + 1];
  }
  m_spec.max_episode_steps = max_episode_steps;
  m_spec.reward_terms = std::move(reward_terms);
}

void MujocoEnv::get_state(double* qpos, double* qvel) const {
  for (int i = 0; i < m_model->nq; ++i) qpos[i] = m_data->qpos[i];
  for (int i = 0; i < m_model->nv; ++i) qvel[i] = m_data->qvel[i];
}

void MujocoEnv::set_state(const double* qpos, const double* qvel) {
  for (int i = 0; i < m_model->nq; ++i) m_data->qpos[i] = qpos[i];
  for (int i = 0; i < m_model->nv; ++i) m_data->qvel[i] = qvel[i];
  mj_forward(m_model.get(), m_data);
}

namespace {

// the arrays of mjData a state vector holds, in order, with their lengths
template <typename Data, typename F>
void for_each_state_array(const mjModel* m, Data* d, F f) {
  f(&d->time, 1);
  f(d->qpos, m->nq);
  f(d->qvel, m->nv);
  f(d->act, m->na);
  f(d->qacc_warmstart, m->nv);
  f(d->ctrl, m->nu);
  f(d->xpos, 3 * m->nbody);
  f(d->xipos, 3 * m->nbody);
}

}  // namespace

std::vector<double> MujocoEnv::save_state() const {
  std::vector<double> state;
  for_each_state_array(m_model.get(), static_cast<const mjData*>(m_data),
                       [&](const mjtNum* src, int n) { state.insert(state.end(), src, src + n); });
  return state;
}

void MujocoEnv::load_state(const std::vector<double>& state) {
  const mjModel* m = m_model.get();
  size_t expected = 0;
  for_each_state_array(m, static_cast<const mjData*>(m_data),
                       [&](const mjtNum*, int n) { expected += (size_t)n; });
  if (state.size() != expected)
    throw std::invalid_argument(m_spec.id + " state needs " + std::to_string(expected) +
                                " values, got " + std::to_string(state.size()));
  // the saved arrays, mj_forward for the other derived quantities, then the saved arrays again:
  // mj_forward recomputes qacc_warmstart, xpos and xipos, which the saved env holds as its last
  // step left them
  size_t k = 0;
  auto put = [&](mjtNum* dst, int n) {
    std::copy(state.begin() + k, state.begin() + k + n, dst);
    k += (size_t)n;
  };
  for_each_state_array(m, m_data, put);
  mj_forward(m, m_data);
  k = 0;
  for_each_state_array(m, m_data, put);
}

int MujocoEnv::warning_total() const {
  int total = 0;
  for (int i = 0; i < mjNWARNING; ++i) total += m_data->warning[i].number;
  return total;
}

void MujocoEnv::run_physics(const double* action) {
  const mjModel* m = m_model.get();
  // the action goes in unclipped: MuJoCo clamps ctrl to ctrlrange when computing forces
  for (int i = 0; i < m->nu; ++i) m_data->ctrl[i] = action[i];
  for (int k = 0; k < m_frame_skip; ++k) mj_step(m, m_data);
}

bool MujocoEnv::physics_verdict() {
  const mjModel* m = m_model.get();
  if (m_contact_forces) mj_rnePostConstraint(m, m_data);
  // a rising warning counter (bad qacc auto-resets the data) or a non-finite state is a blow-up
  bool unstable = warning_total() > m_warnings_before;
  for (int i = 0; i < m->nq; ++i) unstable = unstable || !std::isfinite(m_data->qpos[i]);
  for (int i = 0; i < m->nv; ++i) unstable = unstable || !std::isfinite(m_data->qvel[i]);
  return unstable;
}

bool MujocoEnv::do_simulation(const double* action) {
  m_warnings_before = warning_total();
  run_physics(action);
  return physics_verdict();
}

void MujocoEnv::begin_step() {
  m_warnings_before = warning_total();
  before_physics();
}

StepResult MujocoEnv::finish_step(const double* action, double* obs) {
  bool unstable = physics_verdict();
  return after_physics(action, unstable, obs);
}

StepResult MujocoEnv::step(const double* action, double* obs) {
  begin_step();
  run_physics(action);
  return finish_step(action, obs);
}

StepResult MujocoEnv::after_physics(const double*, bool, double*) {
  throw std::logic_error(m_spec.id + " does not split its step into before_physics() and "
                         "after_physics()");
}

void MujocoEnv::reset_data() { mj_resetData(m_model.get(), m_data); }

void MujocoEnv::reset_state(HostRng& rng, ResetNoise qpos_noise, ResetNoise qvel_noise) {
  const mjModel* m = m_model.get();
  auto draw = [&rng](const ResetNoise& noise) {
    if (noise.kind == ResetNoise::Kind::uniform) return rng.uniform(-noise.scale, noise.scale);
    return noise.scale * rng.normal();
  };
  // qpos = qpos0, qvel = 0, warning counters cleared
  reset_data();
  for (int i = 0; i < m->nq; ++i) m_data->qpos[i] = m->qpos0[i] + draw(qpos_noise);
  for (int i = 0; i < m->nv; ++i) m_data->qvel[i] = draw(qvel_noise);
  mj_forward(m, m_data);
}

double MujocoEnv::action_sq_norm(const double* action) const {
  double sum = 0.0;
  for (int i = 0; i < m_model->nu; ++i) sum += action[i] * action[i];
  return sum;
}

}  // namespace sac
