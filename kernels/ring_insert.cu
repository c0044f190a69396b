// ring_insert.cu: the CUDA launcher of Backend::ring_insert (ring_insert.h). Two kernels in
// stream order: ring_insert_kernel places each kept row at head + (kept rows before it), one
// block per row (the rows before it are counted by the block, so no scan buffer is needed: n is
// the env count of one batch step); ring_advance_kernel then moves head and size on the device.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "ring_insert.h"

namespace sac {
namespace {

constexpr int kThreads = 128;

__global__ void ring_insert_kernel(int n, int O, int A, const float* __restrict__ obs,
                                   const float* __restrict__ action, StepTransitions step,
                                   RingStorage ring) {
  const int i = blockIdx.x;
  if (i >= n || step.keep[i] == 0.0f) return;
  // the kept rows before row i: a block reduction of the keep flags in a fixed order
  __shared__ int partial[kThreads];
  int count = 0;
  for (int j = threadIdx.x; j < i; j += blockDim.x) count += step.keep[j] != 0.0f;
  partial[threadIdx.x] = count;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const size_t r = (size_t)((ring.d_head_size[0] + partial[0]) % ring.capacity);
  for (int k = threadIdx.x; k < O; k += blockDim.x) {
    ring.obs[r * O + k] = obs[(size_t)i * O + k];
    ring.next_obs[r * O + k] = step.next_obs[(size_t)i * O + k];
  }
  for (int k = threadIdx.x; k < A; k += blockDim.x) ring.action[r * A + k] = action[(size_t)i * A + k];
  if (threadIdx.x == 0) {
    ring.reward[r] = step.reward[i];
    ring.terminated[r] = step.terminated[i];
  }
}

__global__ void ring_advance_kernel(int n, const float* __restrict__ keep, RingStorage ring) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  int64_t kept = 0;
  for (int i = 0; i < n; ++i) kept += keep[i] != 0.0f;
  const int64_t size = ring.d_head_size[1] + kept;
  ring.d_head_size[0] = (ring.d_head_size[0] + kept) % ring.capacity;
  ring.d_head_size[1] = size < ring.capacity ? size : ring.capacity;
}

}  // namespace

void launch_ring_insert(cudaStream_t stream, int n, int O, int A, const float* obs,
                        const float* action, const StepTransitions& step,
                        const RingStorage& ring) {
  if (n <= 0) return;
  if (n > ring.capacity)
    throw std::invalid_argument("ring_insert: " + std::to_string(n) +
                                " rows exceed the ring's capacity " +
                                std::to_string(ring.capacity));
  launch(ring_insert_kernel, n, kThreads, 0, stream, n, O, A, obs, action, step, ring);
  launch(ring_advance_kernel, 1, 1, 0, stream, n, step.keep, ring);
}

}  // namespace sac
