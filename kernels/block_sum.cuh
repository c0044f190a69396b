// block_sum.cuh: the fixed-tree sum over one thread block that every loss reduction of the CUDA
// backend uses (sac_losses.cu; no float atomics: the same inputs give the same bits). Only .cu
// files include it.
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

}  // namespace sac
