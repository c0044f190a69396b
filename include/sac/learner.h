// learner.h: what the step loop, the training run, checkpoints, the benches and the Python
// module hold of an algorithm: a Learner, made by make_learner from the config's `algo`. A
// learner owns the shared Policy (policy.h: the actor, acting and its snapshot) and its own
// critics, optimiser state and update; it names its state for checkpoints (state_tensors) and
// reports the latest update's scalars. SAC (agent.h) is the first; every learner shares the
// members layout (S seeds as members of the same groups), the replay rings and the run files.
// Tests: sac_tests --gtest_filter='*Learner*' and every test of SAC's update.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sac/backend.h"
#include "sac/config.h"
#include "sac/policy.h"
#include "sac/replay_buffer.h"
#include "sac/state_tensor.h"

namespace sac {

/// Settings a learner needs, taken from Config plus the task's sizes.
struct AgentSpec {
  std::string algo = "sac";  // the learner make_learner builds (Config::algo)
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<int> hidden = {256, 256};
  int num_critics = 2;
  int batch_size = 256;
  int max_act_batch = 1;  // largest batch act() is called with
  float gamma = 0.99f, tau = 0.005f;
  float actor_lr = 3e-4f, critic_lr = 3e-4f, alpha_lr = 3e-4f;
  float beta1 = 0.9f, beta2 = 0.999f, adam_eps = 1e-8f;
  float init_log_alpha = 0.0f;
  bool learn_alpha = true;
  float target_entropy = 0.0f;
  float log_std_min = -5.0f, log_std_max = 2.0f;
  MatmulPrecision matmul_precision = MatmulPrecision::kFp32;
  uint64_t seed = 1;
  /// The seeds trained together as members (empty: {seed}); at most Backend::kMaxSeeds.
  std::vector<uint64_t> seeds;

  /// The seeds as members, in member order ({seed} when `seeds` is empty).
  std::vector<uint64_t> seed_list() const {
    return seeds.empty() ? std::vector<uint64_t>{seed} : seeds;
  }
  /// S, the number of seeds.
  int num_seeds() const { return seeds.empty() ? 1 : (int)seeds.size(); }

  static AgentSpec from_config(const Config& config, int obs_dim, int act_dim, int act_batch);
};

/// Scalars of the latest update, read back on demand (a host sync on CUDA).
struct UpdateMetrics {
  float critic_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0, entropy = 0;
  int64_t updates = 0;
};

class Learner {
 public:
  virtual ~Learner() = default;

  /// The algorithm, as the config's `algo` names it ("sac").
  virtual std::string algo() const = 0;
  virtual const AgentSpec& spec() const = 0;
  virtual Backend& backend() = 0;
  /// The actor this learner trains, with acting and its snapshot.
  virtual Policy& policy() = 0;

  /// `count` updates, seed s drawing its minibatches from rings[s] (one ring per seed, in seed
  /// order), with no allocation and no host synchronisation (recordable as CUDA graphs). Each
  /// seed's result is the result of its own single-seed learner on its ring.
  virtual void update(const std::vector<const ReplayBuffer*>& rings, int count = 1) = 0;
  /// update() of a single seed on `replay`.
  void update(const ReplayBuffer& replay, int count = 1) {
    update(std::vector<const ReplayBuffer*>{&replay}, count);
  }

  /// The latest update's scalars of seed `seed_index` (0 <= seed_index < S).
  virtual UpdateMetrics read_metrics(int seed_index = 0) const = 0;

  /// The learner's checkpoint tensors (backend memory): its networks, their optimiser state,
  /// its other parameters, the latest losses and the counters (the act draws' among them), in
  /// the order a non-finite scan reports them. A checkpoint stores exactly this list.
  virtual std::vector<StateTensor> state_tensors() = 0;
  /// Seed number `seed_index`'s share of state_tensors(), in the same order, the counters
  /// shared by the seeds left out: for scans of one seed (a diverged seed stops alone).
  virtual std::vector<StateTensor> seed_state_tensors(int seed_index) = 0;

  // ---- the policy's, for the callers that act through the learner
  MlpGroup& actor() { return policy().actor(); }
  void act(int n, const float* d_obs, bool deterministic, float* d_actions) {
    policy().act(n, d_obs, deterministic, d_actions);
  }
  void act_snapshot(int n, const float* d_obs, float* d_actions, float* h_actions) {
    policy().act_snapshot(n, d_obs, d_actions, h_actions);
  }
  void snapshot_actor() { policy().snapshot_actor(); }
  int64_t* act_draw_counter() { return policy().act_draw_counter(); }
};

/// The learners make_learner builds, as `algo` names them.
std::vector<std::string> learner_algos();

/// Creates the learner spec.algo names ("sac"), its weights initialised from each seed's own
/// generator. Throws std::invalid_argument for an algo it does not build (the config refuses
/// one before: ConfigError).
std::unique_ptr<Learner> make_learner(Backend& backend, const AgentSpec& spec);

}  // namespace sac
