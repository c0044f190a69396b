// sac_losses.h: the SAC losses and their gradients (Backend's soft_targets, critic_loss,
// actor_loss, alpha_loss and the fused critic_loss_soft_targets and actor_alpha_loss). The
// soft-target bodies below are SAC_HD, written once for both backends; the CPU twins
// (sac_losses.cpp) are plain loops, the CUDA kernels (sac_losses.cu, launchers declared below
// for .cu files only) reduce in one block along a fixed tree. Either way the same inputs give
// the same bits (no float atomics).
// Tests: sac_tests --gtest_filter='*Loss*:*SoftTargets*:*SoftPolicyIteration*' (the CUDA ones
// skip without a GPU); timings: sac_bench_kernels.
#pragma once
#include "cuda_source.h"

#include "sac/hd.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

// soft state value of one action sample: Q - alpha log pi (the soft Bellman backup's inner term).
SAC_HD float soft_value(float q, float alpha, float logp) { return q - alpha * logp; }

// clipped double-Q soft target y = r + gamma (1 - terminated) (min_i Q'_i - alpha logpi').
SAC_HD float soft_target(float reward, float gamma, float terminated, float q_min, float alpha,
                         float logp) {
  return reward + gamma * (1.0f - terminated) * soft_value(q_min, alpha, logp);
}

// ---- CPU twins (the reference; arguments as the Backend ops of the same name; alpha is
// exp(*d_log_alpha))

/// Backend::soft_targets: y = r + gamma (1 - terminated) (min_e q_target[e] - alpha logp_next).
void soft_targets_cpu(int E, int B, const float* q_target, const float* logp_next,
                      const float* reward, const float* terminated, float gamma,
                      const float* d_log_alpha, float* y);
/// Backend::critic_loss: loss = sum_e mean_b (q[e] - y)^2 and dq.
void critic_loss_cpu(int E, int B, const float* q, const float* y, float* dq, float* loss);
/// Backend::actor_loss: loss = mean_b (alpha logp - min_e q[e]); dq = -1/B on each row's first
/// minimising member.
void actor_loss_cpu(int E, int B, const float* q, const float* logp, const float* d_log_alpha,
                    float* dq, float* loss);
/// Backend::alpha_loss: loss = mean_b -log_alpha (logp + target_entropy), grad = d loss /
/// d log_alpha.
void alpha_loss_cpu(int B, const float* logp, const float* d_log_alpha, float target_entropy,
                    float* grad, float* loss);
/// Backend::critic_loss_soft_targets: per seed, soft_targets_cpu then critic_loss_cpu.
void critic_loss_soft_targets_cpu(int S, int C, int B, const float* q_target, const float* logp_next,
                                  const float* reward, const float* terminated, float gamma,
                                  const float* d_log_alpha, const float* q, float* y, float* dq,
                                  float* loss);
/// Backend::actor_alpha_loss: per seed, actor_loss_cpu then alpha_loss_cpu.
void actor_alpha_loss_cpu(int S, int C, int B, const float* q, const float* logp,
                          const float* d_log_alpha, float target_entropy, float* dq,
                          float* actor_loss, float* alpha_grad, float* alpha_loss);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: each checks its arguments (std::invalid_argument), then one launch on
// `stream`

void launch_soft_targets(cudaStream_t stream, int E, int B, const float* q_target,
                         const float* logp_next, const float* reward, const float* terminated,
                         float gamma, const float* d_log_alpha, float* y);
void launch_critic_loss(cudaStream_t stream, int E, int B, const float* q, const float* y,
                        float* dq, float* loss);
void launch_actor_loss(cudaStream_t stream, int E, int B, const float* q, const float* logp,
                       const float* d_log_alpha, float* dq, float* loss);
void launch_alpha_loss(cudaStream_t stream, int B, const float* logp, const float* d_log_alpha,
                       float target_entropy, float* grad, float* loss);
void launch_critic_loss_soft_targets(cudaStream_t stream, int S, int C, int B, const float* q_target,
                                     const float* logp_next, const float* reward,
                                     const float* terminated, float gamma,
                                     const float* d_log_alpha, const float* q, float* y,
                                     float* dq, float* loss);
void launch_actor_alpha_loss(cudaStream_t stream, int S, int C, int B, const float* q, const float* logp,
                             const float* d_log_alpha, float target_entropy, float* dq,
                             float* actor_loss, float* alpha_grad, float* alpha_loss);
#endif

}  // namespace sac
