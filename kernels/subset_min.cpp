// subset_min.cpp: the CPU twin of REDQ's subset minimum (see subset_min.h): members, then rows,
// in order, each with the SAC_HD bodies the CUDA kernel runs; CpuBackend forwards to it.
// Tests: sac_tests --gtest_filter='*SubsetMin*'.
#include "subset_min.h"

namespace sac {

void subset_min_cpu(int E, int N, int M, int B, bool per_row, const float* q,
                    const uint64_t* keys, uint64_t stream, const int64_t* d_counter,
                    float* q_min, int32_t* chosen) {
  check_subset_min_shape(E, N, M, B);
  if (B == 0) return;
  const uint64_t counter = (uint64_t)*d_counter;
  int subset[kMaxSubsetCritics];
  for (int e = 0; e < E; ++e) {
    const float* member = q + (size_t)e * N * B;
    for (int r = 0; r < B; ++r) {
      if (per_row || r == 0) {
        draw_critic_subset(keys[e], stream, critic_subset_first_draw(counter, B, M, r, per_row), N,
                           M, subset);
        if (chosen) {
          int32_t* out = chosen + ((size_t)e * (per_row ? B : 1) + (per_row ? r : 0)) * M;
          for (int k = 0; k < M; ++k) out[k] = subset[k];
        }
      }
      q_min[(size_t)e * B + r] = subset_min_of_row(member, B, r, subset, M);
    }
  }
}

}  // namespace sac
