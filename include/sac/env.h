// env.h: one control task with Gymnasium v5 semantics (minus the time limit, which the env
// pool applies), and the registry of task ids. Implementations live in envs/.
#pragma once
#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sac/philox.h"

namespace sac {

/// Shape and bounds of a task, fixed for its lifetime.
struct EnvSpec {
  std::string id;                   // Gymnasium id, e.g. "HalfCheetah-v5"
  int obs_dim = 0;                  // observation size
  int act_dim = 0;                  // action size
  std::vector<double> action_low;   // per-dimension lower bound (model ctrlrange)
  std::vector<double> action_high;  // per-dimension upper bound
  int max_episode_steps = 1000;     // TimeLimit of the Gymnasium registration
  // names of the reward terms (Gymnasium's v5 `info` keys, e.g. "reward_forward"), in the order
  // StepResult::reward_terms holds them and the reward sums them; empty for Pendulum-v1
  std::vector<std::string> reward_terms;
};

/// What one env step reports besides the observation.
struct StepResult {
  static constexpr int max_reward_terms = 4;
  double reward = 0.0;
  bool terminated = false;  // the task's own termination (stops bootstrapping)
  bool unstable = false;    // physics blew up (MuJoCo warning or non-finite state)
  // the parts of the reward, named by EnvSpec::reward_terms (costs negative, as Gymnasium's
  // `info` reports them); reward is their sum from the first to the last
  std::array<double, max_reward_terms> reward_terms{};

  /// Sets reward_terms to `terms` and reward to their sum, added from the first to the last.
  /// Needs 1 to max_reward_terms values (one per name in the task's EnvSpec::reward_terms).
  template <typename... Terms>
  void set_reward(double first, Terms... rest) {
    static_assert(sizeof...(rest) < max_reward_terms, "more reward terms than max_reward_terms");
    reward_terms = {first, rest...};
    reward = first;
    ((reward += rest), ...);
  }
};

/// A single task instance. Not thread-safe; the pool gives each thread its own envs.
class Env {
 public:
  virtual ~Env() = default;

  /// The task's shape and bounds.
  virtual const EnvSpec& spec() const = 0;

  /// Resets the state with reset noise drawn from `rng` and writes the first observation
  /// (spec().obs_dim doubles) to `obs`.
  virtual void reset(HostRng& rng, double* obs) = 0;

  /// Applies `action` (spec().act_dim values in the task's bounds; never clipped here),
  /// advances the physics by one env step and writes the next observation to `obs`.
  virtual StepResult step(const double* action, double* obs) = 0;

  /// Generalised position/velocity sizes (0 for tasks without MuJoCo state).
  virtual int nq() const { return 0; }
  virtual int nv() const { return 0; }

  /// Copies the physics state; `qpos` holds nq() and `qvel` nv() doubles.
  virtual void get_state(double* qpos, double* qvel) const { (void)qpos; (void)qvel; }

  /// Everything needed to continue this env exactly from where it is (for checkpoints): the
  /// task's own layout of doubles, restored by load_state() on an env of the same task. Tasks
  /// without state return an empty vector.
  virtual std::vector<double> save_state() const { return {}; }

  /// Restores a state saved by save_state() of the same task, so the next step() matches the
  /// saved env's bit for bit. Throws std::invalid_argument when `state` has the wrong size.
  virtual void load_state(const std::vector<double>& state) {
    if (!state.empty())
      throw std::invalid_argument("env state of " + std::to_string(state.size()) +
                                  " values given to a task that keeps none");
  }
};

/// Creates the task `id`; throws std::invalid_argument naming the id and the known ids.
std::unique_ptr<Env> make_env(const std::string& id);

/// All registered task ids, in a stable order.
std::vector<std::string> env_ids();

/// The version of the MuJoCo library the tasks step on (mj_versionString(), e.g. "4.0.1"). Runs
/// record it (config.json, checkpoints, policy files): other physics give other trajectories.
std::string mujoco_version();

/// Folder holding the MJCF model files: $SAC_MODEL_DIR if set, else the source tree's envs/models.
/// Tasks read these files only when $SAC_MODEL_DIR is set; otherwise they use the copies compiled
/// into the library (so an installed library needs no files).
std::string model_dir();

}  // namespace sac
