// quantile_huber.cu: the CUDA kernels of TQC's quantile Huber loss and their launcher (see
// quantile_huber.h): one block of kQuantileThreads per row, a thread per predicted quantile
// (its K atoms in order) and block_sum's tree over the row; then one block per member over its
// rows. The same SAC_HD bodies as the CPU twin: both backends give the same bits.
// Tests: sac_tests --gtest_filter='*QuantileHuber*' (skip without a GPU; sim:* on the simulator).
#include "quantile_huber.h"

#include "block_sum.cuh"
#include "cuda_check.h"

namespace sac {
namespace {

// dcurrent and row_loss of row blockIdx (of E x B)
__global__ void quantile_huber_rows_kernel(int M, int quantiles, int K, float kappa, float count,
                                           float per_row, const float* __restrict__ current,
                                           const float* __restrict__ target,
                                           float* __restrict__ dcurrent,
                                           float* __restrict__ row_loss) {
  __shared__ float shared[kQuantileThreads];
  const size_t row = blockIdx.x;
  const float* z = current + row * quantiles;
  const float* t = target + row * K;
  float partial = 0.0f;
  for (int q = threadIdx.x; q < quantiles; q += kQuantileThreads) {
    float slopes;
    partial += quantile_atom_sum(t, K, z[q], quantile_fraction(q % M, M), kappa, &slopes);
    dcurrent[row * quantiles + q] = quantile_grad(slopes, count);
  }
  const float sum = block_sum<kQuantileThreads>(partial, shared);
  if (threadIdx.x == 0) row_loss[row] = sum / per_row;
}

// loss of member blockIdx: the mean of its B row losses
__global__ void quantile_huber_members_kernel(int B, const float* __restrict__ row_loss,
                                              float* __restrict__ loss) {
  __shared__ float shared[kQuantileThreads];
  const float* rows = row_loss + (size_t)blockIdx.x * B;
  float partial = 0.0f;
  for (int b = threadIdx.x; b < B; b += kQuantileThreads) partial += rows[b];
  const float sum = block_sum<kQuantileThreads>(partial, shared);
  if (threadIdx.x == 0) loss[blockIdx.x] = sum / (float)B;
}

}  // namespace

void launch_quantile_huber_loss(cudaStream_t stream, int E, int B, int N, int M, int K,
                                float kappa, const float* current, const float* target,
                                float* dcurrent, float* row_loss, float* loss) {
  check_quantile_huber_shape(E, B, N, M, K, kappa);
  require(current && target && dcurrent && row_loss && loss, "quantile_huber_loss",
          "null pointer");
  const int quantiles = N * M;
  const float count = (float)((double)B * quantiles * K), per_row = (float)((double)quantiles * K);
  launch(quantile_huber_rows_kernel, dim3((unsigned)((size_t)E * B)), dim3(kQuantileThreads), 0,
         stream, M, quantiles, K, kappa, count, per_row, current, target, dcurrent, row_loss);
  launch(quantile_huber_members_kernel, dim3((unsigned)E), dim3(kQuantileThreads), 0, stream, B,
         row_loss, loss);
}

}  // namespace sac
