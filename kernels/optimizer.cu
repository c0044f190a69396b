// optimizer.cu: the CUDA kernels of the optimiser and target updates and their launchers (see
// optimizer.h): the same SAC_HD bodies as the CPU twins in optimizer.cpp, one thread per
// element. Adam's bias corrections come from the device step count, computed once per block.
// Tests: sac_tests --gtest_filter='*Adam*:*Polyak*:*Optimiser*' (skip without a GPU).
#include "optimizer.h"

#include <string>

#include "cuda_check.h"

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

// Adam on up to kMaxAdamTensors tensors, each with its own lr, over one flat index space
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

// target = tau * online + (1 - tau) * target
__global__ void polyak_kernel(size_t n, float tau, float* __restrict__ target,
                              const float* __restrict__ online) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  target[i] = polyak(target[i], online[i], tau);
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

void launch_polyak(cudaStream_t stream, size_t n, float* target, const float* online, float tau) {
  if (n == 0) return;
  require(target && online, "polyak", "null pointer");
  linear_kernel(polyak_kernel, stream, n, tau, target, online);
}

}  // namespace sac
