// sac_losses.cu: the CUDA kernels of the SAC losses and their launchers (see sac_losses.h).
// soft_targets runs one thread per row; every loss is one block of kLossThreads threads that
// reduces along a fixed tree (block_sum.cuh, no float atomics), members in order, so the same
// inputs give the same bits. The fused kernels run the same block bodies as the unfused ones.
// Tests: sac_tests --gtest_filter='*Loss*:*SoftTargets*' (skip without a GPU).
#include "sac_losses.h"

#include "block_sum.cuh"
#include "cuda_check.h"

namespace sac {
namespace {

// threads of the single-block loss reductions (a power of two: the tree halves it)
constexpr int kLossThreads = 256;

// ---------------------------------------------------------------------------------------------
// block bodies, shared by the unfused and the fused loss kernels

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

// ---------------------------------------------------------------------------------------------
// kernels: count first, then scalars, then pointers (inputs const), then the bounds guard

// clipped double-Q soft target per row; alpha = exp(log_alpha) read on the device
__global__ void soft_targets_kernel(size_t n, int E, float gamma,
                                    const float* __restrict__ d_log_alpha,
                                    const float* __restrict__ q_target,
                                    const float* __restrict__ logp_next,
                                    const float* __restrict__ reward,
                                    const float* __restrict__ terminated, float* __restrict__ y) {
  size_t r = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n) return;
  float alpha = expf(*d_log_alpha);
  float q_min = q_target[r];
  for (int e = 1; e < E; ++e) q_min = fminf(q_min, q_target[(size_t)e * n + r]);
  y[r] = soft_target(reward[r], gamma, terminated[r], q_min, alpha, logp_next[r]);
}

// loss = sum_e mean_b (q[e] - y)^2 and dq; one block, members in order
__global__ void critic_loss_kernel(int E, int B, const float* __restrict__ q,
                                   const float* __restrict__ y, float* __restrict__ dq,
                                   float* __restrict__ loss) {
  __shared__ float shared[kLossThreads];
  float total = block_critic_loss<kLossThreads>(E, B, q, y, dq, shared);
  if (threadIdx.x == 0) *loss = total;
}

// loss = mean_b (alpha logp - min_e q[e]); dq = -1/B on the first minimising member; one block
__global__ void actor_loss_kernel(int E, int B, const float* __restrict__ q,
                                  const float* __restrict__ logp,
                                  const float* __restrict__ d_log_alpha, float* __restrict__ dq,
                                  float* __restrict__ loss) {
  __shared__ float shared[kLossThreads];
  float sum = block_actor_loss_sum<kLossThreads>(E, B, q, logp, expf(*d_log_alpha), dq, shared);
  if (threadIdx.x == 0) *loss = sum / B;
}

// loss = mean_b -log_alpha (logp + target_entropy), grad = d loss / d log_alpha; one block
__global__ void alpha_loss_kernel(int B, float target_entropy, const float* __restrict__ logp,
                                  const float* __restrict__ d_log_alpha,
                                  float* __restrict__ grad, float* __restrict__ loss) {
  __shared__ float shared[kLossThreads];
  float partial = 0.0f;
  for (int r = threadIdx.x; r < B; r += kLossThreads) partial += logp[r] + target_entropy;
  float mean = block_sum<kLossThreads>(partial, shared) / B;
  if (threadIdx.x == 0) {
    *grad = -mean;
    *loss = -*d_log_alpha * mean;
  }
}

// y = soft targets, then loss = sum_e mean_b (q[e] - y)^2 and dq; one block per seed, which
// moves every pointer to its own rows, critics, alpha and loss
__global__ void critic_loss_soft_targets_kernel(int E, int B, float gamma,
                                                const float* __restrict__ d_log_alpha,
                                                const float* __restrict__ q_target,
                                                const float* __restrict__ logp_next,
                                                const float* __restrict__ reward,
                                                const float* __restrict__ terminated,
                                                const float* __restrict__ q, float* __restrict__ y,
                                                float* __restrict__ dq, float* __restrict__ loss) {
  __shared__ float shared[kLossThreads];
  const size_t s = blockIdx.x, rows = s * B, members = s * E * B;
  d_log_alpha += s;
  q_target += members;
  logp_next += rows;
  reward += rows;
  terminated += rows;
  q += members;
  y += rows;
  dq += members;
  loss += s;
  float alpha = expf(*d_log_alpha);
  for (int r = threadIdx.x; r < B; r += kLossThreads) {
    float q_min = q_target[r];
    for (int e = 1; e < E; ++e) q_min = fminf(q_min, q_target[(size_t)e * B + r]);
    y[r] = soft_target(reward[r], gamma, terminated[r], q_min, alpha, logp_next[r]);
  }
  __syncthreads();  // y complete before the loss reads it
  float total = block_critic_loss<kLossThreads>(E, B, q, y, dq, shared);
  if (threadIdx.x == 0) *loss = total;
}

// actor loss (dq on the first minimising member) and alpha loss; one block per seed
__global__ void actor_alpha_loss_kernel(int E, int B, float target_entropy,
                                        const float* __restrict__ q,
                                        const float* __restrict__ logp,
                                        const float* __restrict__ d_log_alpha,
                                        float* __restrict__ dq, float* __restrict__ actor_loss,
                                        float* __restrict__ alpha_grad,
                                        float* __restrict__ alpha_loss) {
  __shared__ float shared[kLossThreads];
  const size_t s = blockIdx.x, rows = s * B, members = s * E * B;
  q += members;
  logp += rows;
  dq += members;
  float log_alpha = d_log_alpha[s];
  float sum = block_actor_loss_sum<kLossThreads>(E, B, q, logp, expf(log_alpha), dq, shared);
  float partial_entropy = 0.0f;
  for (int r = threadIdx.x; r < B; r += kLossThreads)
    partial_entropy += logp[r] + target_entropy;
  float mean = block_sum<kLossThreads>(partial_entropy, shared) / B;
  if (threadIdx.x == 0) {
    actor_loss[s] = sum / B;
    alpha_grad[s] = -mean;
    alpha_loss[s] = -log_alpha * mean;
  }
}

}  // namespace

