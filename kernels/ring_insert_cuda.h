// ring_insert_cuda.h: the CUDA launcher of Backend::ring_insert (ring_insert.cu); the CPU twin
// is in ring_insert.h. Only .cu files include this header.
#pragma once
#include <cuda_runtime.h>

#include "sac/backend.h"

namespace sac {

/// The kept rows of one batch step into the ring, then head and size advanced: two launches
/// on `stream`, nothing read back.
void launch_ring_insert(cudaStream_t stream, int n, int O, int A, const float* obs,
                        const float* action, const StepTransitions& step,
                        const RingStorage& ring);

}  // namespace sac
