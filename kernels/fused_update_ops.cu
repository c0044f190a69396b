// fused_update_ops.cu: see fused_update_ops.h. Reductions run in one block along a fixed tree
// (no float atomics), so the same inputs give the same bits.
#include "fused_update_ops.h"

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "sac/philox.h"

namespace sac {
namespace {


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
