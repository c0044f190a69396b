// mujoco_env.h: MujocoEnv, the shared base of the MuJoCo tasks (InvertedPendulum, HalfCheetah,
// Hopper). It holds one read-only mjModel per model file, shared by every env of that task, and
// one mjData per env; it steps the physics with frame skip, applies reset noise and flags
// physics blow-ups. Tasks derive from it and add observation, reward and termination.
// Tested by tests/test_mujoco_envs.cpp (`sac_tests --gtest_filter='Mujoco*'`).
#pragma once
#include <mujoco/mujoco.h>

#include <memory>
#include <string>

#include "sac/env.h"

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

/// Reset noise of one state vector: U(-scale, scale) or scale * N(0, 1) per element.
struct ResetNoise {
  enum class Kind { uniform, normal };
  Kind kind = Kind::uniform;
  double scale = 0.0;
};

/// Base of the MuJoCo tasks: model sharing, frame-skipped stepping, noisy reset, state access.
class MujocoEnv : public Env {
 public:
  /// Loads `model_file` with load_task_model() (shared with other envs of the task) and allocates
  /// this env's mjData. `frame_skip` is the number of mj_step calls per env step;
  /// `contact_forces` asks for mj_rnePostConstraint after them (fills cfrc_ext).
  MujocoEnv(const std::string& model_file, int frame_skip, bool contact_forces);
  ~MujocoEnv() override;
  MujocoEnv(const MujocoEnv&) = delete;
  MujocoEnv& operator=(const MujocoEnv&) = delete;

  const EnvSpec& spec() const override { return m_spec; }
  int nq() const override { return m_model->nq; }
  int nv() const override { return m_model->nv; }
  void get_state(double* qpos, double* qvel) const override;

  /// Overwrites qpos (nq doubles) and qvel (nv doubles) and recomputes derived quantities with
  /// mj_forward, as Gymnasium's set_state does. Used by tests to put the env in a known state.
  void set_state(const double* qpos, const double* qvel);

  /// The state a checkpoint needs to continue this env bit for bit, as doubles: time, qpos (nq),
  /// qvel (nv), act (na), qacc_warmstart (nv), ctrl (nu), then xpos and xipos (3 nbody each),
  /// the body positions as the last mj_step left them (tasks read them before stepping).
  std::vector<double> save_state() const override;

  /// Restores a save_state() vector of this task: the saved arrays, mj_forward for the other
  /// derived quantities, then the saved arrays again (mj_forward recomputes the warm start and
  /// body positions). The next step() then matches the saved env
  /// bit for bit. Throws std::invalid_argument on a wrong size.
  void load_state(const std::vector<double>& state) override;

  /// Seconds of simulated time per env step: timestep * frame_skip.
  double dt() const { return m_model->opt.timestep * m_frame_skip; }
  int frame_skip() const { return m_frame_skip; }
  const mjModel* model() const { return m_model.get(); }
  const mjData* data() const { return m_data; }

 protected:
  /// Fills the spec's id, dimensions and bounds (act_dim and bounds from the model's actuators)
  /// and the names of the reward terms the task's step() sets, in their order.
  void init_spec(const std::string& id, int obs_dim, std::vector<std::string> reward_terms,
                 int max_episode_steps = 1000);

  /// Writes `action` (nu doubles, unclipped) to ctrl, calls mj_step frame_skip times, then
  /// mj_rnePostConstraint when the task observes contact forces. Returns true when the physics
  /// became unstable: a MuJoCo warning counter rose or qpos/qvel holds a non-finite value.
  bool do_simulation(const double* action);

  /// do_simulation, returning the forward velocity of the position `x()` over the step:
  /// (x after - x before) / dt, Gymnasium's finite difference. `unstable` receives
  /// do_simulation's verdict.
  template <typename Position>
  double simulate_forward(const double* action, bool& unstable, Position x) {
    double x_before = x();
    unstable = do_simulation(action);
    return (x() - x_before) / dt();
  }

  /// Clears mjData to mj_resetData's state (qpos = qpos0, everything else zero). MuJoCo 4 clears
  /// only the fixed-size part of mjData (the constraint arrays live in its arena), so this is
  /// cheap (tests/test_mujoco_reset.cpp).
  void reset_data();

  /// reset_data(), then qpos = qpos0 + noise (nq draws from `rng` first), qvel = noise (nv draws
  /// next), then mj_forward.
  void reset_state(HostRng& rng, ResetNoise qpos_noise, ResetNoise qvel_noise);

  /// Sum of the squared action entries (the control cost before its weight).
  double action_sq_norm(const double* action) const;

  EnvSpec m_spec;
  std::shared_ptr<const mjModel> m_model;
  mjData* m_data = nullptr;

 private:
  int warning_total() const;

  int m_frame_skip;
  bool m_contact_forces;
};

}  // namespace sac
