// sac_losses.cpp: the CPU twins of the SAC losses (see sac_losses.h), plain loops summing in a
// fixed order; CpuBackend forwards to them.
// Tests: sac_tests --gtest_filter='*Loss*:*SoftTargets*'.
#include "sac_losses.h"

#include <cmath>
#include <cstddef>

namespace sac {

void soft_targets_cpu(int E, int B, const float* q_target, const float* logp_next,
                      const float* reward, const float* terminated, float gamma,
                      const float* d_log_alpha, float* y) {
  float alpha = expf(*d_log_alpha);
  for (int r = 0; r < B; ++r) {
    float q_min = q_target[r];
    for (int e = 1; e < E; ++e) q_min = fminf(q_min, q_target[(size_t)e * B + r]);
    y[r] = soft_target(reward[r], gamma, terminated[r], q_min, alpha, logp_next[r]);
  }
}

void critic_loss_cpu(int E, int B, const float* q, const float* y, float* dq, float* loss) {
  float total = 0.0f;
  for (int e = 0; e < E; ++e) {
    float sum = 0.0f;
    for (int r = 0; r < B; ++r) {
      float diff = q[(size_t)e * B + r] - y[r];
      sum += diff * diff;
      dq[(size_t)e * B + r] = 2.0f * diff / B;
    }
    total += sum / B;
  }
  *loss = total;
}

void actor_loss_cpu(int E, int B, const float* q, const float* logp, const float* d_log_alpha,
                    float* dq, float* loss) {
  float alpha = expf(*d_log_alpha);
  float sum = 0.0f;
  for (int r = 0; r < B; ++r) {
    int arg = 0;
    for (int e = 1; e < E; ++e)
      if (q[(size_t)e * B + r] < q[(size_t)arg * B + r]) arg = e;
    for (int e = 0; e < E; ++e) dq[(size_t)e * B + r] = e == arg ? -1.0f / B : 0.0f;
    sum += alpha * logp[r] - q[(size_t)arg * B + r];
  }
  *loss = sum / B;
}

void alpha_loss_cpu(int B, const float* logp, const float* d_log_alpha, float target_entropy,
                    float* grad, float* loss) {
  float sum = 0.0f;
  for (int r = 0; r < B; ++r) sum += logp[r] + target_entropy;
  float mean = sum / B;
  *grad = -mean;
  *loss = -*d_log_alpha * mean;
}

void critic_loss_soft_targets_cpu(int S, int C, int B, const float* q_target,
                                  const float* logp_next, const float* reward,
                                  const float* terminated, float gamma, const float* d_log_alpha,
                                  const float* q, float* y, float* dq, float* loss) {
  // each seed reads only its own rows, critics and alpha
  for (int s = 0; s < S; ++s) {
    const size_t rows = (size_t)s * B, members = (size_t)s * C * B;
    soft_targets_cpu(C, B, q_target + members, logp_next + rows, reward + rows, terminated + rows,
                     gamma, d_log_alpha + s, y + rows);
    critic_loss_cpu(C, B, q + members, y + rows, dq + members, loss + s);
  }
}

void actor_alpha_loss_cpu(int S, int C, int B, const float* q, const float* logp,
                          const float* d_log_alpha, float target_entropy, float* dq,
                          float* actor_loss, float* alpha_grad, float* alpha_loss) {
  for (int s = 0; s < S; ++s) {
    const size_t rows = (size_t)s * B, members = (size_t)s * C * B;
    actor_loss_cpu(C, B, q + members, logp + rows, d_log_alpha + s, dq + members, actor_loss + s);
    alpha_loss_cpu(B, logp + rows, d_log_alpha + s, target_entropy, alpha_grad + s,
                   alpha_loss + s);
  }
}

}  // namespace sac
