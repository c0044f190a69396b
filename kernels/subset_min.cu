// subset_min.cu: the CUDA kernel of REDQ's subset minimum and its launcher (see subset_min.h):
// one thread per member and row, each drawing its subset with the same SAC_HD bodies as the CPU
// twin (a shared subset is drawn by every thread of the member alike: M Philox numbers, cheaper
// than a barrier), so both backends give the same bits.
// Tests: sac_tests --gtest_filter='*SubsetMin*' (skip without a GPU; sim:* on the simulator).
#include "subset_min.h"

#include "cuda_check.h"
#include "sac/backend.h"

namespace sac {
namespace {

// the members' keys, by value (a kernel argument: no upload, graph-capturable)
struct MemberKeys {
  uint64_t key[Backend::kMaxSeeds];
};

// q_min[e * B + r] = min over member e's subset (count = E x B); the row-0 thread of a shared
// subset, or every thread of per-row subsets, writes its subset to `chosen` (nullable)
__global__ void subset_min_kernel(size_t count, int N, int M, int B, bool per_row,
                                  const __grid_constant__ MemberKeys keys, uint64_t stream,
                                  const int64_t* __restrict__ d_counter,
                                  const float* __restrict__ q, float* __restrict__ q_min,
                                  int32_t* __restrict__ chosen) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int e = (int)(i / B), r = (int)(i % B);
  int subset[kMaxSubsetCritics];
  draw_critic_subset(keys.key[e], stream,
                     critic_subset_first_draw((uint64_t)*d_counter, B, M, r, per_row), N, M,
                     subset);
  if (chosen && (per_row || r == 0)) {
    int32_t* out = chosen + ((size_t)e * (per_row ? B : 1) + (per_row ? r : 0)) * M;
    for (int k = 0; k < M; ++k) out[k] = subset[k];
  }
  q_min[i] = subset_min_of_row(q + (size_t)e * N * B, B, r, subset, M);
}

}  // namespace

void launch_subset_min(cudaStream_t stream, int E, int N, int M, int B, bool per_row,
                       const float* q, const uint64_t* keys, uint64_t philox_stream,
                       const int64_t* d_counter, float* q_min, int32_t* chosen) {
  check_subset_min_shape(E, N, M, B);
  if (B == 0) return;
  require(q && keys && d_counter && q_min, "subset_min", "null pointer");
  MemberKeys k{};
  for (int e = 0; e < E; ++e) k.key[e] = keys[e];
  linear_kernel(subset_min_kernel, stream, (size_t)E * B, N, M, B, per_row, k, philox_stream,
                d_counter, q, q_min, chosen);
}

}  // namespace sac
