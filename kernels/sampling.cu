// sampling.cu: the CUDA kernels of the minibatch draws and gathers and their launchers (see
// sampling.h): the same Philox bodies (sac/philox.h) as the CPU twins in sampling.cpp, one
// thread per number or float; sample_minibatch one block per minibatch row.
// Tests: sac_tests --gtest_filter='*Philox*:*Fill*:*Sample*:*Gather*' (skip without a GPU).
#include "sampling.h"

#include "cuda_check.h"
#include "sac/philox.h"

namespace sac {
namespace {

// out[i] = normal number (*d_counter * n + i) of (key, stream)
__global__ void fill_normal_kernel(size_t n, uint64_t key, uint64_t stream,
                                   const int64_t* __restrict__ d_counter,
                                   float* __restrict__ out) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  uint64_t offset = (uint64_t)*d_counter * n;
  out[i] = philox_normal(key, stream, offset + i);
}

// idx[i] = uniform integer in [0, *d_bound) number (*d_counter * n + i) of (key, stream);
// an empty range (bound <= 0, which the CPU would divide by) gives index 0
__global__ void sample_indices_kernel(size_t n, uint64_t key, uint64_t stream,
                                      const int64_t* __restrict__ d_counter,
                                      const int64_t* __restrict__ d_bound,
                                      int64_t* __restrict__ idx) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int64_t bound = *d_bound;
  uint64_t offset = (uint64_t)*d_counter * n;
  idx[i] = bound > 0 ? (int64_t)philox_below(key, stream, offset + i, (uint64_t)bound) : 0;
}

// dst[r] = src[idx[r]], one thread per float
__global__ void gather_rows_kernel(size_t n, int dim, const float* __restrict__ src,
                                   const int64_t* __restrict__ idx, float* __restrict__ dst) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t r = i / dim;
  int c = (int)(i % dim);
  dst[i] = src[(size_t)idx[r] * dim + c];
}

// one block per minibatch row: its ring index, then its columns in every layout, then its noise
__global__ void sample_minibatch_kernel(int B, int O, int A, RingView ring, MinibatchDraws draws,
                                        MinibatchLayout out) {
  __shared__ int64_t row;
  int r = blockIdx.x;
  uint64_t counter = (uint64_t)*draws.d_counter;
  if (threadIdx.x == 0) {
    int64_t bound = *ring.d_size;
    row = bound > 0 ? (int64_t)philox_below(draws.key, draws.index_stream,
                                            counter * (uint64_t)B + r, (uint64_t)bound)
                    : 0;
    out.indices[r] = row;
    out.reward[r] = ring.reward[row];
    out.terminated[r] = ring.terminated[row];
  }
  __syncthreads();
  const size_t k = (size_t)row, W = (size_t)O + A;
  for (int c = threadIdx.x; c < O; c += blockDim.x) {
    float s = ring.obs[k * O + c], s_next = ring.next_obs[k * O + c];
    out.obs[(size_t)r * O + c] = s;
    out.critic_in[r * W + c] = s;
    out.critic_in_pi[r * W + c] = s;
    out.next_obs[(size_t)r * O + c] = s_next;
    out.target_in[r * W + c] = s_next;
  }
  const uint64_t noise_base = counter * (uint64_t)B * A;
  for (int c = threadIdx.x; c < A; c += blockDim.x) {
    out.critic_in[r * W + O + c] = ring.action[k * A + c];
    uint64_t index = noise_base + (uint64_t)r * A + c;
    out.eps_next[(size_t)r * A + c] = philox_normal(draws.key, draws.next_noise_stream, index);
    out.eps_cur[(size_t)r * A + c] = philox_normal(draws.key, draws.cur_noise_stream, index);
  }
}

}  // namespace

void launch_fill_normal(cudaStream_t stream, size_t n, uint64_t key, uint64_t philox_stream,
                        const int64_t* d_counter, float* out) {
  if (n == 0) return;
  require(d_counter && out, "fill_normal", "null pointer");
  linear_kernel(fill_normal_kernel, stream, n, key, philox_stream, d_counter, out);
}

void launch_sample_indices(cudaStream_t stream, int n, uint64_t key, uint64_t philox_stream,
                           const int64_t* d_counter, const int64_t* d_bound, int64_t* idx) {
  require(n >= 0, "sample_indices", "need n >= 0");
  if (n == 0) return;
  require(d_counter && d_bound && idx, "sample_indices", "null pointer");
  linear_kernel(sample_indices_kernel, stream, (size_t)n, key, philox_stream, d_counter, d_bound,
                idx);
}

void launch_gather_rows(cudaStream_t stream, int n, int dim, const float* src, const int64_t* idx,
                        float* dst) {
  require(n >= 0 && dim >= 0, "gather_rows", "need n >= 0, dim >= 0");
  size_t count = (size_t)n * dim;
  if (count == 0) return;
  require(src && idx && dst, "gather_rows", "null pointer");
  linear_kernel(gather_rows_kernel, stream, count, dim, src, idx, dst);
}

void launch_sample_minibatch(cudaStream_t stream, int B, int O, int A, const RingView& ring,
                             const MinibatchDraws& draws, const MinibatchLayout& out) {
  require(B >= 0 && O >= 1 && A >= 1, "sample_minibatch", "need B >= 0, O >= 1, A >= 1");
  if (B == 0) return;
  require(ring.obs && ring.action && ring.reward && ring.next_obs && ring.terminated &&
              ring.d_size && draws.d_counter,
          "sample_minibatch", "null ring or counter");
  require(out.indices && out.obs && out.next_obs && out.critic_in && out.critic_in_pi &&
              out.target_in && out.reward && out.terminated && out.eps_next && out.eps_cur,
          "sample_minibatch", "null output");
  require(B <= 2147483647, "sample_minibatch", "batch too large for one grid");
  sample_minibatch_kernel<<<(unsigned)B, 64, 0, stream>>>(B, O, A, ring, draws, out);
  check_launch("sample_minibatch_kernel", stream);
}

}  // namespace sac
