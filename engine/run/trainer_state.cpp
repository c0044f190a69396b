// trainer_state.cpp: the checkpoint tensors of TrainerState (see trainer_state.h).
#include "run/trainer_state.h"

namespace sac {

std::vector<StateTensor> trainer_state_tensors(TrainerState& st) {
  return {host_tensor("trainer.steps", &st.steps),
          host_tensor("trainer.updates", &st.updates),
          host_tensor("trainer.warmup_rng_counter", &st.warmup_rng_counter),
          host_tensor("trainer.update_debt", &st.update_debt),
          host_tensor("trainer.next_log", &st.next_log),
          host_tensor("trainer.next_eval", &st.next_eval),
          host_tensor("trainer.recent_return_sum", &st.recent_return_sum),
          host_tensor("trainer.recent_episodes", &st.recent_episodes),
          host_tensor("trainer.last_eval", &st.last_eval),
          host_tensor("trainer.final_eval", &st.final_eval),
          host_tensor("trainer.best_eval", &st.best_eval),
          host_tensor("trainer.wall_seconds", &st.wall_seconds)};
}

}  // namespace sac
