// trainer_state.h: TrainerState, the state of the trainer's step loop (engine/run/trainer.cpp) that a
// checkpoint saves beside the agent, the replay buffer and the env pools, and its checkpoint
// tensors (trainer.*). Tested by tests/test_checkpoint.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "sac/state_tensor.h"

namespace sac {

/// What each seed of a run keeps of its own (a run of one seed has one).
struct SeedProgress {
  double recent_return_sum = 0.0;  // finished-episode returns since the last metrics line
  int64_t recent_episodes = 0;
  double last_eval = NAN;  // mean return of the latest evaluation (NaN: none yet)
  double final_eval = 0.0;
  double best_eval = -INFINITY;
  int64_t stopped_step = -1;  // the step its numbers went non-finite (-1: still training)

  bool training() const { return stopped_step < 0; }
  /// True once an evaluation ran (best_eval is -inf until then, also in older checkpoints).
  bool evaluated() const { return std::isfinite(best_eval); }
};

/// The trainer's loop state, saved with every checkpoint.
struct TrainerState {
  int64_t steps = 0;                // env steps so far (all envs together)
  int64_t updates = 0;              // agent updates so far
  uint64_t warmup_rng_counter = 0;  // HostRng counter of the warm-up actions
  double update_debt = 0.0;         // updates owed at the update-to-data ratio
  int64_t next_log = 0;             // step of the next metrics line
  int64_t next_eval = 0;            // step of the next evaluation
  double wall_seconds = 0.0;  // training time before the current process
  std::vector<SeedProgress> seeds = std::vector<SeedProgress>(1);  // per seed, in seed order
};

/// The checkpoint tensors of `state` (trainer.<field>, one value each), pointing into it (host
/// memory). A run of one seed names its seed's fields trainer.<field> (stopped_step left out:
/// such a run stops as a whole); with `per_seed` (a run given train.seeds) they are
/// trainer.seed<k>.<field> for seed number k.
std::vector<StateTensor> trainer_state_tensors(TrainerState& state, bool per_seed);

}  // namespace sac
