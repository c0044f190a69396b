// fused_update_ops.cu: see fused_update_ops.h. Reductions run in one block along a fixed tree
// (no float atomics), so the same inputs give the same bits.
#include "fused_update_ops.h"

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "sac/philox.h"
#include "sac_math.h"

namespace sac {
namespace {

constexpr int kMaxAdamTensors = 4;  // adam_multi's tensors per launch

// Adam on the online parameters, then (when target is not null) the target follows:
// target = tau online + (1 - tau) target. The bias corrections come from the device step count,
// computed once per block.
__global__ void adam_polyak_kernel(size_t n, float lr, float beta1, float beta2, float eps,
                                   float tau, const int64_t* __restrict__ d_step,
                                   float* __restrict__ online, const float* __restrict__ grads,
                                   float* __restrict__ m, float* __restrict__ v,
                                   float* target) {
  __shared__ AdamScalars scalars;
  if (threadIdx.x == 0) scalars = adam_scalars(lr, beta1, beta2, (long long)*d_step);
  __syncthreads();
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  adam_step(online + i, m + i, v + i, grads[i], beta1, beta2, eps, scalars.step_size,
            scalars.sqrt_bias_correction2);
  if (target) target[i] = polyak(target[i], online[i], tau);
}

struct AdamTensors {
  AdamTensor t[kMaxAdamTensors];
  size_t begin[kMaxAdamTensors + 1];  // element ranges of the tensors in one flat index space
  int count;
};

__global__ void adam_multi_kernel(size_t n, float beta1, float beta2, float eps,
                                  const int64_t* __restrict__ d_step, AdamTensors tensors) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int k = 0;
  while (k + 1 < tensors.count && i >= tensors.begin[k + 1]) ++k;
  const AdamTensor& t = tensors.t[k];
  size_t j = i - tensors.begin[k];
  AdamScalars s = adam_scalars(t.lr, beta1, beta2, (long long)*d_step);
  adam_step(t.params + j, t.m + j, t.v + j, t.grads[j], beta1, beta2, eps, s.step_size,
            s.sqrt_bias_correction2);
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

void launch_adam_polyak(cudaStream_t stream, size_t n, float* online, const float* grads,
                        float* m, float* v, float lr, float beta1, float beta2, float eps,
                        const int64_t* d_step, float* target, float tau) {
  if (n == 0) return;
  require(online && grads && m && v && d_step, "adam_polyak", "null pointer");
  linear_kernel(adam_polyak_kernel, stream, n, lr, beta1, beta2, eps, tau, d_step, online, grads,
                m, v, target);
}

void launch_adam_multi(cudaStream_t stream, int count, const AdamTensor* tensors, float beta1,
                       float beta2, float eps, const int64_t* d_step) {
  require(count >= 1 && count <= kMaxAdamTensors, "adam_multi",
          "need 1 <= count <= " + std::to_string(kMaxAdamTensors));
  require(tensors && d_step, "adam_multi", "null pointer");
  AdamTensors all{};
  all.count = count;
  all.begin[0] = 0;
  for (int k = 0; k < count; ++k) {
    const AdamTensor& t = tensors[k];
    require(t.n == 0 || (t.params && t.grads && t.m && t.v), "adam_multi", "null pointer");
    all.t[k] = t;
    all.begin[k + 1] = all.begin[k] + t.n;
  }
  linear_kernel(adam_multi_kernel, stream, all.begin[count], beta1, beta2, eps, d_step, all);
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
