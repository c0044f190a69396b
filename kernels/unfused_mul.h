// unfused_mul.h: a product rounded on its own, for the ops whose CPU twin and CUDA kernel must
// give the same bits (batch_renorm, quantile_huber). The host build compiles with
// -ffp-contract=off; nvcc contracts a * b + c into one FMA unless the product is __fmul_rn.
#pragma once
#include "sac/hd.h"

namespace sac {

/// a * b, rounded before any add that follows (never fused into an FMA on the device).
SAC_HD float mul_unfused(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

}  // namespace sac
