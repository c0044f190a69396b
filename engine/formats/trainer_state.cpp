// trainer_state.cpp: the checkpoint tensors of TrainerState (see trainer_state.h).
#include "formats/trainer_state.h"

namespace sac {

std::vector<StateTensor> trainer_state_tensors(TrainerState& st, bool per_seed) {
  std::vector<StateTensor> list = {
      host_tensor("trainer.steps", &st.steps),
      host_tensor("trainer.updates", &st.updates),
      host_tensor("trainer.warmup_rng_counter", &st.warmup_rng_counter),
      host_tensor("trainer.update_debt", &st.update_debt),
      host_tensor("trainer.next_log", &st.next_log),
      host_tensor("trainer.next_eval", &st.next_eval)};
  for (size_t k = 0; k < st.seeds.size(); ++k) {
    SeedProgress& p = st.seeds[k];
    const std::string pre = per_seed ? "trainer.seed" + std::to_string(k) + "." : "trainer.";
    list.push_back(host_tensor(pre + "recent_return_sum", &p.recent_return_sum));
    list.push_back(host_tensor(pre + "recent_episodes", &p.recent_episodes));
    list.push_back(host_tensor(pre + "last_eval", &p.last_eval));
    list.push_back(host_tensor(pre + "final_eval", &p.final_eval));
    list.push_back(host_tensor(pre + "best_eval", &p.best_eval));
    if (per_seed) list.push_back(host_tensor(pre + "stopped_step", &p.stopped_step));
  }
  list.push_back(host_tensor("trainer.wall_seconds", &st.wall_seconds));
  return list;
}

}  // namespace sac
