// mujoco_env.h: MujocoEnv, the base of every task over a MuJoCo model (the built-in ones in envs/
// and a user's own, sac/task.h). It holds one read-only mjModel per model file, shared by every
// env of that task, and one mjData per env; it steps the physics with frame skip, applies reset
// noise and flags physics blow-ups. A task derives from it and adds observation, reward and
// termination, reading the model and data directly: this header exposes MuJoCo's own mjModel and
// mjData (<mujoco/mujoco.h>, which the installed package finds with find_dependency(mujoco)),
// because a task's observation and reward are computed from them and an opaque handle would
// have to copy every array a task may read.
// A task may write its step in parts around the physics (before_physics(), after_physics()), so
// that MuJoCo's batch API can step it too (envs/batch_stepper.h).
// Tested by tests/test_mujoco_envs.cpp (`sac_tests --gtest_filter='Mujoco*'`) and, the step in
// parts, tests/test_batch_stepper.cpp (`--gtest_filter='*MjBatch*'`).
#pragma once
#include <mujoco/mujoco.h>

#include <memory>
#include <string>
#include <vector>

#include "sac/env.h"

namespace sac {

/// The model a task's `xml_file` keyword argument names, once per process: a bare file name
/// (e.g. "ant.xml") is a model compiled into the library (or read from $SAC_MODEL_DIR); a path
/// (starting with "/", "." or "~", as Gymnasium tells them apart) is read from disk. Throws
/// InputError naming the file and MuJoCo's message when it is missing, unreadable or refused.
std::shared_ptr<const mjModel> load_xml_file(const std::string& xml_file);

/// True when `xml_file` is a path on disk rather than the name of a compiled-in model.
bool is_model_path(const std::string& xml_file);

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
  /// The same over an already loaded model (e.g. load_xml_file()'s).
  MujocoEnv(std::shared_ptr<const mjModel> model, int frame_skip, bool contact_forces);
  ~MujocoEnv() override;
  MujocoEnv(const MujocoEnv&) = delete;
  MujocoEnv& operator=(const MujocoEnv&) = delete;

  const EnvSpec& spec() const override { return m_spec; }
  int nq() const override { return m_model->nq; }
  int nv() const override { return m_model->nv; }
  void get_state(double* qpos, double* qvel) const override;
  bool set_max_episode_steps(int steps) override {
    m_spec.max_episode_steps = steps;
    return true;
  }

  /// Overwrites qpos (nq doubles) and qvel (nv doubles) and recomputes derived quantities with
  /// mj_forward, as Gymnasium's set_state does. Used by tests to put the env in a known state.
  void set_state(const double* qpos, const double* qvel);

  /// The state a checkpoint needs to continue this env bit for bit, as doubles: time, qpos (nq),
  /// qvel (nv), act (na), qacc_warmstart (nv), ctrl (nu), then xpos and xipos (3 nbody each),
  /// the body positions as the last mj_step left them (tasks read them before stepping).
  std::vector<double> save_state() const override;

  /// Restores a save_state() vector of this task: the saved arrays, mj_forward for the other
  /// derived quantities, then the saved arrays again (mj_forward recomputes the warm start and
  /// body positions). The next step() then matches the saved env bit for bit. Throws std::invalid_argument on a wrong size.
  void load_state(const std::vector<double>& state) override;

  /// Seconds of simulated time per env step: timestep * frame_skip.
  double dt() const { return m_model->opt.timestep * m_frame_skip; }
  int frame_skip() const { return m_frame_skip; }
  const mjModel* model() const { return m_model.get(); }
  const mjData* data() const { return m_data; }

  /// Id of the body named `name`; throws InputError naming the body when the model has none.
  int body_id(const std::string& name) const;

  // ---- the step in parts: a task may write its step as before_physics() and after_physics()
  // (and say so with splits_step()); then step() runs them around the physics, and another
  // engine (a batch of MuJoCo simulations, envs/batch_stepper.h) can run the physics between
  // begin_step() and finish_step() instead, the same task code computing observation, reward
  // and termination on either path.

  /// begin_step(), ctrl = `action` (unclipped), frame_skip mj_step calls, then finish_step().
  /// A task that does not split its step overrides this with its own.
  StepResult step(const double* action, double* obs) override;

  /// True when the task writes its step as before_physics() and after_physics().
  virtual bool splits_step() const { return false; }

  /// Records what the coming step needs from the state before its physics: the warning
  /// counters and the task's before_physics().
  void begin_step();

  /// Completes a step whose physics (ctrl = `action`, frame_skip mj_step calls on this env's
  /// data) ran after begin_step(), here or elsewhere: mj_rnePostConstraint when the task observes
  /// contact forces, the instability verdict, then the task's after_physics().
  StepResult finish_step(const double* action, double* obs);

  /// Makes the env read and write `data` (an mjData of this env's model, e.g. one simulation of
  /// a batch) instead of its own until the next call; nullptr gives it its own data back.
  void bind_data(mjData* data) { m_data = data ? data : m_own_data; }


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

  /// The task's part of a split step before the physics: keeps what its reward needs from the
  /// state before the step (e.g. the x position). Nothing by default.
  virtual void before_physics() {}

  /// The task's part of a split step after the physics: writes the observation to `obs` and
  /// returns reward, termination and info; `unstable` is the physics' verdict (set it in the
  /// result). By default throws std::logic_error: a task that splits its step overrides it.
  virtual StepResult after_physics(const double* action, bool unstable, double* obs);

  EnvSpec m_spec;
  std::shared_ptr<const mjModel> m_model;
  mjData* m_data = nullptr;

 private:
  int warning_total() const;
  void run_physics(const double* action);  // ctrl = action, frame_skip mj_step calls
  bool physics_verdict();                  // mj_rnePostConstraint if asked; true if unstable

  int m_frame_skip;
  bool m_contact_forces;
  mjData* m_own_data = nullptr;  // the env's own mjData; m_data is it unless bind_data() says
  int m_warnings_before = 0;     // warning counters at begin_step()
};

}  // namespace sac
