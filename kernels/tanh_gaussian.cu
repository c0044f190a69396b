// tanh_gaussian.cu: the CUDA kernels of the tanh-Gaussian head and their launchers (see
// tanh_gaussian.h): the same SAC_HD bodies as the CPU twins in tanh_gaussian.cpp, one thread
// per row (sample: the log-density sums the dimensions in order) or per (row, dimension).
// Tests: sac_tests --gtest_filter='*TanhGaussian*:*SumMemberColumns*' (skip without a GPU).
#include "tanh_gaussian.h"

#include "cuda_check.h"

namespace sac {
namespace {

// one thread per row: the log-density sums the action dimensions in order, as the CPU does
// (n = S x B rows; row r of seed s goes to each of its `copies` critic-input copies)
__global__ void tanh_gaussian_sample_kernel(size_t n, int B, int A, int action_ld, int copies,
                                            float log_std_min, float log_std_max,
                                            const float* __restrict__ head,
                                            const float* __restrict__ eps,
                                            float* __restrict__ action, float* __restrict__ logp) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const size_t s = i / B, r = i % B;
  const float* h = head + i * 2 * A;
  float* first = action + (s * copies * B + r) * action_ld;
  float lp = 0.0f;
  for (int j = 0; j < A; ++j) {
    float log_std = squash_log_std(h[A + j], log_std_min, log_std_max);
    float a = tanh_gaussian_sample(h[j], log_std, eps[i * A + j], &lp);
    for (int c = 0; c < copies; ++c) first[(size_t)c * B * action_ld + j] = a;
  }
  logp[i] = lp;
}

// action = tanh(mean), one thread per (row, dimension)
__global__ void tanh_gaussian_mean_kernel(size_t n, int A, const float* __restrict__ head,
                                          float* __restrict__ action) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t r = i / A;
  int j = (int)(i % A);
  action[i] = tanhf(head[r * 2 * A + j]);
}

// gradient into the head row [mean, raw log-std], one thread per (row, dimension);
// dL/dlogp = logp_scale * alpha with alpha read on the device. grad_action may be null (zero).
// head and grad_head may alias: a thread reads only its raw log-std before writing its outputs.
__global__ void tanh_gaussian_backward_kernel(size_t n, int A, float logp_scale,
                                              float log_std_min, float log_std_max,
                                              const float* __restrict__ d_log_alpha,
                                              const float* head, const float* __restrict__ eps,
                                              const float* __restrict__ action,
                                              const float* __restrict__ grad_action,
                                              float* grad_head) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t r = i / A;
  int j = (int)(i % A);
  float grad_logp = logp_scale * expf(*d_log_alpha);
  float raw = head[r * 2 * A + A + j];
  float log_std = squash_log_std(raw, log_std_min, log_std_max);
  float grad_log_std;
  float grad_mean = tanh_gaussian_backward(action[i], log_std, eps[i],
                                           grad_action ? grad_action[i] : 0.0f, grad_logp,
                                           &grad_log_std);
  grad_head[r * 2 * A + j] = grad_mean;
  grad_head[r * 2 * A + A + j] =
      grad_log_std * squash_log_std_grad(raw, log_std_min, log_std_max);
}

// head gradient per (row, action dimension), dL/daction summed over the critics in order
// (n = S x B x A; seed s sums its own C critics and uses its own alpha)
__global__ void tanh_gaussian_backward_critics_kernel(
    size_t n, int A, int action_ld, size_t action_seed_stride, int C, int B, int width, int skip,
    float logp_scale, float log_std_min, float log_std_max, const float* __restrict__ d_log_alpha,
    const float* __restrict__ head, const float* __restrict__ eps,
    const float* __restrict__ action, const float* __restrict__ dX,
    float* __restrict__ grad_head) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t r = i / A;  // row over all seeds
  int j = (int)(i % A);
  size_t s = r / B, rs = r % B;
  float grad_action = member_column_sum(dX + s * C * B * width, C, B, width, skip, rs, j);
  float grad_logp = logp_scale * expf(d_log_alpha[s]);
  float raw = head[r * 2 * A + A + j];
  float log_std = squash_log_std(raw, log_std_min, log_std_max);
  float grad_log_std;
  grad_head[r * 2 * A + j] =
      tanh_gaussian_backward(action[s * action_seed_stride + rs * action_ld + j], log_std, eps[i],
                             grad_action, grad_logp, &grad_log_std);
  grad_head[r * 2 * A + A + j] =
      grad_log_std * squash_log_std_grad(raw, log_std_min, log_std_max);
}

