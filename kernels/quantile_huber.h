// quantile_huber.h: TQC's quantile Huber loss and its gradient (Backend's quantile_huber_loss;
// Dabney et al. 2018 for QR-DQN, Kuznetsov et al. 2020 for TQC, as sb3-contrib's
// quantile_huber_loss reduces it). Per member e and row b: N critics x M predicted quantiles
// z[n][m] against K target atoms t[k], u = t[k] - z[n][m], tau_m = (m + 0.5) / M and
//   rho(u) = |tau_m - 1{u < 0}| * huber_kappa(u) / kappa,
//   huber_kappa(u) = u^2 / 2 where |u| <= kappa, else kappa (|u| - kappa / 2);
// the loss of a member is the mean of rho over its B rows, N x M quantiles and K atoms (with
// kappa 1 exactly sb3-contrib's), and the gradient with respect to each predicted quantile is
// -sum_k |tau_m - 1{u < 0}| huber_kappa'(u) / kappa / (B N M K); the targets get none (TQC
// detaches them). The indicator is not differentiated (as the reference detaches it).
// Sums are fixed trees (block_sum.cuh, tree_sum.h): each quantile's K terms in order, a row's
// quantiles over kQuantileThreads leaves, a member's rows likewise; no float atomics, and the CPU
// twin (quantile_huber.cpp) gives the CUDA kernels' (quantile_huber.cu: one block per row, then
// one per member) bits.
// Tests: sac_tests --gtest_filter='*QuantileHuber*' (the CUDA one skips without a GPU; sim:*
// runs it on the CUDA simulator); timings: sac_bench_kernels --filter quantile_huber.
#pragma once
#include "cuda_source.h"
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "sac/hd.h"
#include "unfused_mul.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

/// Leaves of the fixed trees over a row's quantiles and a member's rows (CUDA block threads).
constexpr int kQuantileThreads = 128;

// the quantile fraction of predicted quantile m of M: (m + 0.5) / M
SAC_HD float quantile_fraction(int m, int M) { return ((float)m + 0.5f) / (float)M; }

// rho(u) for fraction tau; *slope receives d rho / d u (the indicator held)
SAC_HD float quantile_huber_term(float u, float tau, float kappa, float* slope) {
  const float weight = fabsf(tau - (u < 0.0f ? 1.0f : 0.0f));
  const float size = fabsf(u);
  float huber, huber_slope;
  if (size <= kappa) {
    huber = mul_unfused(mul_unfused(u, u), 0.5f);
    huber_slope = u;
  } else {
    huber = mul_unfused(kappa, size - mul_unfused(0.5f, kappa));
    huber_slope = u < 0.0f ? -kappa : kappa;
  }
  *slope = mul_unfused(weight, huber_slope) / kappa;
  return mul_unfused(weight, huber) / kappa;
}

// the sum over the K atoms of rho(t[k] - z) for one predicted quantile z of fraction tau, in
// atom order; *slope_sum receives the sum of d rho / d u
SAC_HD float quantile_atom_sum(const float* target, int K, float z, float tau, float kappa,
                               float* slope_sum) {
  float loss = 0.0f, slopes = 0.0f;
  for (int k = 0; k < K; ++k) {
    float slope;
    loss += quantile_huber_term(target[k] - z, tau, kappa, &slope);
    slopes += slope;
  }
  *slope_sum = slopes;
  return loss;
}

// d loss / d z from its slope sum: -slopes / (B N M K), the count as a float
SAC_HD float quantile_grad(float slope_sum, float count) { return -(slope_sum / count); }

/// Throws std::invalid_argument naming quantile_huber_loss and the values unless E, B, N, M
/// and K are >= 1, N * M <= 65536 and kappa > 0 (both backends check alike).
inline void check_quantile_huber_shape(int E, int B, int N, int M, int K, float kappa) {
  if (E < 1 || B < 1 || N < 1 || M < 1 || K < 1 || (long long)N * M > 65536 || !(kappa > 0.0f))
    throw std::invalid_argument(
        "quantile_huber_loss: need E, B, N, M, K >= 1, N*M <= 65536 and kappa > 0, got E=" +
        std::to_string(E) + " B=" + std::to_string(B) + " N=" + std::to_string(N) +
        " M=" + std::to_string(M) + " K=" + std::to_string(K) + " kappa=" +
        std::to_string(kappa));
}

// ---- CPU twin (the reference; arguments as Backend::quantile_huber_loss)

/// Backend::quantile_huber_loss on the CPU, summing in the kernels' trees.
void quantile_huber_loss_cpu(int E, int B, int N, int M, int K, float kappa, const float* current,
                             const float* target, float* dcurrent, float* row_loss, float* loss);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launcher: checks its arguments (std::invalid_argument), then two launches on `stream`

/// Backend::quantile_huber_loss: one block per row (dcurrent, row_loss), then one per member.
void launch_quantile_huber_loss(cudaStream_t stream, int E, int B, int N, int M, int K,
                                float kappa, const float* current, const float* target,
                                float* dcurrent, float* row_loss, float* loss);
#endif

}  // namespace sac
