// fused_update_ops.h: the CUDA launchers of the update's fused ops (Backend's
// adam_polyak, adam_multi, sample_minibatch). Each is one launch on `stream` and runs the same
// SAC_HD bodies (sac_math.h, philox.h) as its CPU twin in cpu_backend.cpp; tests/test_cuda_backend.cpp
// compares them. Only .cu files include this header.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "sac/backend.h"

namespace sac {

void launch_sample_minibatch(cudaStream_t stream, int B, int O, int A, const RingView& ring,
                             const MinibatchDraws& draws, const MinibatchLayout& out);

}  // namespace sac