// grad_action[b] = sum_e dX[e][b][skip:skip+A], members in order
__global__ void sum_member_columns_kernel(size_t n, int E, int B, int width, int skip, int A,
                                          const float* __restrict__ dX,
                                          float* __restrict__ grad_action) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t r = i / A;
  int j = (int)(i % A);
  grad_action[i] = member_column_sum(dX, E, B, width, skip, r, j);
}

}  // namespace

void launch_tanh_gaussian_sample(cudaStream_t stream, int S, int B, int A, const float* head,
                                 const float* eps, float log_std_min, float log_std_max,
                                 float* action, int action_ld, int copies, float* logp) {
  require(S >= 1 && B >= 0 && A >= 1 && action_ld >= A && copies >= 1, "tanh_gaussian_sample",
          "need S >= 1, B >= 0, A >= 1, action_ld >= A, copies >= 1");
  if (B == 0) return;
  require(head && eps && action && logp, "tanh_gaussian_sample", "null pointer");
  linear_kernel(tanh_gaussian_sample_kernel, stream, (size_t)S * B, B, A, action_ld, copies,
                log_std_min, log_std_max, head, eps, action, logp);
}

void launch_tanh_gaussian_mean(cudaStream_t stream, int B, int A, const float* head,
                               float* action) {
  require(B >= 0 && A >= 1, "tanh_gaussian_mean", "need B >= 0, A >= 1");
  if (B == 0) return;
  require(head && action, "tanh_gaussian_mean", "null pointer");
  linear_kernel(tanh_gaussian_mean_kernel, stream, (size_t)B * A, A, head, action);
}

void launch_tanh_gaussian_backward(cudaStream_t stream, int B, int A, const float* head,
                                   const float* eps, const float* action,
                                   const float* grad_action, const float* d_log_alpha,
                                   float logp_scale, float log_std_min, float log_std_max,
                                   float* grad_head) {
  require(B >= 0 && A >= 1, "tanh_gaussian_backward", "need B >= 0, A >= 1");
  if (B == 0) return;
  require(head && eps && action && d_log_alpha && grad_head, "tanh_gaussian_backward",
          "null pointer (only grad_action may be null)");
  linear_kernel(tanh_gaussian_backward_kernel, stream, (size_t)B * A, A, logp_scale,
                log_std_min, log_std_max, d_log_alpha, head, eps, action, grad_action,
                grad_head);
}

void launch_tanh_gaussian_backward_critics(cudaStream_t stream, int S, int B, int A,
                                           const float* head, const float* eps,
                                           const float* action, int action_ld,
                                           size_t action_seed_stride, int C, int width, int skip,
                                           const float* dX, const float* d_log_alpha,
                                           float logp_scale, float log_std_min,
                                           float log_std_max, float* grad_head) {
  require(S >= 1 && B >= 0 && A >= 1 && C >= 1 && action_ld >= A && skip >= 0 &&
              skip + A <= width,
          "tanh_gaussian_backward_critics",
          "need S >= 1, B >= 0, A >= 1, C >= 1, action_ld >= A, 0 <= skip, skip + A <= width");
  if (B == 0) return;
  require(head && eps && action && dX && d_log_alpha && grad_head,
          "tanh_gaussian_backward_critics", "null pointer");
  linear_kernel(tanh_gaussian_backward_critics_kernel, stream, (size_t)S * B * A, A, action_ld,
                action_seed_stride, C, B, width, skip, logp_scale, log_std_min, log_std_max,
                d_log_alpha, head, eps, action, dX, grad_head);
}

void launch_sum_member_columns(cudaStream_t stream, int E, int B, int width, int skip, int A,
                               const float* dX, float* grad_action) {
  require(E >= 1 && B >= 0 && A >= 0 && skip >= 0 && skip + A <= width, "sum_member_columns",
          "need E >= 1, B >= 0, 0 <= skip, skip + A <= width");
  size_t n = (size_t)B * A;
  if (n == 0) return;
  require(dX && grad_action, "sum_member_columns", "null pointer");
  linear_kernel(sum_member_columns_kernel, stream, n, E, B, width, skip, A, dX, grad_action);
}

}  // namespace sac
