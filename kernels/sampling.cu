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

// the keys of fill_normal_seeds, by value (kernel arguments: no upload, graph-capturable)
struct SeedKeys {
  uint64_t key[Backend::kMaxSeeds];
};

// out[s * n + i] = normal number (*d_counter * n + i) of (keys[s], stream); count = S x n
// (__grid_constant__: the indexed keys are read in place, not copied per thread)
__global__ void fill_normal_seeds_kernel(size_t count, size_t n,
                                         const __grid_constant__ SeedKeys keys, uint64_t stream,
                                         const int64_t* __restrict__ d_counter,
                                         float* __restrict__ out) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  uint64_t offset = (uint64_t)*d_counter * n;
  out[i] = philox_normal(keys.key[i / n], stream, offset + i % n);
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

// the rings and draws of sample_minibatch's seeds, by value (kernel arguments)
struct SeedRings {
  RingView ring[Backend::kMaxSeeds];
  MinibatchDraws draws[Backend::kMaxSeeds];
};

// one block per minibatch row of one seed (S x B blocks): its ring index from the seed's own
// key, then its columns in every layout (each critic-input copy), then its noise
__global__ void sample_minibatch_kernel(int B, int O, int A, int copies,
                                        const __grid_constant__ SeedRings seeds,
                                        MinibatchLayout out) {
  __shared__ int64_t row;
  const int seed = blockIdx.x / B, r = blockIdx.x % B;
  const RingView& ring = seeds.ring[seed];
  const MinibatchDraws& draws = seeds.draws[seed];
  const size_t i = blockIdx.x;  // the row over all seeds
  uint64_t counter = (uint64_t)*draws.d_counter;
  if (threadIdx.x == 0) {
    int64_t bound = *ring.d_size;
    row = bound > 0 ? (int64_t)philox_below(draws.key, draws.index_stream,
                                            counter * (uint64_t)B + r, (uint64_t)bound)
                    : 0;
    out.indices[i] = row;
    out.reward[i] = ring.reward[row];
    out.terminated[i] = ring.terminated[row];
  }
  __syncthreads();
  const size_t k = (size_t)row, W = (size_t)O + A;
  const size_t first = ((size_t)seed * copies * B + r) * W, copy_stride = (size_t)B * W;
  for (int c = threadIdx.x; c < O; c += blockDim.x) {
    float s = ring.obs[k * O + c], s_next = ring.next_obs[k * O + c];
    out.obs[i * O + c] = s;
    out.next_obs[i * O + c] = s_next;
    for (int copy = 0; copy < copies; ++copy) {
      size_t at = first + copy * copy_stride + c;
      out.critic_in[at] = s;
      out.critic_in_pi[at] = s;
      out.target_in[at] = s_next;
    }
  }
  const uint64_t noise_base = counter * (uint64_t)B * A;
  for (int c = threadIdx.x; c < A; c += blockDim.x) {
    float a = ring.action[k * A + c];
    for (int copy = 0; copy < copies; ++copy)
      out.critic_in[first + copy * copy_stride + O + c] = a;
    uint64_t index = noise_base + (uint64_t)r * A + c;
    out.eps_next[i * A + c] = philox_normal(draws.key, draws.next_noise_stream, index);
    out.eps_cur[i * A + c] = philox_normal(draws.key, draws.cur_noise_stream, index);
  }
}

}  // namespace

void launch_fill_normal(cudaStream_t stream, size_t n, uint64_t key, uint64_t philox_stream,
                        const int64_t* d_counter, float* out) {
  if (n == 0) return;
  require(d_counter && out, "fill_normal", "null pointer");
  linear_kernel(fill_normal_kernel, stream, n, key, philox_stream, d_counter, out);
}

void launch_fill_normal_seeds(cudaStream_t stream, int S, size_t n, const uint64_t* keys,
                              uint64_t philox_stream, const int64_t* d_counter, float* out) {
  require(S >= 1 && S <= Backend::kMaxSeeds, "fill_normal_seeds",
          "need 1 <= S <= Backend::kMaxSeeds");
  if (n == 0) return;
  require(keys && d_counter && out, "fill_normal_seeds", "null pointer");
  SeedKeys k{};
  for (int s = 0; s < S; ++s) k.key[s] = keys[s];
  linear_kernel(fill_normal_seeds_kernel, stream, (size_t)S * n, n, k, philox_stream, d_counter,
                out);
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

void launch_sample_minibatch(cudaStream_t stream, int S, int B, int O, int A, int copies,
                             const RingView* rings, const MinibatchDraws* draws,
                             const MinibatchLayout& out) {
  require(S >= 1 && S <= Backend::kMaxSeeds && B >= 0 && O >= 1 && A >= 1 && copies >= 1,
          "sample_minibatch",
          "need 1 <= S <= Backend::kMaxSeeds, B >= 0, O >= 1, A >= 1, copies >= 1");
  if (B == 0) return;
  require(rings && draws, "sample_minibatch", "null rings or draws");
  SeedRings seeds{};
  for (int s = 0; s < S; ++s) {
    const RingView& ring = rings[s];
    require(ring.obs && ring.action && ring.reward && ring.next_obs && ring.terminated &&
                ring.d_size && draws[s].d_counter,
            "sample_minibatch", "null ring or counter");
    seeds.ring[s] = ring;
    seeds.draws[s] = draws[s];
  }
  require(out.indices && out.obs && out.next_obs && out.critic_in && out.critic_in_pi &&
              out.target_in && out.reward && out.terminated && out.eps_next && out.eps_cur,
          "sample_minibatch", "null output");
  require((int64_t)S * B <= 2147483647, "sample_minibatch", "batch too large for one grid");
  launch(sample_minibatch_kernel, (unsigned)(S * B), 64, 0, stream, B, O, A, copies, seeds, out);
}

}  // namespace sac
