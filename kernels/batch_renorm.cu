// batch_renorm.cu: the CUDA kernels of batch renormalisation and their launchers (see
// batch_renorm.h): one block of kBatchRenormThreads per member and feature, its rows summed in
// block_sum's fixed tree (no float atomics), with the same SAC_HD bodies as the CPU twin, so
// both backends give the same bits. A feature's rows lie F floats apart (reads are strided).
// Tests: sac_tests --gtest_filter='*BatchRenorm*' (skip without a GPU; sim:* on the simulator).
#include "batch_renorm.h"

#include "block_sum.cuh"
#include "cuda_check.h"

namespace sac {
namespace {

// y and stats of member e = blockIdx / F, feature f = blockIdx % F; training also updates the
// running statistics (thread 0, after every thread has read them: block_sum's barriers lie
// between)
__global__ void batch_renorm_forward_kernel(int B, int F, bool training, BatchRenormConfig config,
                                            const int64_t* __restrict__ d_steps,
                                            const float* __restrict__ x,
                                            const float* __restrict__ scale,
                                            const float* __restrict__ bias,
                                            float* __restrict__ running_mean,
                                            float* __restrict__ running_var,
                                            float* __restrict__ stats, float* __restrict__ y) {
  __shared__ float shared[kBatchRenormThreads];
  const int t = threadIdx.x;
  const size_t feature = blockIdx.x, column = (feature / F) * (size_t)B * F + feature % F;
  const float* xs = x + column;
  float stat[kBatchRenormStats] = {running_mean[feature], running_var[feature], 1.0f, 0.0f};
  if (training) {
    float partial = 0.0f;
    for (int r = t; r < B; r += kBatchRenormThreads) partial += xs[(size_t)r * F];
    const float mean = block_sum<kBatchRenormThreads>(partial, shared) / (float)B;
    partial = 0.0f;
    for (int r = t; r < B; r += kBatchRenormThreads) {
      const float dev = xs[(size_t)r * F] - mean;
      partial += mul_unfused(dev, dev);
    }
    const float v = block_sum<kBatchRenormThreads>(partial, shared) / (float)(B - 1);
    if (*d_steps > config.warmup_steps)
      renorm_correction(mean, v, stat[0], stat[1], config, &stat[2], &stat[3]);
    if (t == 0) {
      running_mean[feature] = renorm_running_update(stat[0], mean, config.momentum);
      running_var[feature] = renorm_running_update(stat[1], v, config.momentum);
    }
    stat[0] = mean;
    stat[1] = v;
  }
  if (t == 0)
    for (int k = 0; k < kBatchRenormStats; ++k) stats[feature * kBatchRenormStats + k] = stat[k];
  float c, divisor;
  renorm_shift_and_divisor(stat, config.eps, &c, &divisor);
  for (int r = t; r < B; r += kBatchRenormThreads)
    y[column + (size_t)r * F] = renorm_output(xs[(size_t)r * F], c, divisor, scale[feature],
                                              bias[feature]);
}

// dx, dscale and dbias of member e = blockIdx / F, feature f = blockIdx % F
__global__ void batch_renorm_backward_kernel(int B, int F, bool training, float eps,
                                             const float* __restrict__ x,
                                             const float* __restrict__ scale,
                                             const float* __restrict__ stats,
                                             const float* __restrict__ dy,
                                             float* __restrict__ dx, float* __restrict__ dscale,
                                             float* __restrict__ dbias) {
  __shared__ float shared[kBatchRenormThreads];
  const int t = threadIdx.x;
  const size_t feature = blockIdx.x, column = (feature / F) * (size_t)B * F + feature % F;
  const float* stat = stats + feature * kBatchRenormStats;
  float c, divisor;
  renorm_shift_and_divisor(stat, eps, &c, &divisor);
  float partial_g = 0.0f, partial_gx = 0.0f;
  for (int r = t; r < B; r += kBatchRenormThreads) {
    const size_t i = column + (size_t)r * F;
    partial_g += dy[i];
    partial_gx += mul_unfused(dy[i], (x[i] - c) / divisor);
  }
  const float g_sum = block_sum<kBatchRenormThreads>(partial_g, shared);
  const float gx_sum = block_sum<kBatchRenormThreads>(partial_gx, shared);
  if (t == 0) {
    dscale[feature] = gx_sum;
    dbias[feature] = g_sum;
  }
  for (int r = t; r < B; r += kBatchRenormThreads) {
    const size_t i = column + (size_t)r * F;
    dx[i] = renorm_grad_input(training, B, x[i], dy[i], scale[feature], stat, divisor, g_sum,
                              gx_sum);
  }
}

}  // namespace

void launch_batch_renorm_forward(cudaStream_t stream, int E, int B, int F, bool training,
                                 const BatchRenormConfig& config, const int64_t* d_steps,
                                 const float* x, const float* scale, const float* bias,
                                 float* running_mean, float* running_var, float* stats, float* y) {
  check_batch_renorm_shape("batch_renorm_forward", E, B, F, training, config);
  require(x && scale && bias && running_mean && running_var && stats && y && (d_steps || !training),
          "batch_renorm_forward", "null pointer");
  launch(batch_renorm_forward_kernel, dim3((unsigned)(E * F)), dim3(kBatchRenormThreads), 0,
         stream, B, F, training, config, d_steps, x, scale, bias, running_mean, running_var, stats,
         y);
}

void launch_batch_renorm_backward(cudaStream_t stream, int E, int B, int F, bool training,
                                  float eps, const float* x, const float* scale,
                                  const float* stats, const float* dy, float* dx, float* dscale,
                                  float* dbias) {
  BatchRenormConfig config;
  config.eps = eps;
  check_batch_renorm_shape("batch_renorm_backward", E, B, F, training, config);
  require(x && scale && stats && dy && dx && dscale && dbias, "batch_renorm_backward",
          "null pointer");
  launch(batch_renorm_backward_kernel, dim3((unsigned)(E * F)), dim3(kBatchRenormThreads), 0,
         stream, B, F, training, eps, x, scale, stats, dy, dx, dscale, dbias);
}

}  // namespace sac
