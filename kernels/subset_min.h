// subset_min.h: REDQ's target minimum over a random subset of M of N critics (Backend's
// subset_min; Chen et al. 2021, "Randomized Ensembled Double Q-Learning"). The subset is drawn
// without replacement by a partial Fisher-Yates shuffle fed from Philox (sac/philox.h), at draw
// numbers from a device counter, so the same key and counter give the same subset on both
// backends and a recorded update draws a fresh subset at every replay. The bodies below are
// SAC_HD, written once: the CPU twin (subset_min.cpp) loops over members and rows, the CUDA
// kernel (subset_min.cu, launcher declared below for .cu files only) runs one thread per member
// and row. No reduction over floats but the minimum, which is exact in any order.
// Tests: sac_tests --gtest_filter='*SubsetMin*' (the CUDA one skips without a GPU; sim:* runs it
// on the CUDA simulator); timings: sac_bench_kernels --filter subset_min.
#pragma once
#include "cuda_source.h"
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sac/backend.h"
#include "sac/hd.h"
#include "sac/philox.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

/// The most critics subset_min draws from (the shuffle lives in registers).
constexpr int kMaxSubsetCritics = 32;

// the first M entries of a partial Fisher-Yates shuffle of 0..N-1 (1 <= M <= N <=
// kMaxSubsetCritics): draw k swaps entry k with entry k + (Philox number first + k of (key,
// stream) below N - k), so every subset of M critics is equally likely
SAC_HD void draw_critic_subset(uint64_t key, uint64_t stream, uint64_t first, int N, int M,
                               int* subset) {
  int order[kMaxSubsetCritics];
  for (int i = 0; i < N; ++i) order[i] = i;
  for (int k = 0; k < M; ++k) {
    int j = k + (int)philox_below(key, stream, first + (uint64_t)k, (uint64_t)(N - k));
    int swapped = order[j];
    order[j] = order[k];
    order[k] = swapped;
    subset[k] = swapped;
  }
}

// the Philox number where the subset of member row `r` starts: one subset per member at draw
// block `counter` (per_row false: every row shares it), or one per row
SAC_HD uint64_t critic_subset_first_draw(uint64_t counter, int B, int M, int r, bool per_row) {
  return per_row ? (counter * (uint64_t)B + (uint64_t)r) * (uint64_t)M : counter * (uint64_t)M;
}

// min over the subset of row r of one member's critics (critic c's row r at q[c * B + r])
SAC_HD float subset_min_of_row(const float* q, int B, int r, const int* subset, int M) {
  float m = q[(size_t)subset[0] * B + r];
  for (int k = 1; k < M; ++k) m = fminf(m, q[(size_t)subset[k] * B + r]);
  return m;
}

/// Throws std::invalid_argument naming subset_min and the values unless 1 <= E <=
/// Backend::kMaxSeeds, 1 <= M <= N <= kMaxSubsetCritics and B >= 0 (both backends check alike).
inline void check_subset_min_shape(int E, int N, int M, int B) {
  if (E < 1 || E > Backend::kMaxSeeds || N < 1 || N > kMaxSubsetCritics || M < 1 || M > N ||
      B < 0)
    throw std::invalid_argument(
        "subset_min: need 1 <= E <= " + std::to_string(Backend::kMaxSeeds) +
        ", 1 <= M <= N <= " + std::to_string(kMaxSubsetCritics) + " and B >= 0, got E=" +
        std::to_string(E) + " N=" + std::to_string(N) + " M=" + std::to_string(M) +
        " B=" + std::to_string(B));
}

// ---- CPU twin (the reference; arguments as Backend::subset_min)

/// Backend::subset_min: q_min[e][b] = min over member e's random subset of M of its N critics.
void subset_min_cpu(int E, int N, int M, int B, bool per_row, const float* q,
                    const uint64_t* keys, uint64_t stream, const int64_t* d_counter,
                    float* q_min, int32_t* chosen);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launcher: checks its arguments (std::invalid_argument), then one launch on `stream`

/// Backend::subset_min (keys: host memory, passed by value as a kernel argument).
void launch_subset_min(cudaStream_t stream, int E, int N, int M, int B, bool per_row,
                       const float* q, const uint64_t* keys, uint64_t philox_stream,
                       const int64_t* d_counter, float* q_min, int32_t* chosen);
#endif

}  // namespace sac
