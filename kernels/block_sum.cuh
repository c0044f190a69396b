// block_sum.cuh: the fixed-tree sum over one thread block that every loss reduction of the CUDA
// backend uses (no float atomics: the same inputs give the same bits), and the loss bodies the
// unfused and the fused loss kernels share. Only .cu files include it.
#pragma once

namespace sac {

/// The sum of v over the block in a fixed tree; every thread gets it. `shared` holds THREADS
/// floats, and the block has THREADS threads (a power of two).
template <int THREADS>
__device__ float block_sum(float v, float* shared) {
  static_assert(THREADS > 0 && (THREADS & (THREADS - 1)) == 0, "THREADS must be a power of two");
  int t = threadIdx.x;
  shared[t] = v;
  __syncthreads();
  for (int stride = THREADS / 2; stride > 0; stride >>= 1) {
    if (t < stride) shared[t] += shared[t + stride];
    __syncthreads();
  }
  float total = shared[0];
  __syncthreads();  // shared is reused by the next call
  return total;
}

/// The critic loss sum_e mean_b (q[e] - y)^2 (every thread gets it) and dq = d loss / dq, by a
/// block of THREADS threads, members in order.
template <int THREADS>
__device__ float block_critic_loss(int E, int B, const float* __restrict__ q,
                                   const float* __restrict__ y, float* __restrict__ dq,
                                   float* shared) {
  float total = 0.0f;
  for (int e = 0; e < E; ++e) {
    float partial = 0.0f;
    for (int r = threadIdx.x; r < B; r += THREADS) {
      size_t i = (size_t)e * B + r;
      float diff = q[i] - y[r];
      partial += diff * diff;
      dq[i] = 2.0f * diff / B;
    }
    total += block_sum<THREADS>(partial, shared) / B;
  }
  return total;
}

/// The actor loss's sum over rows of alpha logp - min_e q[e] (every thread gets it; the loss is
/// it over B) and dq = -1/B on each row's first minimising member, by a block of THREADS threads.
template <int THREADS>
__device__ float block_actor_loss_sum(int E, int B, const float* __restrict__ q,
                                      const float* __restrict__ logp, float alpha,
                                      float* __restrict__ dq, float* shared) {
  float partial = 0.0f;
  for (int r = threadIdx.x; r < B; r += THREADS) {
    int arg = 0;
    for (int e = 1; e < E; ++e)
      if (q[(size_t)e * B + r] < q[(size_t)arg * B + r]) arg = e;
    for (int e = 0; e < E; ++e) dq[(size_t)e * B + r] = e == arg ? -1.0f / B : 0.0f;
    partial += alpha * logp[r] - q[(size_t)arg * B + r];
  }
  return block_sum<THREADS>(partial, shared);
}

}  // namespace sac
