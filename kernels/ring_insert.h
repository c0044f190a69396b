// ring_insert.h: Backend::ring_insert, the step loop's append of one batch step to the replay
// ring (backend.h): the kept rows, in order, at the head, wrapping; head and size advance where
// the ring lives. The CPU twin is ring_insert_cpu; the CUDA launcher (ring_insert.cu, declared
// below for .cu files only) is one kernel that places the rows and one that advances head and
// size, both in stream order.
// Tested by tests/test_ring_insert.cpp (CPU against ReplayBuffer::insert_host, CUDA against CPU).
#pragma once
#include "cuda_source.h"
#include "sac/backend.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

/// The CPU twin: plain loops over host memory.
void ring_insert_cpu(int n, int O, int A, const float* obs, const float* action,
                     const StepTransitions& step, const RingStorage& ring);

#ifdef SAC_CUDA_SOURCE
/// The CUDA launcher: the kept rows into the ring, then head and size advanced; two launches
/// on `stream`, nothing read back.
void launch_ring_insert(cudaStream_t stream, int n, int O, int A, const float* obs,
                        const float* action, const StepTransitions& step,
                        const RingStorage& ring);
#endif

}  // namespace sac
