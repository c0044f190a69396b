// tanh_gaussian.cpp: the CPU twins of the tanh-Gaussian head (see tanh_gaussian.h), plain
// loops over its SAC_HD bodies; CpuBackend forwards to them.
// Tests: sac_tests --gtest_filter='*TanhGaussian*:*SumMemberColumns*'.
#include "tanh_gaussian.h"

namespace sac {
namespace {

// The head gradient of every row given dL/daction(r, j) = grad_action(r, j); action rows are
// action_ld floats apart.
template <typename GradAction>
void tanh_gaussian_backward_rows(int B, int A, const float* head, const float* eps,
                                 const float* action, int action_ld, GradAction grad_action,
                                 float grad_logp, float log_std_min, float log_std_max,
                                 float* grad_head) {
  for (int r = 0; r < B; ++r) {
    const float* h = head + (size_t)r * 2 * A;
    float* g = grad_head + (size_t)r * 2 * A;
    for (int j = 0; j < A; ++j) {
      size_t i = (size_t)r * A + j;
      float raw = h[A + j];
      float log_std = squash_log_std(raw, log_std_min, log_std_max);
      float grad_log_std;
      g[j] = tanh_gaussian_backward(action[(size_t)r * action_ld + j], log_std, eps[i],
                                    grad_action(r, j), grad_logp, &grad_log_std);
      g[A + j] = grad_log_std * squash_log_std_grad(raw, log_std_min, log_std_max);
    }
  }
}

}  // namespace

void tanh_gaussian_sample_cpu(int S, int B, int A, const float* head, const float* eps,
                              float log_std_min, float log_std_max, float* action, int action_ld,
                              int copies, float* logp) {
  for (int i = 0; i < S * B; ++i) {
    const int s = i / B, r = i % B;
    const float* h = head + (size_t)i * 2 * A;
    float* first = action + ((size_t)s * copies * B + r) * action_ld;
    float lp = 0.0f;
    for (int j = 0; j < A; ++j) {
      float log_std = squash_log_std(h[A + j], log_std_min, log_std_max);
      first[j] = tanh_gaussian_sample(h[j], log_std, eps[(size_t)i * A + j], &lp);
    }
    // the same action into the seed's other critic-input copies
    for (int c = 1; c < copies; ++c)
      for (int j = 0; j < A; ++j) first[(size_t)c * B * action_ld + j] = first[j];
    logp[i] = lp;
  }
}

void tanh_gaussian_mean_cpu(int B, int A, const float* head, float* action) {
  for (int r = 0; r < B; ++r)
    for (int j = 0; j < A; ++j) action[(size_t)r * A + j] = tanhf(head[(size_t)r * 2 * A + j]);
}

void tanh_gaussian_backward_cpu(int B, int A, const float* head, const float* eps,
                                const float* action, const float* grad_action,
                                const float* d_log_alpha, float logp_scale, float log_std_min,
                                float log_std_max, float* grad_head) {
  tanh_gaussian_backward_rows(
      B, A, head, eps, action, A,
      [&](int r, int j) { return grad_action ? grad_action[(size_t)r * A + j] : 0.0f; },
      logp_scale * expf(*d_log_alpha), log_std_min, log_std_max, grad_head);
}

void tanh_gaussian_backward_critics_cpu(int S, int B, int A, const float* head, const float* eps,
                                        const float* action, int action_ld,
                                        size_t action_seed_stride, int C, int width, int skip,
                                        const float* dX, const float* d_log_alpha,
                                        float logp_scale, float log_std_min, float log_std_max,
                                        float* grad_head) {
  for (int s = 0; s < S; ++s) {
    // the sum over this seed's own critics of sum_member_columns, in member order
    const float* dx = dX + (size_t)s * C * B * width;
    auto member_sum = [&](int r, int j) { return member_column_sum(dx, C, B, width, skip, r, j); };
    const size_t rows = (size_t)s * B * 2 * A;
    tanh_gaussian_backward_rows(B, A, head + rows, eps + (size_t)s * B * A,
                                action + s * action_seed_stride, action_ld, member_sum,
                                logp_scale * expf(d_log_alpha[s]), log_std_min, log_std_max,
                                grad_head + rows);
  }
}

void sum_member_columns_cpu(int E, int B, int width, int skip, int A, const float* dX,
                            float* grad_action) {
  for (int r = 0; r < B; ++r)
    for (int j = 0; j < A; ++j)
      grad_action[(size_t)r * A + j] = member_column_sum(dX, E, B, width, skip, r, j);
}

}  // namespace sac
