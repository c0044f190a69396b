// tree_sum.h: the CPU side of block_sum.cuh's fixed tree, for the CPU twins that must give the
// CUDA kernels' bits (batch_renorm, quantile_huber): THREADS leaves, leaf t summing items t,
// t + THREADS, ... in order (as thread t of a block does), then the leaves halved pairwise.
#pragma once

namespace sac {

/// The sum of value(i) for i in [0, count) in block_sum's tree of THREADS leaves (a power of two).
template <int THREADS, typename Value>
float tree_sum(int count, Value value) {
  static_assert(THREADS > 0 && (THREADS & (THREADS - 1)) == 0, "THREADS must be a power of two");
  float leaves[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    float partial = 0.0f;
    for (int i = t; i < count; i += THREADS) partial += value(i);
    leaves[t] = partial;
  }
  for (int stride = THREADS / 2; stride > 0; stride >>= 1)
    for (int t = 0; t < stride; ++t) leaves[t] += leaves[t + stride];
  return leaves[0];
}

}  // namespace sac
