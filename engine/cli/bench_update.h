// bench_update.h: `sac bench update`, timing the SAC update on a filled replay buffer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sac {

class ReplayBuffer;
struct AgentSpec;

/// Fills `replay` to capacity with random transitions drawn from HostRng(seed, 99): normal
/// obs, next obs and rewards, uniform actions, 1 % terminations, `chunk` rows per insert. An
/// update costs the same whatever the values, so benchmarks time it on these.
void fill_replay_random(ReplayBuffer& replay, uint64_t seed, int chunk);

/// FLOPs of the GEMMs of one update: forward 2 B in out per layer and member; a backward that
/// produces weight and input gradients counts 2x its forward, an input-only backward 1x.
double update_gemm_flops(int obs_dim, int act_dim, const std::vector<int>& hidden, int batch,
                         int num_critics);

/// Launches of one update and its longest dependent chain of launches (tracing_backend.h),
/// counted on the CPU backend: the op sequence is the same on every backend.
struct UpdateShape {
  int launches = 0, critical_path = 0;
};
UpdateShape update_shape(const AgentSpec& spec);


}  // namespace sac