void launch_soft_targets(cudaStream_t stream, int E, int B, const float* q_target,
                         const float* logp_next, const float* reward, const float* terminated,
                         float gamma, const float* d_log_alpha, float* y) {
  require(E >= 1 && B >= 0, "soft_targets", "need E >= 1, B >= 0");
  if (B == 0) return;
  require(q_target && logp_next && reward && terminated && d_log_alpha && y, "soft_targets",
          "null pointer");
  linear_kernel(soft_targets_kernel, stream, (size_t)B, E, gamma, d_log_alpha, q_target,
                logp_next, reward, terminated, y);
}

void launch_critic_loss(cudaStream_t stream, int E, int B, const float* q, const float* y,
                        float* dq, float* loss) {
  require(E >= 1 && B >= 0, "critic_loss", "need E >= 1, B >= 0");
  require(loss && (B == 0 || (q && y && dq)), "critic_loss", "null pointer");
  launch(critic_loss_kernel, 1, kLossThreads, 0, stream, E, B, q, y, dq, loss);
}

void launch_actor_loss(cudaStream_t stream, int E, int B, const float* q, const float* logp,
                       const float* d_log_alpha, float* dq, float* loss) {
  require(E >= 1 && B >= 0, "actor_loss", "need E >= 1, B >= 0");
  require(loss && d_log_alpha && (B == 0 || (q && logp && dq)), "actor_loss", "null pointer");
  launch(actor_loss_kernel, 1, kLossThreads, 0, stream, E, B, q, logp, d_log_alpha, dq, loss);
}

void launch_alpha_loss(cudaStream_t stream, int B, const float* logp, const float* d_log_alpha,
                       float target_entropy, float* grad, float* loss) {
  require(B >= 0, "alpha_loss", "need B >= 0");
  require(d_log_alpha && grad && loss && (B == 0 || logp), "alpha_loss", "null pointer");
  launch(alpha_loss_kernel, 1, kLossThreads, 0, stream, B, target_entropy, logp, d_log_alpha,
         grad, loss);
}

void launch_critic_loss_soft_targets(cudaStream_t stream, int S, int C, int B,
                                     const float* q_target, const float* logp_next,
                                     const float* reward, const float* terminated, float gamma,
                                     const float* d_log_alpha, const float* q, float* y,
                                     float* dq, float* loss) {
  require(S >= 1 && C >= 1 && B >= 0, "critic_loss_soft_targets", "need S >= 1, C >= 1, B >= 0");
  require(loss && d_log_alpha && (B == 0 || (q_target && logp_next && reward && terminated && q &&
                                             y && dq)),
          "critic_loss_soft_targets", "null pointer");
  launch(critic_loss_soft_targets_kernel, (unsigned)S, kLossThreads, 0, stream, C, B, gamma,
         d_log_alpha, q_target, logp_next, reward, terminated, q, y, dq, loss);
}

void launch_actor_alpha_loss(cudaStream_t stream, int S, int C, int B, const float* q,
                             const float* logp, const float* d_log_alpha, float target_entropy,
                             float* dq, float* actor_loss, float* alpha_grad,
                             float* alpha_loss) {
  require(S >= 1 && C >= 1 && B >= 1, "actor_alpha_loss", "need S >= 1, C >= 1, B >= 1");
  require(q && logp && d_log_alpha && dq && actor_loss && alpha_grad && alpha_loss,
          "actor_alpha_loss", "null pointer");
  launch(actor_alpha_loss_kernel, (unsigned)S, kLossThreads, 0, stream, C, B, target_entropy, q,
         logp, d_log_alpha, dq, actor_loss, alpha_grad, alpha_loss);
}

}  // namespace sac
