// quantile_huber.cpp: the CPU twin of TQC's quantile Huber loss (see quantile_huber.h):
// members, rows and quantiles in order, with the SAC_HD bodies and the fixed trees of the CUDA
// kernels, so both backends give the same bits; CpuBackend forwards to it.
// Tests: sac_tests --gtest_filter='*QuantileHuber*'.
#include "quantile_huber.h"

#include "tree_sum.h"

namespace sac {

void quantile_huber_loss_cpu(int E, int B, int N, int M, int K, float kappa, const float* current,
                             const float* target, float* dcurrent, float* row_loss, float* loss) {
  check_quantile_huber_shape(E, B, N, M, K, kappa);
  const int quantiles = N * M;
  const float count = (float)((double)B * quantiles * K), per_row = (float)((double)quantiles * K);
  for (size_t row = 0; row < (size_t)E * B; ++row) {
    const float* z = current + row * quantiles;
    const float* t = target + row * K;
    float* dz = dcurrent + row * quantiles;
    const float sum = tree_sum<kQuantileThreads>(quantiles, [&](int q) {
      float slopes;
      const float atoms = quantile_atom_sum(t, K, z[q], quantile_fraction(q % M, M), kappa, &slopes);
      dz[q] = quantile_grad(slopes, count);
      return atoms;
    });
    row_loss[row] = sum / per_row;
  }
  for (int e = 0; e < E; ++e)
    loss[e] = tree_sum<kQuantileThreads>(B, [&](int b) { return row_loss[(size_t)e * B + b]; }) /
              (float)B;
}

}  // namespace sac
